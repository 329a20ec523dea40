/* W3's bound: the time of its two products alone, on rnnc's own dense kernel (RNNKernels).
   A step of the recurrence multiplies each core's share of W_hh (rows/2 x 256, packed) by the
   state, from that core's L2; the input terms W_ih x over all tokens are one large product.
   With the two cores' shares run at once, the bound in tokens/s at B=1 is
   1 / (time of one step's share + time of the input product per token): every other part of
   a step (gates, barrier) is extra. Prints JSON lines.
   Build (run.sh): cc -O3 -march=native -fopenmp -I Sources/RNNKernels/include
   bench/peers/w3_bound.c Sources/RNNKernels/{gemm_avx512,kernels}.c -o w3_bound -lm */
#include "RNNKernels.h"
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float *packed(int rows, int cols) {
    float *w = malloc(sizeof(float) * rows * cols);
    for (long i = 0; i < (long)rows * cols; i++) w[i] = (float)rand() / RAND_MAX - 0.5f;
    float *p = aligned_alloc(64, (rnnk_packed_size_f32(rows, cols) * sizeof(float) + 63) / 64 * 64);
    rnnk_pack_f32(w, rows, cols, p);
    free(w);
    return p;
}

/* Seconds per step of the recurrence's product: each of 2 threads multiplies its own
   (rows / 2) x d share by a vector, steps times, the threads meeting at every step. */
static double step_product(int rows, int d, int steps) {
    double best = 1e9;
    #pragma omp parallel num_threads(2)
    {
        float *share = packed(rows / 2, d), *x = calloc(d, sizeof(float)), *y = calloc(rows / 2, sizeof(float));
        int panels = rnnk_panels_f32(rows / 2);
        for (int rep = 0; rep < 5; rep++) {
            #pragma omp barrier
            double t0 = now();
            for (int t = 0; t < steps; t++) {
                rnnk_gemm_f32(share, rows / 2, d, x, d, y, rows / 2, 1, 0, panels);
                x[t % d] += y[0] * 1e-9f;  /* the next step depends on this one */
            }
            #pragma omp barrier
            #pragma omp master
            { double dt = (now() - t0) / steps; if (dt < best) best = dt; }
        }
        free(share); free(x); free(y);
    }
    return best;
}

/* Seconds per token of the input product W_ih x (rows x d) over T tokens, split by panels
   over 2 threads. */
static double input_product(int rows, int d, int T) {
    float *w = packed(rows, d), *x = malloc(sizeof(float) * T * d), *y = malloc(sizeof(float) * T * rows);
    for (long i = 0; i < (long)T * d; i++) x[i] = (float)rand() / RAND_MAX;
    int panels = rnnk_panels_f32(rows);
    double best = 1e9;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        #pragma omp parallel num_threads(2)
        {
            int k = omp_get_thread_num();
            rnnk_gemm_f32(w, rows, d, x, d, y, rows, T, panels * k / 2, panels * (k + 1) / 2);
        }
        double dt = (now() - t0) / T;
        if (dt < best) best = dt;
    }
    free(w); free(x); free(y);
    return best;
}

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int d = 256, T = quick ? 1024 : 16384;
    const char *cells[] = {"GRU", "LSTM"};
    for (int c = 0; c < 2; c++) {
        int rows = (c == 0 ? 3 : 4) * d;
        double step = step_product(rows, d, quick ? 2000 : 20000), input = input_product(rows, d, T);
        printf("{\"bound\": \"W3 %s B=1\", \"step_product_us\": %g, \"input_product_us_per_token\": %g, \"tokens_per_s\": %g, "
               "\"weight_GBps_per_core\": %g}\n", cells[c], step * 1e6, input * 1e6, 1 / (step + input),
               (double)rows / 2 * d * sizeof(float) / step / 1e9);
    }
    return 0;
}
