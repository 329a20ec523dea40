// A team of helper threads for products too small for a thread pool's wake-up cost: a
// matrix-vector product inside a recurrence takes a few microseconds, about what waking a
// sleeping thread costs. Helpers spin (with pause) between jobs for a short while and sleep
// on a condition variable after that, so a run of back-to-back products pays a cache-line
// handoff per product (about a microsecond in all, measured on a 1 MiB product split in two)
// and an idle process burns no CPU.
//
// One caller owns the team at a time; a caller that finds it busy gets 0 back and runs the
// work itself. Each helper always works on the same part of a split, so with the same
// matrix every step each core keeps its share of the weights in its own cache.
//
// Besides products, the team runs any body given as a function (rnnk_team_run) on every
// part at once; inside it the parts meet at rnnk_team_barrier. A whole recurrence (every
// step: each core's product rows and element-wise columns, then a barrier) runs as one such
// job, so a step pays a barrier or two (a cache line each way) instead of a handoff per
// product.
#include "kernels_internal.h"

#if RNNK_X86_DISPATCH || defined(__aarch64__)
#include <pthread.h>
#include <stdatomic.h>
#if RNNK_X86_DISPATCH
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() __asm__ __volatile__("yield")
#endif

#define MAX_HELPERS 7
#define SPINS_BEFORE_SLEEP 20000 // pauses (tens of cycles to ~140 each, by CPU)

struct gemm_job {
    int f64, rows, cols, ldx, ldy, count, panels, parts;
    const void *packed, *x;
    void *y;
    rnnk_team_body body; // when set, the job is body(context, part, parts) instead of a product
    void *context;
    int wait;            // wait for a busy team instead of giving up
};

static struct {
    pthread_mutex_t owner;                  // held by the caller whose job is running
    pthread_mutex_t sleep_lock;
    pthread_cond_t wake;
    _Atomic unsigned long generation;       // bumped once per job
    _Atomic int sleepers;
    _Atomic int remaining;                  // helpers that have not finished the current job
    int helpers;                            // started so far
    unsigned long start_generation[MAX_HELPERS + 1]; // the generation each helper starts from
    struct gemm_job job;
} team = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

// The barrier of a running body job, on cache lines of its own: parts that arrive count
// themselves in; the last one resets the count and starts the next phase.
static struct {
    _Alignas(64) _Atomic int arrived;
    _Alignas(64) _Atomic unsigned phase;
    int parts;
} barrier;

/// Requests every cache line of x at once: x was usually just written by the caller's core,
/// and fetching its lines one by one as the kernel reaches them costs a cross-core round trip
/// each (about as long as the whole product for a 256-wide state).
static void prefetch_x(const struct gemm_job *j) {
    size_t size = (size_t)j->f64 ? sizeof(double) : sizeof(float);
    if ((size_t)j->count * j->cols * size > 64 * 1024) return;
    const char *x = j->x;
    for (int t = 0; t < j->count; t++) {
        const char *row = x + (size_t)t * j->ldx * size;
        for (size_t at = 0; at < (size_t)j->cols * size; at += 64) __builtin_prefetch(row + at);
    }
}

static void run_part(const struct gemm_job *j, int part) {
    if (part >= j->parts) return;
    if (j->body) { j->body(j->context, part, j->parts); return; }
    int begin = (int)((long)j->panels * part / j->parts), end = (int)((long)j->panels * (part + 1) / j->parts);
    if (begin >= end) return;
    if (part > 0) prefetch_x(j);
    if (j->f64) rnnk_gemm_f64(j->packed, j->rows, j->cols, j->x, j->ldx, j->y, j->ldy, j->count, begin, end);
    else rnnk_gemm_f32(j->packed, j->rows, j->cols, j->x, j->ldx, j->y, j->ldy, j->count, begin, end);
}

static void *helper_main(void *arg) {
    int part = (int)(long)arg;
    // Not the current generation: the creator may have posted the first job already.
    unsigned long seen = team.start_generation[part];
    for (;;) {
        unsigned long g;
        int spins = 0;
        while ((g = atomic_load(&team.generation)) == seen) {
            if (++spins < SPINS_BEFORE_SLEEP) { CPU_RELAX(); continue; }
            // Announce the sleep before the last look at the generation; a caller bumps the
            // generation before it looks at `sleepers`, so one of the two sees the other.
            pthread_mutex_lock(&team.sleep_lock);
            atomic_fetch_add(&team.sleepers, 1);
            while (atomic_load(&team.generation) == seen) pthread_cond_wait(&team.wake, &team.sleep_lock);
            atomic_fetch_sub(&team.sleepers, 1);
            pthread_mutex_unlock(&team.sleep_lock);
            spins = 0;
        }
        seen = g;
        run_part(&team.job, part);
        atomic_fetch_sub(&team.remaining, 1);
    }
    return NULL;
}

/// Starts helpers until there are `wanted` (called with `owner` held).
static void start_helpers(int wanted) {
    while (team.helpers < wanted) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        team.start_generation[team.helpers + 1] = atomic_load(&team.generation);
        int failed = pthread_create(&thread, &attr, helper_main, (void *)(long)(team.helpers + 1));
        pthread_attr_destroy(&attr);
        if (failed) return;
        team.helpers++;
    }
}

/// Runs `job` on the caller and the helpers. A product may run on fewer parts than asked
/// (as many as there are helpers for); a body gets exactly its parts or does not run.
static int run_team(struct gemm_job job) {
    if (job.parts < 2) return 0;
    if (job.wait) pthread_mutex_lock(&team.owner);
    else if (pthread_mutex_trylock(&team.owner) != 0) return 0;
    start_helpers(job.parts - 1 < MAX_HELPERS ? job.parts - 1 : MAX_HELPERS);
    int usable = team.helpers < 1 || (job.body && job.parts > team.helpers + 1) ? 0 : 1;
    if (!usable) { pthread_mutex_unlock(&team.owner); return 0; }
    if (job.parts > team.helpers + 1) job.parts = team.helpers + 1;
    barrier.parts = job.parts;
    team.job = job;
    atomic_store(&team.remaining, team.helpers);
    atomic_fetch_add(&team.generation, 1);
    if (atomic_load(&team.sleepers) > 0) {
        pthread_mutex_lock(&team.sleep_lock);
        pthread_cond_broadcast(&team.wake);
        pthread_mutex_unlock(&team.sleep_lock);
    }
    run_part(&team.job, 0);
    while (atomic_load(&team.remaining) > 0) CPU_RELAX();
    pthread_mutex_unlock(&team.owner);
    return 1;
}
void rnnk_team_barrier(void) {
    unsigned phase = atomic_load(&barrier.phase);
    if (atomic_fetch_add(&barrier.arrived, 1) == barrier.parts - 1) {
        atomic_store(&barrier.arrived, 0);
        atomic_fetch_add(&barrier.phase, 1);
        return;
    }
    while (atomic_load(&barrier.phase) == phase) CPU_RELAX();
}
#else
struct gemm_job {
    int f64, rows, cols, ldx, ldy, count, panels, parts;
    const void *packed, *x;
    void *y;
    rnnk_team_body body;
    void *context;
    int wait;
};
static int run_team(struct gemm_job job) { (void)job; return 0; }
void rnnk_team_barrier(void) {}
#endif

int rnnk_team_run(int parts, rnnk_team_body body, void *context, int wait) {
    struct gemm_job job = {0};
    job.parts = parts;
    job.body = body;
    job.context = context;
    job.wait = wait;
    return run_team(job);
}

int rnnk_team_gemm_f32(int threads, const float *packed, int rows, int cols, const float *x, int ldx, float *y, int ldy, int count) {
    struct gemm_job job = {0, rows, cols, ldx, ldy, count, rnnk_panels_f32(rows), threads, packed, x, y, NULL, NULL, 0};
    return run_team(job);
}

int rnnk_team_gemm_f64(int threads, const double *packed, int rows, int cols, const double *x, int ldx, double *y, int ldy, int count) {
    struct gemm_job job = {1, rows, cols, ldx, ldy, count, rnnk_panels_f64(rows), threads, packed, x, y, NULL, NULL, 0};
    return run_team(job);
}
