/* bytes64: byte-granular loops over a 64 MiB buffer.
 *
 * Builds three ways from this one file:
 *   native / wasm32-wasi:  main() prints "checksum: N" (N = run(MIB))
 *   freestanding wasm (wasm32 or wasm64/memory64, -DFREESTANDING):
 *       no libc, exports `uint64_t run(uint64_t mib)`; memory is obtained
 *       with memory.grow, so every call grows the memory by `mib` MiB.
 *
 * run(mib) fills `mib` MiB with an LCG byte stream, then makes PASSES
 * passes: a byte histogram, a running byte-wise prefix transform
 * (b[i] = b[i] * 7 + b[i-1] ^ key), a reversal of each 4 KiB block, and a
 * search for a 3-byte pattern.  All of it is plain byte loads and stores.
 *
 * Usage: bytes64 [MIB]   (default MIB = 64)
 */
#include <stddef.h>
#include <stdint.h>

#define PASSES 3
#define DEFAULT_MIB 64

#ifdef FREESTANDING
static uint8_t *alloc_bytes(uint64_t n) {
    size_t pages = (size_t)((n + 65535u) / 65536u);
    size_t old = __builtin_wasm_memory_grow(0, pages);
    if (old == (size_t)-1) return NULL;
    return (uint8_t *)(old * 65536u);
}
static void release(uint8_t *p) { (void)p; }
#define EXPORT __attribute__((export_name("run")))
#else
#include <stdio.h>
#include <stdlib.h>
static uint8_t *alloc_bytes(uint64_t n) { return (uint8_t *)malloc((size_t)n); }
static void release(uint8_t *p) { free(p); }
#define EXPORT
#endif

EXPORT uint64_t run(uint64_t mib) {
    uint64_t n = mib << 20;
    if (n == 0) return 0;
    uint8_t *b = alloc_bytes(n);
    if (!b) return 0;
    uint32_t s = 0x2545F491u;
    for (uint64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        b[i] = (uint8_t)(s >> 24);
    }
    uint64_t checksum = 0;
    for (int pass = 0; pass < PASSES; pass++) {
        uint64_t hist[256];
        for (int k = 0; k < 256; k++) hist[k] = 0;
        for (uint64_t i = 0; i < n; i++) hist[b[i]]++;
        for (int k = 0; k < 256; k++) checksum = checksum * 31 + hist[k] * (uint64_t)(k + 1);

        uint8_t key = (uint8_t)(0x5Au + pass * 17);
        uint8_t prev = 0;
        for (uint64_t i = 0; i < n; i++) {
            uint8_t v = (uint8_t)((uint8_t)(b[i] * 7u + prev) ^ key);
            b[i] = v;
            prev = v;
        }

        for (uint64_t blk = 0; blk + 4096 <= n; blk += 4096) {
            uint8_t *lo = b + blk, *hi = b + blk + 4095;
            while (lo < hi) { uint8_t t = *lo; *lo++ = *hi; *hi-- = t; }
        }

        uint64_t found = 0;
        uint8_t p0 = b[0], p1 = b[1], p2 = b[2];
        for (uint64_t i = 0; i + 2 < n; i++)
            if (b[i] == p0 && b[i + 1] == p1 && b[i + 2] == p2) found++;
        checksum = checksum * 1000003u + found;
    }
    for (uint64_t i = 0; i < n; i += 4099) checksum = checksum * 131 + b[i];
    release(b);
    return checksum;
}

#ifndef FREESTANDING
int main(int argc, char **argv) {
    uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : DEFAULT_MIB;
    uint64_t c = run(mib);
    printf("bytes64: %llu MiB, %d passes\n", (unsigned long long)mib, PASSES);
    printf("checksum: %llu\n", (unsigned long long)c);
    return 0;
}
#endif
