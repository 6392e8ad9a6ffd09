/* sort: quicksort and merge sort over millions of 32-bit ints.
 *
 * N pseudo-random ints are sorted with a hand-written quicksort (median of
 * three, insertion sort for short ranges, recursion on the smaller side)
 * and independently with a bottom-up merge sort using a scratch buffer.
 * The results must agree and be ordered.  A second pass sorts data with
 * many duplicates (values mod 1000) and an almost-sorted sequence.
 *
 * Usage: sort [N]   (default N = 2000000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rs = 0x9E3779B9u;
static uint32_t rnd(void) { rs ^= rs << 13; rs ^= rs >> 17; rs ^= rs << 5; return rs; }

static void insertion(int32_t *a, int64_t lo, int64_t hi) {
    for (int64_t i = lo + 1; i <= hi; i++) {
        int32_t v = a[i];
        int64_t j = i - 1;
        while (j >= lo && a[j] > v) { a[j + 1] = a[j]; j--; }
        a[j + 1] = v;
    }
}

static void quicksort(int32_t *a, int64_t lo, int64_t hi) {
    while (hi - lo > 16) {
        int64_t mid = lo + (hi - lo) / 2;
        /* median of three into a[mid] */
        if (a[mid] < a[lo]) { int32_t t = a[mid]; a[mid] = a[lo]; a[lo] = t; }
        if (a[hi] < a[lo]) { int32_t t = a[hi]; a[hi] = a[lo]; a[lo] = t; }
        if (a[hi] < a[mid]) { int32_t t = a[hi]; a[hi] = a[mid]; a[mid] = t; }
        int32_t pivot = a[mid];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) { int32_t t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
        }
        /* recurse into the smaller part, loop on the larger */
        if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; }
        else { quicksort(a, i, hi); hi = j; }
    }
    insertion(a, lo, hi);
}

static void mergesort_bu(int32_t *a, int32_t *tmp, size_t n) {
    int32_t *src = a, *dst = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) dst[k++] = src[i] <= src[j] ? src[i++] : src[j++];
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
        }
        int32_t *t = src; src = dst; dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof(int32_t));
}

static uint64_t digest(const int32_t *a, size_t n) {
    uint64_t h = 0;
    for (size_t i = 0; i < n; i++) h = h * 0x100000001B3ull + (uint32_t)a[i];
    return h;
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 2000000u;
    if (n < 2) n = 2;
    int32_t *orig = malloc(n * sizeof(int32_t));
    int32_t *q = malloc(n * sizeof(int32_t));
    int32_t *m = malloc(n * sizeof(int32_t));
    int32_t *tmp = malloc(n * sizeof(int32_t));
    if (!orig || !q || !m || !tmp) { puts("out of memory"); return 1; }
    uint64_t checksum = 0;
    int bad = 0;
    for (int pattern = 0; pattern < 3; pattern++) {
        for (size_t i = 0; i < n; i++) {
            uint32_t r = rnd();
            if (pattern == 0) orig[i] = (int32_t)r;
            else if (pattern == 1) orig[i] = (int32_t)(r % 1000u) - 500;
            else orig[i] = (int32_t)i * 4 + (int32_t)(r % 64u) - 32; /* almost sorted */
        }
        memcpy(q, orig, n * sizeof(int32_t));
        memcpy(m, orig, n * sizeof(int32_t));
        quicksort(q, 0, (int64_t)n - 1);
        mergesort_bu(m, tmp, n);
        if (memcmp(q, m, n * sizeof(int32_t)) != 0) bad++;
        for (size_t i = 1; i < n; i++) if (q[i - 1] > q[i]) { bad++; break; }
        checksum = checksum * 31 + digest(q, n);
        checksum ^= (uint64_t)(uint32_t)q[n / 2] << 20;
    }
    printf("sort: %zu ints x 3 patterns, %s\n", n, bad ? "MISMATCH" : "verified");
    printf("checksum: %llu\n", (unsigned long long)(checksum + (uint64_t)bad));
    free(orig); free(q); free(m); free(tmp);
    return 0;
}
