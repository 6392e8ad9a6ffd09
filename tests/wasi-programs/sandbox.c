/* sandbox: attempts to escape the preopened directory /sandbox must fail.
 * The host creates (see sandbox.json "setup"): target.txt, inside_link ->
 * target.txt, abs_link -> /etc/passwd, rel_link -> ../../../../../../../../etc/passwd.
 * Each attempt prints OK or the errno name of the failure. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errname.h"

static void try_open(const char *label, const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) { printf("open %s (%s): %s\n", label, path, errname(errno)); return; }
    char buf[64];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) n = 0;
    buf[n] = 0;
    char *nl = strchr(buf, '\n');
    if (nl) *nl = 0;
    printf("open %s (%s): OK \"%s\"\n", label, path, buf);
}

static void report(const char *what, int ok) { printf("%s: %s\n", what, ok ? "OK" : errname(errno)); }

int main(void) {
    try_open("control", "/sandbox/target.txt");
    try_open("dotdot relative to /", "../etc/passwd");
    try_open("absolute host path", "/etc/passwd");
    try_open("dotdot out of preopen", "/sandbox/../etc/passwd");
    try_open("deep dotdot", "/sandbox/../../../../etc/passwd");
    try_open("dotdot that stays inside", "/sandbox/sub/../target.txt");
    try_open("symlink inside", "/sandbox/inside_link");
    try_open("host symlink to absolute path", "/sandbox/abs_link");
    try_open("host symlink with dotdots", "/sandbox/rel_link");

    struct stat st;
    report("lstat abs_link", lstat("/sandbox/abs_link", &st) == 0 && S_ISLNK(st.st_mode));
    report("stat abs_link (follows)", stat("/sandbox/abs_link", &st) == 0);
    char target[128];
    ssize_t n = readlink("/sandbox/inside_link", target, sizeof target - 1);
    if (n >= 0) { target[n] = 0; printf("readlink inside_link: \"%s\"\n", target); }
    else printf("readlink inside_link: %s\n", errname(errno));

    /* symlinks created by the guest itself */
    report("symlink made_link -> ../../../../../../../../etc/passwd",
           symlink("../../../../../../../../etc/passwd", "/sandbox/made_link") == 0);
    try_open("guest-made escaping symlink", "/sandbox/made_link");
    report("symlink made_abs -> /etc/passwd", symlink("/etc/passwd", "/sandbox/made_abs") == 0);
    try_open("guest-made absolute symlink", "/sandbox/made_abs");
    report("symlink made_ok -> target.txt", symlink("target.txt", "/sandbox/made_ok") == 0);
    try_open("guest-made inside symlink", "/sandbox/made_ok");

    /* escapes through chdir, rename, mkdir, opendir */
    report("chdir /sandbox", chdir("/sandbox") == 0);
    try_open("dotdot from cwd /sandbox", "../etc/passwd");
    try_open("relative inside", "target.txt");
    report("chdir / (not a preopen in wasi-libc)", chdir("/") == 0);
    report("rename out of sandbox", rename("/sandbox/target.txt", "/sandbox/../escaped.txt") == 0);
    report("mkdir outside", mkdir("/sandbox/../escaped_dir", 0755) == 0);
    DIR *d = opendir("/sandbox/..");
    report("opendir /sandbox/..", d != NULL);
    if (d) closedir(d);
    int fd = open("/sandbox/../escaped.txt", O_CREAT | O_WRONLY, 0644);
    report("create file outside", fd >= 0);
    if (fd >= 0) close(fd);

    /* cleanup of what the guest created (host-created files stay) */
    unlink("/sandbox/made_link");
    unlink("/sandbox/made_abs");
    unlink("/sandbox/made_ok");
    return 0;
}
