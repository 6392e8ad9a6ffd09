/* matmul: dense double-precision matrix multiply (float kernel).
 *
 * C = A * B for N x N matrices in row-major order, i-k-j loop order, then
 * C2 = C * A^T-ish via a j-inner dot-product kernel.  The inputs are small
 * integers, so every product and partial sum is exact in double precision
 * and the checksum is independent of evaluation order, FMA contraction and
 * vectorisation.
 *
 * Usage: matmul [N]   (default N = 1100)
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t seed = 12345u;
static int small_rand(void) {
    seed = seed * 1664525u + 1013904223u;
    return (int)((seed >> 24) % 17u) - 8; /* -8 .. 8 */
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1100;
    if (n < 1) n = 1;
    size_t nn = (size_t)n * (size_t)n;
    double *a = malloc(nn * sizeof(double));
    double *b = malloc(nn * sizeof(double));
    double *c = malloc(nn * sizeof(double));
    double *d = malloc(nn * sizeof(double));
    if (!a || !b || !c || !d) { puts("out of memory"); return 1; }
    for (size_t i = 0; i < nn; i++) a[i] = small_rand();
    for (size_t i = 0; i < nn; i++) b[i] = small_rand();

    /* C = A * B (i-k-j, streams rows of B) */
    for (int i = 0; i < n; i++) {
        double *ci = c + (size_t)i * n;
        for (int j = 0; j < n; j++) ci[j] = 0.0;
        for (int k = 0; k < n; k++) {
            double aik = a[(size_t)i * n + k];
            const double *bk = b + (size_t)k * n;
            for (int j = 0; j < n; j++) ci[j] += aik * bk[j];
        }
    }
    /* D = C * A^T restricted to a band, as dot products of rows (reduction kernel).
     * |C| <= 64n, so |D| <= 512n^2: exact for n up to ~4000. */
    int band = n < 64 ? n : 64;
    for (int i = 0; i < n; i++) {
        for (int jj = 0; jj < band; jj++) {
            int j = (i + jj * 7) % n;
            const double *ci = c + (size_t)i * n;
            const double *aj = a + (size_t)j * n;
            double s = 0.0;
            for (int k = 0; k < n; k++) s += ci[k] * aj[k];
            d[(size_t)i * n + jj] = s;
        }
    }
    uint64_t checksum = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            checksum = checksum * 31 + (uint64_t)(int64_t)c[(size_t)i * n + j];
    for (int i = 0; i < n; i++)
        for (int jj = 0; jj < band; jj++)
            checksum ^= (uint64_t)(int64_t)d[(size_t)i * n + jj] * (uint64_t)(i * band + jj + 1);
    printf("matmul: %dx%d doubles\n", n, n);
    printf("checksum: %llu\n", (unsigned long long)checksum);
    free(a); free(b); free(c); free(d);
    return 0;
}
