#ifndef RNN_KERNELS_H
#define RNN_KERNELS_H

#include <stddef.h>

/// Dense matrix products for the runtime, with AVX2/FMA code chosen at run time when the CPU
/// has it. Weights are packed once into column panels (see rnnk_pack_*).
///
/// y[t, r] = sum_c x[t, c] * W[r, c] for t < count, c < cols, and the rows r of W in panels
/// [panel_begin, panel_end) (rnnk_panels_* gives the count); x rows are `ldx` apart and y
/// rows `ldy` apart (row-major).

/// Floats in a packed panel set for a rows x cols matrix (panels of 16 rows of W).
size_t rnnk_packed_size_f32(int rows, int cols);
/// Packs row-major W (rows x cols) into `packed`.
void rnnk_pack_f32(const float *w, int rows, int cols, float *packed);
int rnnk_panels_f32(int rows);
void rnnk_gemm_f32(const float *packed, int rows, int cols, const float *x, int ldx, float *y, int ldy, int count, int panel_begin, int panel_end);

/// Doubles in a packed panel set (panels of 8 rows of W).
size_t rnnk_packed_size_f64(int rows, int cols);
void rnnk_pack_f64(const double *w, int rows, int cols, double *packed);
int rnnk_panels_f64(int rows);
void rnnk_gemm_f64(const double *packed, int rows, int cols, const double *x, int ldx, double *y, int ldy, int count, int panel_begin, int panel_end);

#endif
