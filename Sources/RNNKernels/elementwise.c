// Element-wise sums and products of arrays, built for each instruction set and chosen at run
// time: Swift's own loops compile for baseline x86-64 (4 floats a vector); these use the
// widest vectors the CPU has.
#include "kernels_internal.h"

#if defined(__clang__)
#define ELEMENTWISE _Pragma("clang loop vectorize(assume_safety)")
#else
#define ELEMENTWISE
#endif

// y[i] = a[i] OP b[i]. y may be a or b itself (every index is read before it is written), or
// lie apart from both (`disjoint`); other overlaps take the plain loop, in a scalar loop's order.
#define DEFINE_BINARY(NAME, T, OP, ATTR)                                                              \
    ATTR static void NAME(const T *a, const T *b, T *y, int n) {                                      \
        const T *end = y + n;                                                                         \
        int disjoint = (y == a || a + n <= y || end <= a) && (y == b || b + n <= y || end <= b);         \
        if (disjoint) {                                                                                  \
            ELEMENTWISE for (int i = 0; i < n; i++) y[i] = a[i] OP b[i];                              \
        } else {                                                                                      \
            for (int i = 0; i < n; i++) y[i] = a[i] OP b[i];                                          \
        }                                                                                             \
    }

#define DEFINE_SET(SUFFIX, ATTR)                                                                      \
    DEFINE_BINARY(add_f32_##SUFFIX, float, +, ATTR)                                                   \
    DEFINE_BINARY(mul_f32_##SUFFIX, float, *, ATTR)                                                   \
    DEFINE_BINARY(add_f64_##SUFFIX, double, +, ATTR)                                                  \
    DEFINE_BINARY(mul_f64_##SUFFIX, double, *, ATTR)

DEFINE_SET(generic, )
#if RNNK_X86_DISPATCH
DEFINE_SET(avx2, __attribute__((target("avx2,fma"))))
DEFINE_SET(avx512, __attribute__((target("avx512f,fma"))))
#define DISPATCH(NAME, T)                                                                             \
    void rnnk_##NAME##_isa(enum rnnk_isa isa, const T *a, const T *b, T *y, int n) {                  \
        switch (rnnk_usable_isa(isa)) {                                                               \
        case RNNK_ISA_AVX512: NAME##_avx512(a, b, y, n); return;                                      \
        case RNNK_ISA_AVX2: NAME##_avx2(a, b, y, n); return;                                          \
        default: NAME##_generic(a, b, y, n); return;                                                  \
        }                                                                                             \
    }                                                                                                 \
    void rnnk_##NAME(const T *a, const T *b, T *y, int n) { rnnk_##NAME##_isa(rnnk_detect_isa(), a, b, y, n); }
#else
#define DISPATCH(NAME, T)                                                                             \
    void rnnk_##NAME##_isa(enum rnnk_isa isa, const T *a, const T *b, T *y, int n) {                  \
        (void)isa;                                                                                    \
        NAME##_generic(a, b, y, n);                                                                   \
    }                                                                                                 \
    void rnnk_##NAME(const T *a, const T *b, T *y, int n) { NAME##_generic(a, b, y, n); }
#endif

DISPATCH(add_f32, float)
DISPATCH(mul_f32, float)
DISPATCH(add_f64, double)
DISPATCH(mul_f64, double)
