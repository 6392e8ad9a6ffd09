/* stackoverflow: unbounded recursion that keeps its state in wasm locals
 * (no shadow-stack frames) exhausts the native call stack and must trap
 * cleanly (wasmtime: STACK_OVERFLOW) rather than crash the host. */
#include <stdio.h>

volatile unsigned sink;

__attribute__((noinline)) static unsigned recurse(unsigned n) {
    sink = n;
    if (sink == 0xFFFFFFFFu) return 0; /* never true: keeps it well-defined */
    unsigned r = recurse(n + 1);
    return (r >> 1) + n; /* not foldable into a loop with an accumulator */
}

int main(void) {
    printf("recursing\n");
    fflush(stdout);
    unsigned r = recurse(0);
    printf("not reached: %u\n", r);
    return 0;
}
