#ifndef RNN_KERNELS_H
#define RNN_KERNELS_H

#include <stddef.h>

/// Dense matrix products, activations and element-wise sums and products for the runtime, with AVX-512 or AVX2/FMA code
/// chosen at run time by what the CPU has. Weights are packed once into column panels (see
/// rnnk_pack_*).
///
/// y[t, r] = sum_c x[t, c] * W[r, c] for t < count, c < cols, and the rows r of W in panels
/// [panel_begin, panel_end) (rnnk_panels_* gives the count); x rows are `ldx` apart and y
/// rows `ldy` apart (row-major).

/// Floats in a packed panel set for a rows x cols matrix (panels of 16 rows of W).
size_t rnnk_packed_size_f32(int rows, int cols);
/// Packs row-major W (rows x cols) into `packed`.
void rnnk_pack_f32(const float *w, int rows, int cols, float *packed);
int rnnk_panels_f32(int rows);
/// Rows of W in one panel (16).
int rnnk_panel_rows_f32(void);
void rnnk_gemm_f32(const float *packed, int rows, int cols, const float *x, int ldx, float *y, int ldy, int count, int panel_begin, int panel_end);

/// Doubles in a packed panel set (panels of 8 rows of W).
size_t rnnk_packed_size_f64(int rows, int cols);
void rnnk_pack_f64(const double *w, int rows, int cols, double *packed);
int rnnk_panels_f64(int rows);
/// Rows of W in one panel (8).
int rnnk_panel_rows_f64(void);
void rnnk_gemm_f64(const double *packed, int rows, int cols, const double *x, int ldx, double *y, int ldy, int count, int panel_begin, int panel_end);

/// The product of rnnk_gemm_* over all panels, split by panels between the caller and up to
/// `threads - 1` helper threads that spin between jobs (for products of a few microseconds,
/// such as a matrix-vector product per recurrence step). Returns 0, having done nothing,
/// when another thread is using the helpers or none can be started; the caller then runs
/// the product itself.
int rnnk_team_gemm_f32(int threads, const float *packed, int rows, int cols, const float *x, int ldx, float *y, int ldy, int count);
int rnnk_team_gemm_f64(int threads, const double *packed, int rows, int cols, const double *x, int ldx, double *y, int ldy, int count);

/// A team job's body: runs part `part` of `parts`.
typedef void (*rnnk_team_body)(void *context, int part, int parts);
/// Runs body(context, k, parts) for every k < parts at once, part 0 on the caller and the
/// others on the helper threads, and returns when all have returned. Returns 0, having run
/// nothing, when fewer than parts - 1 helpers can be started, or when another thread is using
/// them and `wait` is 0 (otherwise it waits for that thread's job to end).
int rnnk_team_run(int parts, rnnk_team_body body, void *context, int wait);
/// Inside a body: waits until every part of the job has called it (as many times). Every
/// part must call it the same number of times, or the job never ends.
void rnnk_team_barrier(void);

/// Memory for `bytes` bytes of packed weights: blocks of 4 MiB and more are mappings of their
/// own, aligned to 2 MiB and offered transparent huge pages (Linux), so a product that
/// streams them from memory does not miss the TLB every 4 KiB. NULL when out of memory.
/// Release with rnnk_free_weights and the same `bytes`.
void *rnnk_alloc_weights(size_t bytes);
void rnnk_free_weights(void *p, size_t bytes);

/// Asks the caches for the `bytes` bytes at `p` (a hint; never faults).
void rnnk_prefetch(const void *p, size_t bytes);

/// Float activations y[i] = f(x[i]) for i < n, vectorized (see activations.c for the method
/// and its error bound); y may equal x.
enum rnnk_activation { RNNK_EXP = 0, RNNK_SIGMOID = 1, RNNK_TANH = 2, RNNK_SILU = 3, RNNK_SOFTPLUS = 4 };
void rnnk_activate_f32(enum rnnk_activation f, const float *x, float *y, int n);

/// y[i] = a[i] + b[i] and y[i] = a[i] * b[i] for i < n, vectorized; y may equal a or b.
void rnnk_add_f32(const float *a, const float *b, float *y, int n);
void rnnk_mul_f32(const float *a, const float *b, float *y, int n);
void rnnk_add_f64(const double *a, const double *b, double *y, int n);
void rnnk_mul_f64(const double *a, const double *b, double *y, int n);

/// y[t*ldy + r] = sum over j < per_row of values[j*rows + r] * x[t*ldx + columns[j*rows + r]]
/// for rows r in [row_begin, row_end) and t < count: a sparse matrix whose rows hold at most
/// `per_row` entries, stored entry-major, a row's missing entries padded with column -1
/// (skipped). Each sum starts at +0 and runs in j order, unfused, on every instruction set
/// (the bits of the plain loop).
void rnnk_ell_f32(int per_row, const int *columns, const float *values, int rows, int row_begin, int row_end,
                  const float *x, int ldx, float *y, int ldy, int count);
void rnnk_ell_f64(int per_row, const int *columns, const double *values, int rows, int row_begin, int row_end,
                  const double *x, int ldx, double *y, int ldy, int count);

/// Instruction sets the kernels have versions for.
enum rnnk_isa { RNNK_ISA_GENERIC = 0, RNNK_ISA_AVX2 = 1, RNNK_ISA_AVX512 = 2 };
/// The set the kernels above use: the widest the CPU and OS support, capped by the
/// environment variable RNNK_ISA ("avx2" or "generic") when it is set. Probed once.
enum rnnk_isa rnnk_detect_isa(void);
/// The widest set the CPU and OS support, ignoring RNNK_ISA.
enum rnnk_isa rnnk_hardware_isa(void);
/// "avx512", "avx2" or "generic".
const char *rnnk_isa_name(enum rnnk_isa isa);

/// The same kernels on a chosen instruction set (for tests and benchmarks); a set the CPU
/// lacks falls back to the widest it has.
void rnnk_gemm_f32_isa(enum rnnk_isa isa, const float *packed, int rows, int cols, const float *x, int ldx, float *y, int ldy, int count, int panel_begin, int panel_end);
void rnnk_gemm_f64_isa(enum rnnk_isa isa, const double *packed, int rows, int cols, const double *x, int ldx, double *y, int ldy, int count, int panel_begin, int panel_end);
void rnnk_activate_f32_isa(enum rnnk_isa isa, enum rnnk_activation f, const float *x, float *y, int n);
void rnnk_add_f32_isa(enum rnnk_isa isa, const float *a, const float *b, float *y, int n);
void rnnk_mul_f32_isa(enum rnnk_isa isa, const float *a, const float *b, float *y, int n);
void rnnk_add_f64_isa(enum rnnk_isa isa, const double *a, const double *b, double *y, int n);
void rnnk_mul_f64_isa(enum rnnk_isa isa, const double *a, const double *b, double *y, int n);
void rnnk_ell_f32_isa(enum rnnk_isa isa, int per_row, const int *columns, const float *values, int rows, int row_begin,
                      int row_end, const float *x, int ldx, float *y, int ldy, int count);
void rnnk_ell_f64_isa(enum rnnk_isa isa, int per_row, const int *columns, const double *values, int rows, int row_begin,
                      int row_end, const double *x, int ldx, double *y, int ldy, int count);

#endif
