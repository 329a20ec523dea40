// Products by sparse matrices whose rows hold nearly the same number of entries (regroupings
// such as repeat, tile and group sums; shifts; scalings of selected elements), vectorized
// across rows: eight outputs at a time gather their j-th operands with one instruction. A
// row with fewer entries is padded with column -1, which reads nothing and adds +0 (the
// plain loop's sum starts at +0, so it is never -0 and the padding changes no bit). Each
// output adds its entries in order, with a product and a sum per entry (never fused), so
// every instruction set gives the bits of the plain loop.
#include "kernels_internal.h"

#if RNNK_X86_DISPATCH
#include <immintrin.h>
#endif

#define DEFINE_GENERIC(NAME, T)                                                                       \
    static void NAME##_generic(int per_row, const int *columns, const T *values, int rows, int row_begin, \
                               int row_end, const T *x, int ldx, T *y, int ldy, int count) {             \
        for (int t = 0; t < count; t++) {                                                             \
            const T *xt = x + (long)t * ldx;                                                          \
            T *yt = y + (long)t * ldy;                                                                \
            for (int r = row_begin; r < row_end; r++) {                                               \
                T acc = 0;                                                                            \
                for (int j = 0; j < per_row; j++) {                                                   \
                    int column = columns[(long)j * rows + r];                                         \
                    if (column < 0) continue;                                                         \
                    T product = values[(long)j * rows + r] * xt[column];                              \
                    acc = acc + product;                                                              \
                }                                                                                     \
                yt[r] = acc;                                                                          \
            }                                                                                         \
        }                                                                                             \
    }

#pragma STDC FP_CONTRACT OFF
DEFINE_GENERIC(ell_f32, float)
DEFINE_GENERIC(ell_f64, double)

#if RNNK_X86_DISPATCH
// x[index[i]] for eight lanes (0 where index[i] is -1). Eight consecutive columns (a tile)
// are one load and eight equal ones (a repeat) one broadcast; only other patterns gather,
// which costs several times more on the CPUs measured (bench/NOTES.md).
__attribute__((target("avx2"))) static inline __m256 operands_f32(const float *x, __m256i index) {
    int first = _mm256_cvtsi256_si32(index);
    if (first >= 0) {
        __m256i broadcast = _mm256_set1_epi32(first);
        __m256i run = _mm256_add_epi32(broadcast, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        if (_mm256_movemask_epi8(_mm256_cmpeq_epi32(index, run)) == -1) return _mm256_loadu_ps(x + first);
        if (_mm256_movemask_epi8(_mm256_cmpeq_epi32(index, broadcast)) == -1) return _mm256_set1_ps(x[first]);
    }
    __m256 present = _mm256_castsi256_ps(_mm256_cmpgt_epi32(index, _mm256_set1_epi32(-1)));
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), x, index, present, 4);
}

__attribute__((target("avx2"))) static void ell_f32_avx2(int per_row, const int *columns, const float *values, int rows,
                                                         int row_begin, int row_end, const float *x, int ldx, float *y,
                                                         int ldy, int count) {
    int vector_end = row_begin + (row_end - row_begin) / 8 * 8;
    for (int t = 0; t < count; t++) {
        const float *xt = x + (long)t * ldx;
        float *yt = y + (long)t * ldy;
        for (int r = row_begin; r < vector_end; r += 8) {
            __m256 acc = _mm256_setzero_ps();
            for (int j = 0; j < per_row; j++) {
                __m256i index = _mm256_loadu_si256((const __m256i *)(columns + (long)j * rows + r));
                __m256 operand = operands_f32(xt, index);
                acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_loadu_ps(values + (long)j * rows + r), operand));
            }
            _mm256_storeu_ps(yt + r, acc);
        }
    }
    if (vector_end < row_end) ell_f32_generic(per_row, columns, values, rows, vector_end, row_end, x, ldx, y, ldy, count);
}

__attribute__((target("avx2"))) static void ell_f64_avx2(int per_row, const int *columns, const double *values, int rows,
                                                         int row_begin, int row_end, const double *x, int ldx, double *y,
                                                         int ldy, int count) {
    int vector_end = row_begin + (row_end - row_begin) / 4 * 4;
    for (int t = 0; t < count; t++) {
        const double *xt = x + (long)t * ldx;
        double *yt = y + (long)t * ldy;
        for (int r = row_begin; r < vector_end; r += 4) {
            __m256d acc = _mm256_setzero_pd();
            for (int j = 0; j < per_row; j++) {
                __m128i index = _mm_loadu_si128((const __m128i *)(columns + (long)j * rows + r));
                __m256d present = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm_cmpgt_epi32(index, _mm_set1_epi32(-1))));
                __m256d operand = _mm256_mask_i32gather_pd(_mm256_setzero_pd(), xt, index, present, 8);
                acc = _mm256_add_pd(acc, _mm256_mul_pd(_mm256_loadu_pd(values + (long)j * rows + r), operand));
            }
            _mm256_storeu_pd(yt + r, acc);
        }
    }
    if (vector_end < row_end) ell_f64_generic(per_row, columns, values, rows, vector_end, row_end, x, ldx, y, ldy, count);
}

#define DISPATCH(NAME, T)                                                                             \
    void rnnk_##NAME##_isa(enum rnnk_isa isa, int per_row, const int *columns, const T *values, int rows, \
                           int row_begin, int row_end, const T *x, int ldx, T *y, int ldy, int count) { \
        if (rnnk_usable_isa(isa) >= RNNK_ISA_AVX2)                                                    \
            NAME##_avx2(per_row, columns, values, rows, row_begin, row_end, x, ldx, y, ldy, count);   \
        else                                                                                          \
            NAME##_generic(per_row, columns, values, rows, row_begin, row_end, x, ldx, y, ldy, count); \
    }
#else
#define DISPATCH(NAME, T)                                                                             \
    void rnnk_##NAME##_isa(enum rnnk_isa isa, int per_row, const int *columns, const T *values, int rows, \
                           int row_begin, int row_end, const T *x, int ldx, T *y, int ldy, int count) { \
        (void)isa;                                                                                    \
        NAME##_generic(per_row, columns, values, rows, row_begin, row_end, x, ldx, y, ldy, count);   \
    }
#endif

DISPATCH(ell_f32, float)
DISPATCH(ell_f64, double)

void rnnk_ell_f32(int per_row, const int *columns, const float *values, int rows, int row_begin, int row_end,
                  const float *x, int ldx, float *y, int ldy, int count) {
    rnnk_ell_f32_isa(rnnk_detect_isa(), per_row, columns, values, rows, row_begin, row_end, x, ldx, y, ldy, count);
}

void rnnk_ell_f64(int per_row, const int *columns, const double *values, int rows, int row_begin, int row_end,
                  const double *x, int ldx, double *y, int ldy, int count) {
    rnnk_ell_f64_isa(rnnk_detect_isa(), per_row, columns, values, rows, row_begin, row_end, x, ldx, y, ldy, count);
}
