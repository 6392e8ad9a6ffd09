/* sieve: integer loops and byte-array stores.
 *
 * Sieve of Eratosthenes over [0, N) using one byte per number (odd numbers
 * only), repeated over a few rounds with a different "window" each round so
 * the compiler cannot hoist work out.  Checksum mixes the prime count and a
 * position-weighted sum of primes.
 *
 * Usage: sieve [N]   (default N = 50000000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_N 50000000u
#define ROUNDS 3

int main(int argc, char **argv) {
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : DEFAULT_N;
    if (n < 16) n = 16;
    uint32_t half = n / 2; /* index i represents the odd number 2*i+1 */
    uint8_t *composite = malloc(half + 1);
    if (!composite) { puts("out of memory"); return 1; }
    uint64_t checksum = 0;
    for (int round = 0; round < ROUNDS; round++) {
        memset(composite, 0, half + 1);
        for (uint32_t i = 1; ; i++) {
            uint32_t p = 2 * i + 1;
            if ((uint64_t)p * p >= n) break;
            if (composite[i]) continue;
            for (uint32_t j = (p * p) / 2; j < half; j += p) composite[j] = 1;
        }
        uint64_t count = 1; /* the prime 2 */
        uint64_t sum = 2;
        uint32_t stride = 1u + (uint32_t)round; /* sample every stride-th prime into the weighted sum */
        uint32_t k = 0;
        for (uint32_t i = 1; i < half; i++) {
            if (!composite[i]) {
                count++;
                if (++k == stride) { k = 0; sum += (uint64_t)(2 * i + 1) * count; }
            }
        }
        checksum = checksum * 1000003u + count;
        checksum ^= sum;
    }
    free(composite);
    printf("sieve: primes below %u\n", n);
    printf("checksum: %llu\n", (unsigned long long)checksum);
    return 0;
}
