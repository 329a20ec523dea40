/* W1 bandwidth bound: h_t = a_t * h_{t-1} + b_t in C (-O3, OpenMP over channels, 2 threads),
   plus the machine's STREAM triad bandwidth. Prints JSON lines.
   Build: cc -O3 -march=native -fopenmp c_scan.c -o c_scan */
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

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    long T = quick ? 4096 : 65536, d = 1024;
    float *a = malloc(sizeof(float) * T * d), *b = malloc(sizeof(float) * T * d), *h = malloc(sizeof(float) * T * d);
    for (long i = 0; i < T * d; i++) { a[i] = 0.5f + 0.5f * (float)rand() / RAND_MAX; b[i] = (float)rand() / RAND_MAX - 0.5f; h[i] = 0; }
    double best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        #pragma omp parallel for num_threads(2) schedule(static)
        for (long c0 = 0; c0 < d; c0 += 64) {
            float state[64] = {0};
            for (long t = 0; t < T; t++) {
                const float *at = a + t * d + c0, *bt = b + t * d + c0;
                float *ht = h + t * d + c0;
                for (int i = 0; i < 64; i++) { state[i] = at[i] * state[i] + bt[i]; ht[i] = state[i]; }
            }
        }
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    printf("{\"workload\": \"W1\", \"impl\": \"C loop -O3, 2 threads\", \"tokens\": %ld, \"seconds\": %g, \"tokens_per_s\": %g}\n", T, best, T / best);

    /* STREAM triad: x = y + s z over 3 x 64 MiB arrays, 2 threads. */
    long n = 16L << 20;
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n), *z = malloc(sizeof(float) * n);
    for (long i = 0; i < n; i++) { y[i] = 1; z[i] = 2; x[i] = 0; }
    double triad = 1e9;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        #pragma omp parallel for num_threads(2) schedule(static)
        for (long i = 0; i < n; i++) x[i] = y[i] + 3.0f * z[i];
        double dt = now() - t0;
        if (dt < triad) triad = dt;
    }
    printf("{\"machine\": \"stream_triad_GBps\", \"value\": %g}\n", 3.0 * n * sizeof(float) / triad / 1e9);
    return (int)(h[T * d - 1] > 1e30);
}
