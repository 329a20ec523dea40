// AVX-512 activations, sixteen floats at a time, chosen at run time like gemm_avx512.c.
//
// The same method as activations.c (whose header gives it and the error bounds), written
// with intrinsics so that the reciprocals in sigmoid and tanh can be a 14-bit estimate
// (vrcp14ps) refined by one Newton step, r + r (1 - y r), instead of a division: the
// division runs on one port at about ten cycles a vector.
// After the Newton step the reciprocal is within about an ulp; the results keep the bounds
// that KernelTests checks (exp 2 ulp, sigmoid and tanh 3 ulp, silu 3.5 ulp).
#include "kernels_internal.h"

#if RNNK_X86_DISPATCH
#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline, target("avx512f,fma")))

INLINE __m512 splat(float v) { return _mm512_set1_ps(v); }

// e^x: the reduction and polynomial of activations.c, and the scaling by 2^n in one
// vscalefps, which rounds a subnormal result once and overflows to +inf. The clamp to
// [-104, 89] keeps n small enough for an exact reduction; max and min return their second
// operand when one is NaN, so NaN passes through.
INLINE __m512 exp_v(__m512 x) {
    __m512 xc = _mm512_min_ps(splat(89.0f), _mm512_max_ps(splat(-104.0f), x));
    const float log2e = 1.44269504088896341f, ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
    const __m512 shifter = splat(12582912.0f); // 1.5 * 2^23: adding it rounds to an integer
    __m512 n = _mm512_sub_ps(_mm512_fmadd_ps(xc, splat(log2e), shifter), shifter);
    __m512 r = _mm512_fnmadd_ps(n, splat(ln2_lo), _mm512_fnmadd_ps(n, splat(ln2_hi), xc));
    __m512 p = splat(1.0f / 5040);
    p = _mm512_fmadd_ps(p, r, splat(1.0f / 720));
    p = _mm512_fmadd_ps(p, r, splat(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, splat(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, splat(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, splat(0.5f));
    p = _mm512_fmadd_ps(p, r, splat(1.0f));
    p = _mm512_fmadd_ps(p, r, splat(1.0f));
    return _mm512_scalef_ps(p, n);
}

// 1 / y for y >= 1 (finite or NaN), as the sigmoid and tanh below call it.
INLINE __m512 reciprocal_v(__m512 y) {
    __m512 r = _mm512_rcp14_ps(y);
    return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(y, r, splat(1.0f)), r);
}

INLINE __m512 abs_v(__m512 x) {
    return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7FFFFFFF)));
}

// 1 / (1 + e^-|x|) for x >= 0, e^x / (1 + e^x) below.
INLINE __m512 sigmoid_v(__m512 x) {
    __m512 e = exp_v(_mm512_sub_ps(_mm512_setzero_ps(), abs_v(x)));
    __m512 s = reciprocal_v(_mm512_add_ps(splat(1.0f), e));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ), _mm512_mul_ps(e, s), s);
}

// The odd polynomial below |x| = 0.3125, 1 - 2 / (e^{2|x|} + 1) above, with the sign of x.
// |x| is capped at 10 on the second path, where the result is 1 in Float32 already, so that
// e^{2|x|} stays finite for the reciprocal (min returns its second operand, NaN, for NaN).
INLINE __m512 tanh_v(__m512 x) {
    __m512i sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u));
    __m512 a = abs_v(x);
    __m512 capped = _mm512_min_ps(splat(10.0f), a);
    __m512 y = _mm512_add_ps(exp_v(_mm512_add_ps(capped, capped)), splat(1.0f));
    __m512 large = _mm512_fnmadd_ps(splat(2.0f), reciprocal_v(y), splat(1.0f));
    __m512 z = _mm512_mul_ps(a, a), q = splat(-1382.0f / 155925);
    q = _mm512_fmadd_ps(q, z, splat(62.0f / 2835));
    q = _mm512_fmadd_ps(q, z, splat(-17.0f / 315));
    q = _mm512_fmadd_ps(q, z, splat(2.0f / 15));
    q = _mm512_fmadd_ps(q, z, splat(-1.0f / 3));
    __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(a, z), q, a);
    __m512 t = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, splat(0.3125f), _CMP_LT_OQ), large, small);
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(t), sign));
}

INLINE __m512 apply_v(enum rnnk_activation f, __m512 x) {
    switch (f) {
    case RNNK_EXP: return exp_v(x);
    case RNNK_SIGMOID: return sigmoid_v(x);
    case RNNK_SILU: return _mm512_mul_ps(x, sigmoid_v(x));
    case RNNK_TANH: return tanh_v(x);
    case RNNK_SOFTPLUS: break;  // not here: rnnk_activate_f32_isa runs the AVX2 version
    }
    return x;
}

// Full vectors, then the last n % 16 values through a mask. y may be x itself.
#define ACTIVATION_LOOP(F)                                                                              \
    {                                                                                                   \
        int i = 0;                                                                                      \
        for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, apply_v(F, _mm512_loadu_ps(x + i)));       \
        if (i < n) {                                                                                    \
            __mmask16 k = (__mmask16)((1u << (n - i)) - 1);                                             \
            _mm512_mask_storeu_ps(y + i, k, apply_v(F, _mm512_maskz_loadu_ps(k, x + i)));               \
        }                                                                                               \
    }

__attribute__((target("avx512f,fma"))) void rnnk_activate_f32_avx512(enum rnnk_activation f, const float *x,
                                                                      float *y, int n) {
    // One loop per function, so that the switch in apply_v folds away inside each.
    switch (f) {
    case RNNK_EXP: ACTIVATION_LOOP(RNNK_EXP) break;
    case RNNK_SIGMOID: ACTIVATION_LOOP(RNNK_SIGMOID) break;
    case RNNK_SILU: ACTIVATION_LOOP(RNNK_SILU) break;
    case RNNK_TANH: ACTIVATION_LOOP(RNNK_TANH) break;
    case RNNK_SOFTPLUS: break;
    }
}
#endif
