// Float activations over arrays, written branch-free so that the compiler vectorizes them,
// built twice (portable, AVX2/FMA) and chosen at run time with the AVX-512 version written
// with intrinsics in activations_avx512.c.
//
// exp: x = n ln2 + r with |r| <= ln2/2 (ln2 split in two parts, Cody-Waite, so r is exact),
// e^r by its Taylor polynomial to degree 7 (truncation error below 6e-9 relative), then
// scaled by 2^n as two factors 2^(n/2) 2^(n - n/2) so that results that overflow become
// +inf and results in the subnormal range are rounded instead of flushed. Inputs are clamped
// to [-104, 89] first (beyond them the result is 0 or +inf either way); NaN passes through.
// Error, tested against the Double definitions over the float range: exp within 2 ulp,
// sigmoid and tanh within 3 ulp, silu within 3.5, or within 1e-40 (1 + |x|) where the result or an
// intermediate is subnormal.
// tanh: odd Taylor polynomial to degree 11 for |x| < 0.3125 (error below 4e-9 relative),
// 1 - 2 / (e^{2|x|} + 1) with the sign of x above that.
// softplus: torch's, x itself above 20, else max(x, 0) + log1p(e^-|x|), with log1p(u) =
// 2 atanh(s), s = u / (2 + u) <= 1/3, by the odd series to s^15 (truncation below 2e-9
// relative); within 3.5 ulp. AVX-512 machines run the AVX2 version (no intrinsics version yet).
#include "kernels_internal.h"

#include <stdint.h>
#include <string.h>

static inline float bits_to_float(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }
static inline uint32_t float_to_bits(float f) { uint32_t u; memcpy(&u, &f, sizeof u); return u; }

static inline __attribute__((always_inline)) float exp_f32(float x) {
    float xc = x > 89.0f ? 89.0f : x;
    xc = xc < -104.0f ? -104.0f : xc;
    xc = xc == xc ? xc : 0.0f; // NaN: computed on 0, then returned as is
    const float log2e = 1.44269504088896341f, ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
    const float shifter = 12582912.0f; // 1.5 * 2^23: adding it rounds to an integer
    float n = (xc * log2e + shifter) - shifter;
    float r = (xc - n * ln2_hi) - n * ln2_lo;
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t ni = (int32_t)n, half = ni / 2;
    float s1 = bits_to_float((uint32_t)(half + 127) << 23);
    float s2 = bits_to_float((uint32_t)(ni - half + 127) << 23);
    float e = p * s1 * s2;
    return x == x ? e : x;
}

static inline __attribute__((always_inline)) float tanh_f32(float x) {
    uint32_t sign = float_to_bits(x) & 0x80000000u;
    float a = bits_to_float(float_to_bits(x) & 0x7FFFFFFFu);
    float large = 1.0f - 2.0f / (exp_f32(2.0f * a) + 1.0f);
    float z = a * a, q = -1382.0f / 155925;
    q = q * z + 62.0f / 2835;
    q = q * z - 17.0f / 315;
    q = q * z + 2.0f / 15;
    q = q * z - 1.0f / 3;
    float small = a + a * z * q;
    return bits_to_float(float_to_bits(a < 0.3125f ? small : large) | sign);
}

// 1 / (1 + e^-x), as e^x / (1 + e^x) for negative x so that it stays accurate where e^-x
// overflows (down to the subnormal results below x = -87).
static inline __attribute__((always_inline)) float sigmoid_f32(float x) {
    float a = bits_to_float(float_to_bits(x) & 0x7FFFFFFFu);
    float e = exp_f32(-a), s = 1.0f / (1.0f + e);
    return x >= 0 ? s : e * s;
}

static inline __attribute__((always_inline)) float softplus_f32(float x) {
    float a = bits_to_float(float_to_bits(x) & 0x7FFFFFFFu);
    float u = exp_f32(-a);
    float s = u / (2.0f + u), z = s * s;
    float p = 1.0f / 15;
    p = p * z + 1.0f / 13;
    p = p * z + 1.0f / 11;
    p = p * z + 1.0f / 9;
    p = p * z + 1.0f / 7;
    p = p * z + 1.0f / 5;
    p = p * z + 1.0f / 3;
    p = p * z + 1.0f;
    float r = (x > 0 ? x : 0.0f) + 2.0f * s * p;
    return x > 20.0f ? x : r;
}

#if defined(__clang__)
#define ELEMENTWISE _Pragma("clang loop vectorize(assume_safety)")
#else
#define ELEMENTWISE
#endif

// y may be x itself: every element is read before it is written.
#define DEFINE_ACTIVATIONS(SUFFIX, ATTR)                                                              \
    ATTR static void activate_##SUFFIX(enum rnnk_activation f, const float *x, float *y, int n) {     \
        switch (f) {                                                                                  \
        case RNNK_EXP: ELEMENTWISE for (int i = 0; i < n; i++) y[i] = exp_f32(x[i]); break;           \
        case RNNK_SIGMOID: ELEMENTWISE for (int i = 0; i < n; i++) y[i] = sigmoid_f32(x[i]); break;     \
        case RNNK_SILU: ELEMENTWISE for (int i = 0; i < n; i++) y[i] = x[i] * sigmoid_f32(x[i]); break; \
        case RNNK_TANH: ELEMENTWISE for (int i = 0; i < n; i++) y[i] = tanh_f32(x[i]); break;         \
        case RNNK_SOFTPLUS: ELEMENTWISE for (int i = 0; i < n; i++) y[i] = softplus_f32(x[i]); break; \
        }                                                                                             \
    }

DEFINE_ACTIVATIONS(generic, )
#if RNNK_X86_DISPATCH
DEFINE_ACTIVATIONS(avx2, __attribute__((target("avx2,fma"))))
#endif

void rnnk_activate_f32_isa(enum rnnk_isa isa, enum rnnk_activation f, const float *x, float *y, int n) {
    switch (rnnk_usable_isa(isa)) {
#if RNNK_X86_DISPATCH
    case RNNK_ISA_AVX512:
        if (f == RNNK_SOFTPLUS) break;  // the AVX2 version, below
        rnnk_activate_f32_avx512(f, x, y, n);
        return;
    case RNNK_ISA_AVX2: activate_avx2(f, x, y, n); return;
#endif
    default: activate_generic(f, x, y, n); return;
    }
#if RNNK_X86_DISPATCH
    activate_avx2(f, x, y, n);
#endif
}

void rnnk_activate_f32(enum rnnk_activation f, const float *x, float *y, int n) {
    rnnk_activate_f32_isa(rnnk_detect_isa(), f, x, y, n);
}
