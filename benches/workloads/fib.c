/* fib: deep, call-heavy recursion.
 *
 * Naive doubly-recursive Fibonacci plus the Takeuchi function, both through
 * noinline functions so every call is a real call.
 *
 * Usage: fib [N]   (default N = 42; tak arguments scale with N)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_N 42

__attribute__((noinline)) static uint32_t fib(uint32_t n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

__attribute__((noinline)) static int tak(int x, int y, int z) {
    if (y >= x) return z;
    return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y));
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : DEFAULT_N;
    if (n < 0) n = 0;
    if (n > 45) n = 45;
    uint64_t checksum = 0;
    uint32_t f = fib((uint32_t)n);
    checksum = f;
    int t = n / 2;
    for (int i = 0; i < 4; i++) {
        int r = tak(t + i, t / 2, t / 4);
        checksum = checksum * 131 + (uint32_t)r;
    }
    printf("fib(%d) = %u\n", n, f);
    printf("checksum: %llu\n", (unsigned long long)checksum);
    return 0;
}
