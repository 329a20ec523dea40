// Dense products y = x W^T over `count` rows of x, on weights packed into panels.
//
// Packing: W (rows x cols, row-major) is cut into panels of P rows (P = 16 floats or 8
// doubles, two AVX registers); panel p stores, for every column c, the P weights
// W[p*P + 0 .. p*P + P-1, c] contiguously (zero-padded past the last row). A micro-kernel
// keeps a 4 x P block of y in 8 registers and streams the panel once per 4 rows of x.
// Time rows are blocked so a block of x stays in cache while every panel passes over it.
// This file holds the portable and AVX2 versions and the run-time choice; gemm_avx512.c the
// AVX-512 one.
#include "kernels_internal.h"

#include <stdlib.h>
#include <string.h>

#define PF 16
#define PD 8
#define TB 64

size_t rnnk_packed_size_f32(int rows, int cols) { return (size_t)((rows + PF - 1) / PF) * PF * (size_t)cols; }
size_t rnnk_packed_size_f64(int rows, int cols) { return (size_t)((rows + PD - 1) / PD) * PD * (size_t)cols; }

#define PACK(T, P)                                                                  \
    int panels = (rows + P - 1) / P;                                                \
    for (int p = 0; p < panels; p++) {                                              \
        T *dst = packed + (size_t)p * P * cols;                                     \
        for (int c = 0; c < cols; c++)                                              \
            for (int i = 0; i < P; i++) {                                           \
                int r = p * P + i;                                                  \
                dst[(size_t)c * P + i] = r < rows ? w[(size_t)r * cols + c] : 0;    \
            }                                                                       \
    }

void rnnk_pack_f32(const float *w, int rows, int cols, float *packed) { PACK(float, PF) }
void rnnk_pack_f64(const double *w, int rows, int cols, double *packed) { PACK(double, PD) }

// The portable kernel: the same loop structure; compilers vectorize the inner P loop.
#define GEMM_BODY(T, P)                                                                         \
    for (int t0 = 0; t0 < count; t0 += TB) {                                                    \
        int t1 = t0 + TB < count ? t0 + TB : count;                                             \
        for (int p = panel_begin; p < panel_end; p++) {                                         \
            const T *panel = packed + (size_t)p * P * cols;                                     \
            int width = rows - p * P < P ? rows - p * P : P;                                    \
            int t = t0;                                                                         \
            for (; t + 4 <= t1; t += 4) {                                                       \
                T a0[P] = {0}, a1[P] = {0}, a2[P] = {0}, a3[P] = {0};                           \
                const T *x0 = x + (size_t)t * ldx, *x1 = x0 + ldx, *x2 = x1 + ldx, *x3 = x2 + ldx; \
                for (int c = 0; c < cols; c++) {                                                \
                    const T *wc = panel + (size_t)c * P;                                        \
                    T v0 = x0[c], v1 = x1[c], v2 = x2[c], v3 = x3[c];                           \
                    for (int i = 0; i < P; i++) {                                               \
                        a0[i] += v0 * wc[i]; a1[i] += v1 * wc[i];                               \
                        a2[i] += v2 * wc[i]; a3[i] += v3 * wc[i];                               \
                    }                                                                           \
                }                                                                               \
                T *y0 = y + (size_t)t * ldy + p * P;                                            \
                for (int i = 0; i < width; i++) {                                               \
                    y0[i] = a0[i]; y0[ldy + i] = a1[i]; y0[2 * ldy + i] = a2[i]; y0[3 * ldy + i] = a3[i]; \
                }                                                                               \
            }                                                                                   \
            for (; t < t1; t++) {                                                               \
                /* One row: four accumulator sets over consecutive columns, so the      */     \
                /* multiply-adds form independent chains instead of one long one.       */     \
                T a0[P] = {0}, a1[P] = {0}, a2[P] = {0}, a3[P] = {0};                           \
                const T *x0 = x + (size_t)t * ldx;                                              \
                int c = 0;                                                                      \
                for (; c + 4 <= cols; c += 4) {                                                 \
                    const T *wc = panel + (size_t)c * P;                                        \
                    T v0 = x0[c], v1 = x0[c + 1], v2 = x0[c + 2], v3 = x0[c + 3];               \
                    for (int i = 0; i < P; i++) {                                               \
                        a0[i] += v0 * wc[i]; a1[i] += v1 * wc[P + i];                           \
                        a2[i] += v2 * wc[2 * P + i]; a3[i] += v3 * wc[3 * P + i];               \
                    }                                                                           \
                }                                                                               \
                for (; c < cols; c++) {                                                         \
                    const T *wc = panel + (size_t)c * P;                                        \
                    T v0 = x0[c];                                                               \
                    for (int i = 0; i < P; i++) a0[i] += v0 * wc[i];                            \
                }                                                                               \
                T *y0 = y + (size_t)t * ldy + p * P;                                            \
                for (int i = 0; i < width; i++) y0[i] = (a0[i] + a1[i]) + (a2[i] + a3[i]);      \
            }                                                                                   \
        }                                                                                       \
    }

#if RNNK_X86_DISPATCH
__attribute__((target("avx2,fma"))) static void gemm_f32_avx2(const float *packed, int rows, int cols, const float *x, int ldx, float *y, int ldy, int count, int panel_begin, int panel_end) { GEMM_BODY(float, PF) }
__attribute__((target("avx2,fma"))) static void gemm_f64_avx2(const double *packed, int rows, int cols, const double *x, int ldx, double *y, int ldy, int count, int panel_begin, int panel_end) { GEMM_BODY(double, PD) }
#endif

static void gemm_f32_generic(const float *packed, int rows, int cols, const float *x, int ldx, float *y, int ldy, int count, int panel_begin, int panel_end) { GEMM_BODY(float, PF) }
static void gemm_f64_generic(const double *packed, int rows, int cols, const double *x, int ldx, double *y, int ldy, int count, int panel_begin, int panel_end) { GEMM_BODY(double, PD) }

static enum rnnk_isa probe_hardware(void) {
    enum rnnk_isa isa = RNNK_ISA_GENERIC;
#if RNNK_X86_DISPATCH
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) isa = RNNK_ISA_AVX2;
    if (isa == RNNK_ISA_AVX2 && __builtin_cpu_supports("avx512f")) isa = RNNK_ISA_AVX512;
#endif
    return isa;
}

enum rnnk_isa rnnk_hardware_isa(void) {
    static _Atomic int cached = -1;
    int isa = cached;
    if (isa < 0) cached = isa = (int)probe_hardware();
    return (enum rnnk_isa)isa;
}

enum rnnk_isa rnnk_detect_isa(void) {
    static _Atomic int cached = -1;
    int isa = cached;
    if (isa < 0) {
        const char *cap = getenv("RNNK_ISA");
        enum rnnk_isa requested = !cap ? RNNK_ISA_AVX512
                                : strcmp(cap, "generic") == 0 ? RNNK_ISA_GENERIC
                                : strcmp(cap, "avx2") == 0 ? RNNK_ISA_AVX2 : RNNK_ISA_AVX512;
        cached = isa = (int)rnnk_usable_isa(requested);
    }
    return (enum rnnk_isa)isa;
}

const char *rnnk_isa_name(enum rnnk_isa isa) {
    switch (isa) {
    case RNNK_ISA_AVX512: return "avx512";
    case RNNK_ISA_AVX2: return "avx2";
    default: return "generic";
    }
}

int rnnk_panels_f32(int rows) { return (rows + PF - 1) / PF; }
int rnnk_panel_rows_f32(void) { return PF; }
int rnnk_panels_f64(int rows) { return (rows + PD - 1) / PD; }
int rnnk_panel_rows_f64(void) { return PD; }

void rnnk_gemm_f32_isa(enum rnnk_isa isa, const float *packed, int rows, int cols, const float *x, int ldx, float *y, int ldy, int count, int panel_begin, int panel_end) {
    switch (rnnk_usable_isa(isa)) {
#if RNNK_X86_DISPATCH
    case RNNK_ISA_AVX512: rnnk_gemm_f32_avx512(packed, rows, cols, x, ldx, y, ldy, count, panel_begin, panel_end); return;
    case RNNK_ISA_AVX2: gemm_f32_avx2(packed, rows, cols, x, ldx, y, ldy, count, panel_begin, panel_end); return;
#endif
    default: gemm_f32_generic(packed, rows, cols, x, ldx, y, ldy, count, panel_begin, panel_end); return;
    }
}

void rnnk_gemm_f64_isa(enum rnnk_isa isa, const double *packed, int rows, int cols, const double *x, int ldx, double *y, int ldy, int count, int panel_begin, int panel_end) {
    switch (rnnk_usable_isa(isa)) {
#if RNNK_X86_DISPATCH
    case RNNK_ISA_AVX512: rnnk_gemm_f64_avx512(packed, rows, cols, x, ldx, y, ldy, count, panel_begin, panel_end); return;
    case RNNK_ISA_AVX2: gemm_f64_avx2(packed, rows, cols, x, ldx, y, ldy, count, panel_begin, panel_end); return;
#endif
    default: gemm_f64_generic(packed, rows, cols, x, ldx, y, ldy, count, panel_begin, panel_end); return;
    }
}

void rnnk_gemm_f32(const float *packed, int rows, int cols, const float *x, int ldx, float *y, int ldy, int count, int panel_begin, int panel_end) {
    rnnk_gemm_f32_isa(rnnk_detect_isa(), packed, rows, cols, x, ldx, y, ldy, count, panel_begin, panel_end);
}

void rnnk_gemm_f64(const double *packed, int rows, int cols, const double *x, int ldx, double *y, int ldy, int count, int panel_begin, int panel_end) {
    rnnk_gemm_f64_isa(rnnk_detect_isa(), packed, rows, cols, x, ldx, y, ldy, count, panel_begin, panel_end);
}

void rnnk_prefetch(const void *p, size_t bytes) {
    const char *c = (const char *)p;
    for (size_t at = 0; at < bytes; at += 64) __builtin_prefetch(c + at, 0, 3);
}
