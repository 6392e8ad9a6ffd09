/* oob: a store to linear-memory address 0xFFFFFFF0, far beyond the memory
 * size, traps (out-of-bounds memory access). */
#include <stdint.h>
#include <stdio.h>

int main(void) {
    printf("writing out of bounds\n");
    fflush(stdout);
    volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)0xFFFFFFF0u;
    *p = 0xDEADBEEFu;
    printf("not reached\n");
    return 0;
}
