/* fft: iterative radix-2 complex FFT (double-precision float kernel).
 *
 * A real integer signal of 2^LOGN samples is transformed forward and back
 * ROUNDS times.  After each inverse transform the samples are rounded back
 * to integers and compared with the input (they must match exactly), then
 * perturbed for the next round.  The checksum combines those integers with
 * the spectrum's L1 norm rounded to 1e-2, so it tolerates last-bit
 * differences between libm implementations of sin/cos (used for the
 * twiddle table) and FMA contraction.
 *
 * Usage: fft [LOGN]   (default LOGN = 19, i.e. 512K points; ROUNDS = 14)
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define ROUNDS 14

typedef struct { double re, im; } Cx;

static void fft(Cx *x, const Cx *tw, uint32_t n, int inverse) {
    /* bit reversal permutation */
    for (uint32_t i = 1, j = 0; i < n; i++) {
        uint32_t bit = n >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) { Cx t = x[i]; x[i] = x[j]; x[j] = t; }
    }
    for (uint32_t len = 2; len <= n; len <<= 1) {
        uint32_t half = len >> 1, step = n / len;
        for (uint32_t i = 0; i < n; i += len) {
            for (uint32_t k = 0; k < half; k++) {
                Cx w = tw[k * step];
                if (inverse) w.im = -w.im;
                Cx u = x[i + k], v = x[i + k + half];
                double vr = v.re * w.re - v.im * w.im;
                double vi = v.re * w.im + v.im * w.re;
                x[i + k].re = u.re + vr;
                x[i + k].im = u.im + vi;
                x[i + k + half].re = u.re - vr;
                x[i + k + half].im = u.im - vi;
            }
        }
    }
}

int main(int argc, char **argv) {
    int logn = argc > 1 ? atoi(argv[1]) : 19;
    if (logn < 2) logn = 2;
    if (logn > 24) logn = 24;
    uint32_t n = 1u << logn;
    Cx *x = malloc(n * sizeof(Cx));
    Cx *tw = malloc((n / 2) * sizeof(Cx));
    int32_t *sig = malloc(n * sizeof(int32_t));
    if (!x || !tw || !sig) { puts("out of memory"); return 1; }
    for (uint32_t k = 0; k < n / 2; k++) {
        double a = -2.0 * 3.14159265358979323846 * (double)k / (double)n;
        tw[k].re = cos(a);
        tw[k].im = sin(a);
    }
    uint32_t s = 2463534242u;
    for (uint32_t i = 0; i < n; i++) {
        s ^= s << 13; s ^= s >> 17; s ^= s << 5;
        sig[i] = (int32_t)(s % 2001u) - 1000;
    }
    uint64_t checksum = 0;
    uint32_t mismatches = 0;
    for (int round = 0; round < ROUNDS; round++) {
        for (uint32_t i = 0; i < n; i++) { x[i].re = sig[i]; x[i].im = 0.0; }
        fft(x, tw, n, 0);
        double l1 = 0.0;
        for (uint32_t i = 0; i < n; i++) l1 += fabs(x[i].re) + fabs(x[i].im);
        checksum = checksum * 1000003u + (uint64_t)llround(l1 / n * 100.0);
        fft(x, tw, n, 1);
        for (uint32_t i = 0; i < n; i++) {
            int32_t v = (int32_t)lround(x[i].re / n);
            if (v != sig[i]) mismatches++;
            /* perturb for the next round */
            sig[i] = (v * 3 + (int32_t)(i % 7u) + round) % 1001;
        }
    }
    for (uint32_t i = 0; i < n; i += 97) checksum = checksum * 31 + (uint32_t)sig[i];
    checksum += mismatches;
    printf("fft: 2^%d points, %d round trips, %u mismatches\n", logn, ROUNDS, mismatches);
    printf("checksum: %llu\n", (unsigned long long)checksum);
    free(x); free(tw); free(sig);
    return 0;
}
