/* sieve: integer loops and byte-array stores.
 *
 * Segmented sieve of Eratosthenes over [0, N) with one byte per odd number:
 * the base primes below sqrt(N) mark their multiples one SEGMENT-byte window
 * at a time (32 KiB by default, so the window stays in the L1 cache, as in
 * production prime sieves), then the window is scanned to count primes and
 * add a position-weighted sum of sampled primes.  Three rounds with a
 * different sampling stride each, so no work can be hoisted.
 *
 * Usage: sieve [N [SEGMENT]]   (default N = 150000000, SEGMENT = 32768;
 *                               SEGMENT 0 = one window over the whole range,
 *                               the textbook sieve, bound by the memory system)
 * The checksum depends on N only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_N 150000000u
#define DEFAULT_SEGMENT 32768u
#define ROUNDS 3

int main(int argc, char **argv) {
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : DEFAULT_N;
    uint32_t seg = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : DEFAULT_SEGMENT;
    if (n < 16) n = 16;
    uint32_t half = n / 2; /* index i represents the odd number 2*i+1 */
    if (seg == 0 || seg > half) seg = half;

    /* Base primes: odd p with p*p < n, from a small sieve of their own. */
    uint32_t root = 1;
    while ((uint64_t)root * root < n) root++;
    uint8_t *small = calloc(root / 2 + 1, 1);
    uint32_t *primes = malloc((root / 2 + 1) * sizeof(uint32_t));
    uint32_t *next = malloc((root / 2 + 1) * sizeof(uint32_t));
    uint8_t *window = malloc(seg);
    if (!small || !primes || !next || !window) { puts("out of memory"); return 1; }
    uint32_t nprimes = 0;
    for (uint32_t i = 1; 2 * i + 1 < root; i++) {
        uint32_t p = 2 * i + 1;
        if ((uint64_t)p * p >= n) break;
        if (small[i]) continue;
        primes[nprimes++] = p;
        for (uint32_t j = (p * p) / 2; j <= root / 2; j += p) small[j] = 1;
    }

    uint64_t checksum = 0;
    for (int round = 0; round < ROUNDS; round++) {
        for (uint32_t k = 0; k < nprimes; k++) next[k] = (primes[k] * primes[k]) / 2;
        uint64_t count = 1; /* the prime 2 */
        uint64_t sum = 2;
        uint32_t stride = 1u + (uint32_t)round; /* sample every stride-th prime into the weighted sum */
        uint32_t sampled = 0;
        for (uint32_t lo = 0; lo < half; lo += seg) {
            uint32_t hi = half - lo < seg ? half : lo + seg;
            memset(window, 0, hi - lo);
            for (uint32_t k = 0; k < nprimes; k++) {
                uint32_t p = primes[k], j = next[k];
                for (; j < hi; j += p) window[j - lo] = 1;
                next[k] = j;
            }
            for (uint32_t i = lo ? lo : 1; i < hi; i++) {
                if (!window[i - lo]) {
                    count++;
                    if (++sampled == stride) { sampled = 0; sum += (uint64_t)(2 * i + 1) * count; }
                }
            }
        }
        checksum = checksum * 1000003u + count;
        checksum ^= sum;
    }
    free(small); free(primes); free(next); free(window);
    printf("sieve: primes below %u\n", n);
    printf("checksum: %llu\n", (unsigned long long)checksum);
    return 0;
}
