/* exit3: buffered stdout must be flushed by exit(); proc_exit(3). */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    printf("exiting with 3");  /* no newline: only exit() flushes it */
    exit(3);
}
