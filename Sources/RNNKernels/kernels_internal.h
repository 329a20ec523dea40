// Declarations shared by the kernel files; not part of the public header.
#ifndef RNN_KERNELS_INTERNAL_H
#define RNN_KERNELS_INTERNAL_H

#include "RNNKernels.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define RNNK_X86_DISPATCH 1
#else
#define RNNK_X86_DISPATCH 0
#endif

/// `requested`, or the widest set the hardware has if that is narrower.
static inline enum rnnk_isa rnnk_usable_isa(enum rnnk_isa requested) {
    enum rnnk_isa hardware = rnnk_hardware_isa();
    return requested < hardware ? requested : hardware;
}

#if RNNK_X86_DISPATCH
void rnnk_gemm_f32_avx512(const float *packed, int rows, int cols, const float *x, int ldx, float *y, int ldy,
                          int count, int panel_begin, int panel_end);
void rnnk_gemm_f64_avx512(const double *packed, int rows, int cols, const double *x, int ldx, double *y, int ldy,
                          int count, int panel_begin, int panel_end);
void rnnk_activate_f32_avx512(enum rnnk_activation f, const float *x, float *y, int n);
#endif

#endif
