/* bigalloc: grow linear memory to over 64 MiB through malloc in 1 MiB
 * steps (memory.grow), touch every page, sum, then realloc and free. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define STEP (1u << 20)
#define STEPS 64

int main(void) {
    size_t before = __builtin_wasm_memory_size(0);
    unsigned char *blocks[STEPS];
    uint64_t sum = 0;
    for (int i = 0; i < STEPS; i++) {
        blocks[i] = malloc(STEP);
        if (!blocks[i]) { printf("malloc failed at step %d\n", i); return 1; }
        for (size_t off = 0; off < STEP; off += 4096) blocks[i][off] = (unsigned char)(i + off / 4096);
        blocks[i][STEP - 1] = (unsigned char)i;
    }
    for (int i = 0; i < STEPS; i++) {
        for (size_t off = 0; off < STEP; off += 4096) sum += blocks[i][off];
        sum += blocks[i][STEP - 1];
    }
    size_t after = __builtin_wasm_memory_size(0);
    printf("sum=%llu\n", (unsigned long long)sum);
    printf("grew=%s\n", after > before ? "true" : "false");
    printf("at_least_64MiB=%s\n", after * 65536ull >= 64ull * STEP ? "true" : "false");
    /* grow one block to 8 MiB via realloc; contents must be preserved */
    unsigned char *big = realloc(blocks[0], 8u * STEP);
    int preserved = big && big[0] == 0 && big[4096] == 1 && big[STEP - 1] == 0;
    printf("realloc_preserved=%s\n", preserved ? "true" : "false");
    if (big) blocks[0] = big;
    for (int i = 0; i < STEPS; i++) free(blocks[i]);
    /* a single 32 MiB allocation after freeing everything */
    unsigned char *again = malloc(32u * STEP);
    printf("malloc_32MiB=%s\n", again ? "true" : "false");
    free(again);
    return 0;
}
