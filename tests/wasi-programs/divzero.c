/* divzero: integer division by zero traps (i32.div_s). */
#include <stdio.h>

volatile int zero = 0;
volatile int result;

int main(void) {
    printf("dividing by zero\n");
    fflush(stdout);
    result = 42 / zero;
    printf("not reached: %d\n", result);
    return 0;
}
