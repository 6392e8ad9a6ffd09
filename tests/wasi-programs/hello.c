/* hello: the smallest possible WASI program (fd_write + proc_exit 0). */
#include <stdio.h>

int main(void) {
    puts("hello, world");
    return 0;
}
