/* collatz: tight integer loop with a data-dependent branch.
 *
 * For every start value 1..N, count the Collatz steps to reach 1 (64-bit
 * arithmetic), track the longest chain and the total number of steps.
 *
 * Usage: collatz [N]   (default N = 3000000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_N 3000000u

int main(int argc, char **argv) {
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : DEFAULT_N;
    uint64_t total = 0, best_start = 1;
    uint32_t best_len = 0;
    uint64_t peak = 0;
    for (uint32_t s = 1; s <= n; s++) {
        uint64_t x = s;
        uint32_t len = 0;
        while (x != 1) {
            if (x & 1) x = 3 * x + 1; else x >>= 1;
            if (x > peak) peak = x;
            len++;
        }
        total += len;
        if (len > best_len) { best_len = len; best_start = s; }
    }
    uint64_t checksum = total * 31 + best_start * 7 + best_len + (peak % 1000000007u);
    printf("collatz: 1..%u longest %u steps from %llu\n", n, best_len, (unsigned long long)best_start);
    printf("checksum: %llu\n", (unsigned long long)checksum);
    return 0;
}
