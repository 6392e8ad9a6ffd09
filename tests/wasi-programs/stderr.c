/* stderr: interleave output on stdout and stderr (fd 1 and fd 2). */
#include <stdio.h>
#include <unistd.h>

int main(void) {
    printf("out 1\n");
    fflush(stdout);
    fprintf(stderr, "err 1\n");
    printf("out 2\n");
    fflush(stdout);
    fputs("err 2: no newline at end", stderr);
    fputs("\n", stderr);
    const char raw[] = "err 3 via write(2)\n";
    write(2, raw, sizeof raw - 1);
    printf("out 3\n");
    return 0;
}
