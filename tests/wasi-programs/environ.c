/* environ: print the environment entries that start with "WASMAOT_", sorted,
 * plus the total count and a few getenv() probes (environ_sizes_get /
 * environ_get). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
    int total = 0;
    for (char **e = environ; *e; e++) total++;
    char **sel = malloc(sizeof(char *) * (size_t)(total + 1));
    int n = 0;
    for (char **e = environ; *e; e++)
        if (strncmp(*e, "WASMAOT_", 8) == 0) sel[n++] = *e;
    qsort(sel, (size_t)n, sizeof(char *), cmp);
    printf("total=%d selected=%d\n", total, n);
    for (int i = 0; i < n; i++) printf("%s\n", sel[i]);
    const char *probe[] = {"WASMAOT_GREETING", "WASMAOT_EMPTY", "WASMAOT_MISSING", "PATH", "HOME"};
    for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++) {
        const char *v = getenv(probe[i]);
        if (v) printf("getenv(%s)=\"%s\"\n", probe[i], v);
        else printf("getenv(%s)=NULL\n", probe[i]);
    }
    free(sel);
    return 0;
}
