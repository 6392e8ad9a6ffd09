/* matmul64: blocked double-precision matrix multiply.
 *
 * Builds three ways from this one file:
 *   native / wasm32-wasi:  main() prints "checksum: N" (N = run(SIZE))
 *   freestanding wasm (wasm32 or wasm64/memory64, -DFREESTANDING):
 *       no libc, exports `uint64_t run(uint64_t n)`; memory is obtained
 *       with memory.grow, so every call grows the memory (3 n*n doubles).
 *
 * run(n) computes C = A * B for n x n matrices with 32x32 cache blocking
 * (i-k-j inside a block).  Inputs are small integers, so all arithmetic is
 * exact and the checksum does not depend on evaluation order or FMA.
 *
 * Usage: matmul64 [N]   (default N = 900)
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <stddef.h>
#include <stdint.h>

#define DEFAULT_N 900
#define BLK 32

#ifdef FREESTANDING
static double *alloc_doubles(uint64_t count) {
    uint64_t bytes = count * sizeof(double);
    size_t pages = (size_t)((bytes + 65535u) / 65536u);
    size_t old = __builtin_wasm_memory_grow(0, pages);
    if (old == (size_t)-1) return NULL;
    return (double *)(old * 65536u);
}
static void release(double *p) { (void)p; }
#define EXPORT __attribute__((export_name("run")))
#else
#include <stdio.h>
#include <stdlib.h>
static double *alloc_doubles(uint64_t count) { return (double *)malloc((size_t)(count * sizeof(double))); }
static void release(double *p) { free(p); }
#define EXPORT
#endif

EXPORT uint64_t run(uint64_t n64) {
    if (n64 == 0 || n64 > 4000) return 0;
    size_t n = (size_t)n64;
    double *a = alloc_doubles((uint64_t)n * n);
    double *b = alloc_doubles((uint64_t)n * n);
    double *c = alloc_doubles((uint64_t)n * n);
    if (!a || !b || !c) return 0;
    uint32_t s = 777u;
    for (size_t i = 0; i < n * n; i++) { s = s * 1103515245u + 12345u; a[i] = (double)((int)((s >> 16) % 15u) - 7); }
    for (size_t i = 0; i < n * n; i++) { s = s * 1103515245u + 12345u; b[i] = (double)((int)((s >> 16) % 15u) - 7); }
    for (size_t i = 0; i < n * n; i++) c[i] = 0.0;
    for (size_t ii = 0; ii < n; ii += BLK) {
        size_t ie = ii + BLK < n ? ii + BLK : n;
        for (size_t kk = 0; kk < n; kk += BLK) {
            size_t ke = kk + BLK < n ? kk + BLK : n;
            for (size_t jj = 0; jj < n; jj += BLK) {
                size_t je = jj + BLK < n ? jj + BLK : n;
                for (size_t i = ii; i < ie; i++) {
                    double *ci = c + i * n;
                    for (size_t k = kk; k < ke; k++) {
                        double aik = a[i * n + k];
                        const double *bk = b + k * n;
                        for (size_t j = jj; j < je; j++) ci[j] += aik * bk[j];
                    }
                }
            }
        }
    }
    uint64_t checksum = 0;
    for (size_t i = 0; i < n * n; i++) checksum = checksum * 31 + (uint64_t)(int64_t)c[i];
    release(a); release(b); release(c);
    return checksum;
}

#ifndef FREESTANDING
int main(int argc, char **argv) {
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : DEFAULT_N;
    uint64_t c = run(n);
    printf("matmul64: %llux%llu doubles, blocked\n", (unsigned long long)n, (unsigned long long)n);
    printf("checksum: %llu\n", (unsigned long long)c);
    return 0;
}
#endif
