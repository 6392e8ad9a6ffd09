/* abort: abort() in wasi-libc executes `unreachable`, i.e. a trap (not a
 * proc_exit).  Output flushed before the abort must still appear. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    printf("about to abort\n");
    fflush(stdout);
    abort();
}
