// AVX-512 dense products on the same packed panels as kernels.c (16 floats or 8 doubles per
// panel row: exactly one 512-bit register), chosen at run time when the CPU has AVX-512F.
//
// Blocking, after BLIS: the columns (the reduction) are cut into KC-wide blocks and the rows
// of x into MC-row blocks; for each block a group of NP panels (KC x NP x 16 weights, about
// 32 KiB, kept in L1) passes over the MC rows of x (in L2) in micro-tiles of MR rows. A
// micro-tile keeps its MR x NP accumulators in registers (at most 24 of the 32) and does
// MR x NP fused multiply-adds per column from NP weight loads and MR broadcasts. The last
// panel of a matrix whose rows are not a multiple of the panel width is stored through a
// mask. Few rows of x (matrix-vector products, lockstep batches) take wide panel groups
// so that several independent accumulator chains hide the FMA latency.
#include "kernels_internal.h"

#if RNNK_X86_DISPATCH
#include <immintrin.h>

#define KC 256
#define MC 48
#define TARGET __attribute__((target("avx512f,fma")))
#define INLINE static inline __attribute__((always_inline, target("avx512f,fma")))
// The loops over the tile's rows and panels must unroll fully so that the accumulators live
// in registers; SwiftPM builds C at -O2, where clang does not do that on its own.
// The loop over the columns must not unroll: clang -O2 unrolls it twice on its own, which
// made a matrix-vector product from L2 (512 x 256, a W3 LSTM step's share of a core) take
// 4.1-4.3 us instead of 3.2-3.3 us (measured side by side; products of 4 or more rows of x
// took the same time either way).
#if defined(__clang__)
#define UNROLL _Pragma("clang loop unroll(full)")
#define NO_UNROLL _Pragma("clang loop unroll(disable)")
#else
#define UNROLL
#define NO_UNROLL
#endif

// One micro-tile: y[m][n-th panel] (+)= sum_{c in [c0, c1)} x[m][c] * panel_n[c][0 .. P-1].
#define DEFINE_TILE(NAME, T, V, P, MASK, ZERO, LOADU, SET1, FMADD, ADD, MASKZ_LOADU, MASK_STOREU, FULL) \
    INLINE void NAME(int MR, int NP, const T *panel, size_t pstride, const T *x, int ldx, T *y, int ldy, \
                     int c0, int c1, int accumulate, MASK lastmask, int lastn) {                        \
        V acc[12][4];                                                                                   \
        UNROLL for (int m = 0; m < MR; m++)                                                             \
            UNROLL for (int n = 0; n < NP; n++) acc[m][n] = ZERO();                                     \
        const T *wp = panel + (size_t)c0 * P;                                                           \
        NO_UNROLL for (int c = c0; c < c1; c++, wp += P) {                                              \
            V w[4];                                                                                     \
            UNROLL for (int n = 0; n < NP; n++) w[n] = LOADU(wp + n * pstride);                         \
            UNROLL for (int m = 0; m < MR; m++) {                                                       \
                V xv = SET1(x[(size_t)m * ldx + c]);                                                    \
                UNROLL for (int n = 0; n < NP; n++) acc[m][n] = FMADD(xv, w[n], acc[m][n]);             \
            }                                                                                           \
        }                                                                                               \
        UNROLL for (int m = 0; m < MR; m++)                                                             \
            UNROLL for (int n = 0; n < NP; n++) {                                                       \
                T *yp = y + (size_t)m * ldy + n * P;                                                    \
                MASK k = n == lastn ? lastmask : (MASK)FULL;                                            \
                V v = acc[m][n];                                                                        \
                if (accumulate) v = ADD(v, MASKZ_LOADU(k, yp));                                         \
                MASK_STOREU(yp, k, v);                                                                  \
            }                                                                                           \
    }

DEFINE_TILE(tile_f32, float, __m512, 16, __mmask16, _mm512_setzero_ps, _mm512_loadu_ps, _mm512_set1_ps,
            _mm512_fmadd_ps, _mm512_add_ps, _mm512_maskz_loadu_ps, _mm512_mask_storeu_ps, 0xFFFF)
DEFINE_TILE(tile_f64, double, __m512d, 8, __mmask8, _mm512_setzero_pd, _mm512_loadu_pd, _mm512_set1_pd,
            _mm512_fmadd_pd, _mm512_add_pd, _mm512_maskz_loadu_pd, _mm512_mask_storeu_pd, 0xFF)

// A matrix-vector product (one row of x) over weights streamed from memory: each panel in one
// pass over all its columns, with four accumulators on consecutive columns, so a core's share
// of the weights streams in memory order (one stream, which the prefetchers follow) and the
// multiply-adds form four independent chains. On mamba-130m's matrices on huge pages, two
// cores: 11.5 ms a token against 12.5-13.4 ms for the blocked loop nest below. From L2
// neither wins everywhere (512 x 256: 2.6 us against the nest's 3.0; 768 x 256: 4.6 against
// 4.3), so shares that fit in a core's L2 keep the nest that W3's recurrences are tuned on.
#define GEMV_BYTES ((size_t)1 << 20)
#define DEFINE_GEMV(NAME, T, V, P, MASK, ZERO, LOADU, SET1, FMADD, ADD, MASK_STOREU)                      \
    TARGET static void NAME(const T *packed, int rows, int cols, const T *x, T *y, int panel_begin, int panel_end) { \
        for (int p = panel_begin; p < panel_end; p++) {                                                 \
            const T *w = packed + (size_t)p * P * cols;                                                 \
            V a0 = ZERO(), a1 = ZERO(), a2 = ZERO(), a3 = ZERO();                                       \
            int c = 0;                                                                                  \
            NO_UNROLL for (; c + 4 <= cols; c += 4, w += 4 * P) {                                       \
                a0 = FMADD(SET1(x[c]), LOADU(w), a0);                                                   \
                a1 = FMADD(SET1(x[c + 1]), LOADU(w + P), a1);                                           \
                a2 = FMADD(SET1(x[c + 2]), LOADU(w + 2 * P), a2);                                       \
                a3 = FMADD(SET1(x[c + 3]), LOADU(w + 3 * P), a3);                                       \
            }                                                                                           \
            for (; c < cols; c++, w += P) a0 = FMADD(SET1(x[c]), LOADU(w), a0);                         \
            int width = rows - p * P < P ? rows - p * P : P;                                            \
            MASK_STOREU(y + (size_t)p * P, (MASK)((1u << width) - 1), ADD(ADD(a0, a1), ADD(a2, a3)));   \
        }                                                                                               \
    }

DEFINE_GEMV(gemv_f32, float, __m512, 16, __mmask16, _mm512_setzero_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_fmadd_ps,
            _mm512_add_ps, _mm512_mask_storeu_ps)
DEFINE_GEMV(gemv_f64, double, __m512d, 8, __mmask8, _mm512_setzero_pd, _mm512_loadu_pd, _mm512_set1_pd, _mm512_fmadd_pd,
            _mm512_add_pd, _mm512_mask_storeu_pd)

// Tiles for a run-time MR (1 ... 12) and NP (1, 2 or 4), each a fully unrolled instance.
#define TILE_CASE(TILE, M, N) case M: TILE(M, N, panel, pstride, x, ldx, y, ldy, c0, c1, accumulate, mask, lastn); return;
#define TILE_CASES_TO_6(TILE, N) TILE_CASE(TILE, 1, N) TILE_CASE(TILE, 2, N) TILE_CASE(TILE, 3, N)      \
    TILE_CASE(TILE, 4, N) TILE_CASE(TILE, 5, N) TILE_CASE(TILE, 6, N)
#define TILE_CASES_TO_12(TILE, N) TILE_CASES_TO_6(TILE, N) TILE_CASE(TILE, 7, N) TILE_CASE(TILE, 8, N)  \
    TILE_CASE(TILE, 9, N) TILE_CASE(TILE, 10, N) TILE_CASE(TILE, 11, N) TILE_CASE(TILE, 12, N)

#define DEFINE_DISPATCH(NAME, TILE, T, MASK)                                                            \
    TARGET static void NAME(int mr, int np, const T *panel, size_t pstride, const T *x, int ldx, T *y, int ldy, \
                            int c0, int c1, int accumulate, MASK mask, int lastn) {                     \
        switch (np) {                                                                                   \
        case 4: switch (mr) { TILE_CASES_TO_6(TILE, 4) } break;                                         \
        case 2: switch (mr) { TILE_CASES_TO_12(TILE, 2) } break;                                        \
        default: switch (mr) { TILE_CASES_TO_12(TILE, 1) } break;                                       \
        }                                                                                               \
    }

DEFINE_DISPATCH(tiles_f32, tile_f32, float, __mmask16)
DEFINE_DISPATCH(tiles_f64, tile_f64, double, __mmask8)

// The blocked loop nest (a matrix with no columns still gets its zeros stored). Panel groups are 4 wide (micro-tiles of at most 6 rows) when x has
// at most 4 rows, else 2 wide (micro-tiles of 12 rows); a group cut short at panel_end runs
// as smaller groups.
#define GEMM_AVX512(T, P, MASK, TILES)                                                                  \
    size_t pstride = (size_t)P * cols;                                                                  \
    int panels = (rows + P - 1) / P;                                                                    \
    MASK mask = (MASK)((1u << (rows - (panels - 1) * P)) - 1);                                          \
    int group = count <= 4 ? 4 : 2, mrmax = group == 4 ? 6 : 12;                                        \
    for (int c0 = 0; c0 < cols || c0 == 0; c0 += KC) {                                                  \
        int c1 = c0 + KC < cols ? c0 + KC : cols;                                                       \
        for (int t0 = 0; t0 < count; t0 += MC) {                                                        \
            int t1 = t0 + MC < count ? t0 + MC : count;                                                 \
            for (int p = panel_begin; p < panel_end;) {                                                 \
                int np = panel_end - p >= group ? group : panel_end - p >= 2 ? 2 : 1;                   \
                const T *panel = packed + (size_t)p * pstride;                                          \
                int lastn = p + np == panels ? np - 1 : -1;                                             \
                for (int t = t0; t < t1;) {                                                             \
                    int mr = t1 - t < mrmax ? t1 - t : mrmax;                                           \
                    TILES(mr, np, panel, pstride, x + (size_t)t * ldx, ldx, y + (size_t)t * ldy + (size_t)p * P, \
                          ldy, c0, c1, c0 > 0, mask, lastn);                                            \
                    t += mr;                                                                            \
                }                                                                                       \
                p += np;                                                                                \
            }                                                                                           \
        }                                                                                               \
    }

TARGET void rnnk_gemm_f32_avx512(const float *packed, int rows, int cols, const float *x, int ldx, float *y,
                                 int ldy, int count, int panel_begin, int panel_end) {
    if (count <= 0 || panel_begin >= panel_end) return;
    if (count == 1 && (size_t)(panel_end - panel_begin) * 16 * cols * sizeof(float) > GEMV_BYTES)
        return gemv_f32(packed, rows, cols, x, y, panel_begin, panel_end);
    GEMM_AVX512(float, 16, __mmask16, tiles_f32)
}

TARGET void rnnk_gemm_f64_avx512(const double *packed, int rows, int cols, const double *x, int ldx, double *y,
                                 int ldy, int count, int panel_begin, int panel_end) {
    if (count <= 0 || panel_begin >= panel_end) return;
    if (count == 1 && (size_t)(panel_end - panel_begin) * 8 * cols * sizeof(double) > GEMV_BYTES)
        return gemv_f64(packed, rows, cols, x, y, panel_begin, panel_end);
    GEMM_AVX512(double, 8, __mmask8, tiles_f64)
}
#endif
