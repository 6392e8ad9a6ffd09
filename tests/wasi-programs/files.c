/* files: filesystem calls through wasi-libc on a writable preopen
 * (/sandbox) and a read-only fixture preopen (/data): create, write, read,
 * seek, pread/pwrite, truncate, append, stat, stdio, rename, unlink,
 * mkdir/rmdir, readdir (sorted), chdir-relative paths and error cases.
 * Every step prints its result; errors print the errno name. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errname.h"

static void report(const char *what, int ok) { printf("%s: %s\n", what, ok ? "OK" : errname(errno)); }

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list_dir(const char *path) {
    DIR *d = opendir(path);
    if (!d) { printf("opendir %s: %s\n", path, errname(errno)); return; }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 64) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char buf[300];
        snprintf(buf, sizeof buf, "%s%s", e->d_name,
                 e->d_type == DT_DIR ? "/" : e->d_type == DT_REG ? "" : e->d_type == DT_LNK ? "@" : "?");
        names[n++] = strdup(buf);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof(char *), cmp);
    printf("readdir %s:", path);
    for (int i = 0; i < n; i++) { printf(" %s", names[i]); free(names[i]); }
    printf("\n");
}

static void show_stat(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) { printf("stat %s: %s\n", path, errname(errno)); return; }
    /* directory sizes are filesystem-specific: print the size of files only */
    if (S_ISREG(st.st_mode))
        printf("stat %s: type=file size=%lld nlink_positive=%s\n", path, (long long)st.st_size,
               st.st_nlink > 0 ? "true" : "false");
    else
        printf("stat %s: type=%s\n", path, S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "link" : "other");
}

int main(void) {
    char buf[128];
    ssize_t n;

    report("mkdir /sandbox/dir", mkdir("/sandbox/dir", 0755) == 0);
    report("mkdir /sandbox/dir again (EEXIST)", mkdir("/sandbox/dir", 0755) == 0);
    report("mkdir /sandbox/dir/sub", mkdir("/sandbox/dir/sub", 0755) == 0);

    /* create + write */
    int fd = open("/sandbox/dir/a.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    report("open a.txt O_CREAT|O_WRONLY", fd >= 0);
    const char line[] = "hello world\n";
    long written = 0;
    for (int i = 0; i < 3; i++) written += write(fd, line, sizeof line - 1);
    printf("write a.txt: %ld bytes\n", written);
    n = read(fd, buf, 4);
    printf("read on O_WRONLY fd: %s\n", n < 0 ? errname(errno) : "succeeded?!");
    report("close a.txt", close(fd) == 0);
    n = read(fd, buf, 4);
    printf("read on closed fd: %s\n", n < 0 ? errname(errno) : "succeeded?!");
    show_stat("/sandbox/dir/a.txt");

    /* read + seek */
    fd = open("/sandbox/dir/a.txt", O_RDWR);
    report("open a.txt O_RDWR", fd >= 0);
    n = read(fd, buf, 5);
    printf("read 5: \"%.*s\"\n", (int)n, buf);
    printf("lseek SEEK_SET 6: %lld\n", (long long)lseek(fd, 6, SEEK_SET));
    n = read(fd, buf, 5);
    printf("read 5: \"%.*s\"\n", (int)n, buf);
    printf("lseek SEEK_CUR 0: %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    printf("lseek SEEK_END -4: %lld\n", (long long)lseek(fd, -4, SEEK_END));
    n = read(fd, buf, sizeof buf);
    printf("read rest: %zd bytes \"%.*s\"\n", n, (int)(n > 0 ? n - 1 : 0), buf);
    n = read(fd, buf, sizeof buf);
    printf("read at EOF: %zd\n", n);
    off_t bad = lseek(fd, -100, SEEK_SET);
    printf("lseek to negative offset: %s\n", bad < 0 ? errname(errno) : "succeeded?!");

    /* pwrite / pread do not move the file position */
    lseek(fd, 3, SEEK_SET);
    printf("pwrite 0 \"HELLO\": %zd\n", pwrite(fd, "HELLO", 5, 0));
    n = pread(fd, buf, 11, 0);
    printf("pread 0: \"%.*s\"\n", (int)n, buf);
    printf("position after pread/pwrite: %lld\n", (long long)lseek(fd, 0, SEEK_CUR));

    /* truncate shrink and grow */
    struct stat st;
    report("ftruncate 10", ftruncate(fd, 10) == 0);
    fstat(fd, &st);
    printf("fstat size: %lld\n", (long long)st.st_size);
    report("ftruncate 20", ftruncate(fd, 20) == 0);
    fstat(fd, &st);
    printf("fstat size: %lld\n", (long long)st.st_size);
    n = pread(fd, buf, 20, 0);
    int zeros = 1;
    for (int i = 10; i < n; i++) zeros &= buf[i] == 0;
    printf("pread after grow: %zd bytes, \"%.*s\", tail zeros=%s\n", n, 10, buf, zeros ? "true" : "false");
    close(fd);

    /* append */
    fd = open("/sandbox/dir/a.txt", O_WRONLY | O_APPEND);
    report("open a.txt O_APPEND", fd >= 0);
    lseek(fd, 0, SEEK_SET);
    printf("write tail: %zd\n", write(fd, "tail", 4));
    fstat(fd, &st);
    printf("size after append: %lld\n", (long long)st.st_size);
    close(fd);
    report("truncate(path) 5", truncate("/sandbox/dir/a.txt", 5) == 0);
    show_stat("/sandbox/dir/a.txt");

    /* stdio */
    FILE *f = fopen("/sandbox/dir/b.txt", "w");
    report("fopen b.txt w", f != NULL);
    for (int i = 0; i < 3; i++) fprintf(f, "line %d: %d\n", i, i * i);
    fclose(f);
    f = fopen("/sandbox/dir/b.txt", "r");
    while (fgets(buf, sizeof buf, f)) printf("fgets: %s", buf);
    fclose(f);

    /* a larger file: 1 MiB written in one call, read back in chunks */
    size_t big = 1u << 20;
    unsigned char *data = malloc(big);
    for (size_t i = 0; i < big; i++) data[i] = (unsigned char)(i * 7 + (i >> 10));
    fd = open("/sandbox/dir/big.bin", O_CREAT | O_RDWR | O_TRUNC, 0644);
    size_t done = 0;
    while (done < big) { n = write(fd, data + done, big - done); if (n <= 0) break; done += (size_t)n; }
    printf("big write: %zu\n", done);
    lseek(fd, 0, SEEK_SET);
    size_t same = 0, total = 0;
    unsigned char chunk[4000];
    while ((n = read(fd, chunk, sizeof chunk)) > 0) {
        for (ssize_t i = 0; i < n; i++) same += chunk[i] == data[total + (size_t)i];
        total += (size_t)n;
    }
    printf("big read: %zu bytes, %s\n", total, same == big ? "identical" : "DIFFERENT");
    close(fd);
    free(data);

    /* rename, access, unlink */
    report("rename a.txt -> c.txt", rename("/sandbox/dir/a.txt", "/sandbox/dir/c.txt") == 0);
    show_stat("/sandbox/dir/a.txt");
    show_stat("/sandbox/dir/c.txt");
    report("access c.txt F_OK", access("/sandbox/dir/c.txt", F_OK) == 0);
    report("access a.txt F_OK (ENOENT)", access("/sandbox/dir/a.txt", F_OK) == 0);
    list_dir("/sandbox/dir");
    list_dir("/sandbox");
    show_stat("/sandbox/dir");

    /* chdir + relative paths */
    report("chdir /sandbox/dir", chdir("/sandbox/dir") == 0);
    printf("getcwd: %s\n", getcwd(buf, sizeof buf) ? buf : errname(errno));
    fd = open("rel.txt", O_CREAT | O_WRONLY, 0644);
    report("open relative rel.txt", fd >= 0);
    if (fd >= 0) close(fd);
    show_stat("/sandbox/dir/rel.txt");
    show_stat("sub");
    report("chdir / (not a preopen in wasi-libc)", chdir("/") == 0);

    /* error cases */
    fd = open("/sandbox/dir/missing.txt", O_RDONLY);
    printf("open missing: %s\n", fd < 0 ? errname(errno) : "succeeded?!");
    fd = open("/sandbox/dir/c.txt", O_RDONLY | O_DIRECTORY);
    printf("open file with O_DIRECTORY: %s\n", fd < 0 ? errname(errno) : "succeeded?!");
    fd = open("/sandbox/dir/c.txt", O_CREAT | O_EXCL | O_WRONLY, 0644);
    printf("open existing with O_CREAT|O_EXCL: %s\n", fd < 0 ? errname(errno) : "succeeded?!");
    fd = open("/sandbox/dir/c.txt/x", O_RDONLY);
    printf("open file/x: %s\n", fd < 0 ? errname(errno) : "succeeded?!");
    report("rmdir non-empty dir", rmdir("/sandbox/dir") == 0);
    report("rmdir a file", rmdir("/sandbox/dir/c.txt") == 0);
    report("unlink c.txt", unlink("/sandbox/dir/c.txt") == 0);
    report("unlink c.txt again", unlink("/sandbox/dir/c.txt") == 0);

    /* cleanup */
    report("unlink b.txt", unlink("/sandbox/dir/b.txt") == 0);
    report("unlink big.bin", unlink("/sandbox/dir/big.bin") == 0);
    report("unlink rel.txt", unlink("/sandbox/dir/rel.txt") == 0);
    report("rmdir sub", rmdir("/sandbox/dir/sub") == 0);
    report("rmdir dir", rmdir("/sandbox/dir") == 0);
    show_stat("/sandbox/dir");
    list_dir("/sandbox");

    /* read-only fixture directory */
    f = fopen("/data/hello.txt", "r");
    report("fopen /data/hello.txt", f != NULL);
    if (f) {
        while (fgets(buf, sizeof buf, f)) printf("data: %s", buf);
        fclose(f);
    }
    show_stat("/data/hello.txt");
    show_stat("/data/sub");
    list_dir("/data");
    list_dir("/data/sub");
    fd = open("/data/new.txt", O_CREAT | O_WRONLY, 0644);
    printf("create in read-only dir: %s\n", fd < 0 ? "failed" : "succeeded?!");
    fd = open("/data/hello.txt", O_WRONLY);
    printf("open read-only file for writing: %s\n", fd < 0 ? "failed" : "succeeded?!");
    printf("mkdir in read-only dir: %s\n", mkdir("/data/newdir", 0755) != 0 ? "failed" : "succeeded?!");
    return 0;
}
