/* cat: copy stdin to stdout with read(2)/write(2) until EOF (fd_read on
 * fd 0, fd_write on fd 1), then report the byte count on stderr. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
    char buf[7]; /* deliberately small and odd so reads are split */
    long total = 0;
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n < 0) { perror("read"); return 1; }
        if (n == 0) break;
        ssize_t off = 0;
        while (off < n) {
            ssize_t w = write(1, buf + off, (size_t)(n - off));
            if (w <= 0) { perror("write"); return 1; }
            off += w;
        }
        total += n;
    }
    fprintf(stderr, "cat: %ld bytes\n", total);
    return 0;
}
