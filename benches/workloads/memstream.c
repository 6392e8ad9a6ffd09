/* memstream: memory-bandwidth-bound streaming kernels.
 *
 * Three arrays of WORDS 32-bit words (24 MiB each at the default size) are
 * swept REPS times with memset, memcpy, memmove (overlapping), an integer
 * "triad" a = b + k*c, an in-place xor-shift update, and a cache-line-strided
 * read.  Exercises the libc mem* routines and plain load/store loops over
 * data far larger than the caches.
 *
 * Usage: memstream [REPS]   (default REPS = 30)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORDS (6u * 1024u * 1024u)

int main(int argc, char **argv) {
    uint32_t reps = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 30u;
    size_t bytes = (size_t)WORDS * sizeof(uint32_t);
    uint32_t *a = malloc(bytes), *b = malloc(bytes), *c = malloc(bytes);
    if (!a || !b || !c) { puts("out of memory"); return 1; }
    uint32_t s = 1u;
    for (uint32_t i = 0; i < WORDS; i++) { s = s * 747796405u + 2891336453u; c[i] = s >> 7; }
    uint64_t checksum = 0;
    for (uint32_t r = 0; r < reps; r++) {
        memset(a, (int)(r * 37u + 1u) & 0xff, bytes);
        memcpy(b, a, bytes);
        /* triad */
        uint32_t k = 3u + r;
        for (uint32_t i = 0; i < WORDS; i++) a[i] = b[i] + k * c[i];
        /* overlapping move by a few words */
        memmove(b + 5, a, bytes - 5 * sizeof(uint32_t));
        /* in-place update that reads two streams */
        for (uint32_t i = 0; i < WORDS; i++) c[i] ^= (a[i] >> 3) + b[i];
        /* strided read: one word per 64-byte line */
        uint64_t sum = 0;
        for (uint32_t i = r & 15u; i < WORDS; i += 16) sum += c[i];
        /* full read reduction */
        uint32_t x = 0;
        for (uint32_t i = 0; i < WORDS; i++) x += b[i] ^ (i * 2654435761u);
        checksum = checksum * 1000003u + sum + x;
    }
    printf("memstream: 3 x %u MiB, %u reps\n", (unsigned)(bytes >> 20), reps);
    printf("checksum: %llu\n", (unsigned long long)checksum);
    free(a); free(b); free(c);
    return 0;
}
