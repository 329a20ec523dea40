// Memory for packed weights. A language model's step streams every weight from memory once
// per token (mamba-130m: 522 MB); on 4 KiB pages that is a TLB miss every 4 KiB, and the
// hardware prefetchers stop at every page boundary. Large weight blocks are therefore fresh
// anonymous mappings aligned to 2 MiB and offered to the kernel for transparent huge pages
// (Linux's MADV_HUGEPAGE, a hint that does nothing where huge pages are off) before anything
// touches them. Fresh, because malloc may hand back heap memory already backed by 4 KiB
// pages, which then stays on them.
#define _GNU_SOURCE
#include "kernels_internal.h"

#include <stdint.h>
#include <stdlib.h>
#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#define HUGE_PAGES 1
#else
#define HUGE_PAGES 0
#endif

#define HUGE_PAGE ((size_t)2 << 20)
// Below this a block gains little from huge pages and a mapping of its own.
#define HUGE_MINIMUM ((size_t)4 << 20)

#if HUGE_PAGES
static size_t mapped_length(size_t bytes) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (bytes + page - 1) / page * page;
}
#endif

void *rnnk_alloc_weights(size_t bytes) {
#if HUGE_PAGES
    if (bytes >= HUGE_MINIMUM && bytes <= SIZE_MAX / 2) {
        size_t length = mapped_length(bytes), span = length + HUGE_PAGE;
        char *base = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED) return NULL;
        // Keep the 2 MiB-aligned part; unmap the slack before and after it.
        char *p = (char *)(((uintptr_t)base + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
        if (p > base) munmap(base, (size_t)(p - base));
        size_t tail = (size_t)(base + span - (p + length));
        if (tail > 0) munmap(p + length, tail);
#if defined(MADV_HUGEPAGE)
        (void)madvise(p, length, MADV_HUGEPAGE);
#endif
        return p;
    }
#endif
    return malloc(bytes > 0 ? bytes : 1);
}

void rnnk_free_weights(void *p, size_t bytes) {
    if (!p) return;
#if HUGE_PAGES
    if (bytes >= HUGE_MINIMUM && bytes <= SIZE_MAX / 2) {
        munmap(p, mapped_length(bytes));
        return;
    }
#endif
    free(p);
}
