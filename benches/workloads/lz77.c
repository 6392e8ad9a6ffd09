/* lz77: LZ77-style compressor + decompressor with verification.
 *
 * Generates SIZE bytes of compressible data (word-based pseudo text with
 * repeats, plus some runs and noise), compresses it with a hash-chain LZ77
 * matcher (64 KiB window, min match 4, max match 258) at three effort
 * levels (chain depth 4, 16, 64), decompresses each result, and verifies
 * the round trip byte for byte.
 *
 * Format: groups of up to 8 items preceded by a flag byte (bit set = match);
 * a literal is one byte, a match is 3 bytes: (len - 4), distance lo, hi.
 *
 * Usage: lz77 [SIZE_KB]   (default SIZE_KB = 16384, i.e. 16 MiB)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 65535u
#define MIN_MATCH 4u
#define MAX_MATCH 258u
#define HASH_BITS 15

static uint32_t rs = 0x1234567u;
static uint32_t rnd(void) { rs ^= rs << 13; rs ^= rs >> 17; rs ^= rs << 5; return rs; }

static void generate(uint8_t *out, size_t n) {
    static const char *words[] = {"the ", "quick ", "brown ", "fox ", "jumps ", "over ", "lazy ", "dog ",
                                  "and ", "then ", "compiler ", "memory ", "table ", "function ", "value ",
                                  "wasm ", "native ", "stack ", "frame ", "loop ", "\n", ", ", ". "};
    const int nw = (int)(sizeof(words) / sizeof(words[0]));
    size_t i = 0;
    while (i < n) {
        uint32_t r = rnd();
        uint32_t kind = r % 64;
        if (kind < 52) {
            const char *w = words[(r >> 8) % (uint32_t)nw];
            while (*w && i < n) out[i++] = (uint8_t)*w++;
        } else if (kind < 58 && i > 1000) { /* copy an earlier phrase */
            size_t len = 8 + (r >> 8) % 120;
            size_t back = 1 + (r >> 16) % 30000;
            if (back > i) back = i;
            for (size_t k = 0; k < len && i < n; k++, i++) out[i] = out[i - back];
        } else if (kind < 61) { /* run */
            size_t len = 3 + (r >> 8) % 300;
            uint8_t c = (uint8_t)(r >> 24);
            for (size_t k = 0; k < len && i < n; k++) out[i++] = c;
        } else { /* noise */
            size_t len = 1 + (r >> 8) % 40;
            for (size_t k = 0; k < len && i < n; k++) out[i++] = (uint8_t)rnd();
        }
    }
}

static inline uint32_t hash4(const uint8_t *p) {
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return (v * 2654435761u) >> (32 - HASH_BITS);
}

static size_t compress(const uint8_t *in, size_t n, uint8_t *out, int32_t *head, int32_t *prev, int max_chain) {
    for (size_t i = 0; i < (1u << HASH_BITS); i++) head[i] = -1;
    size_t o = 0, i = 0;
    size_t flag_pos = o++;
    int items = 0;
    uint8_t flags = 0;
    while (i < n) {
        uint32_t best_len = 0, best_dist = 0;
        if (i + MIN_MATCH <= n) {
            uint32_t h = hash4(in + i);
            int32_t cand = head[h];
            int chain = max_chain;
            size_t max_len = n - i < MAX_MATCH ? n - i : MAX_MATCH;
            while (cand >= 0 && i - (size_t)cand <= WINDOW && chain-- > 0) {
                const uint8_t *a = in + cand, *b = in + i;
                if (a[best_len] == b[best_len]) {
                    uint32_t l = 0;
                    while (l < max_len && a[l] == b[l]) l++;
                    if (l > best_len) { best_len = l; best_dist = (uint32_t)(i - (size_t)cand); if (l == max_len) break; }
                }
                cand = prev[cand];
            }
            prev[i] = head[h];
            head[h] = (int32_t)i;
        }
        if (best_len >= MIN_MATCH) {
            flags |= (uint8_t)(1u << items);
            out[o++] = (uint8_t)(best_len - MIN_MATCH);
            out[o++] = (uint8_t)(best_dist & 0xff);
            out[o++] = (uint8_t)(best_dist >> 8);
            /* insert the skipped positions into the hash chains */
            for (size_t k = i + 1; k < i + best_len && k + MIN_MATCH <= n; k++) {
                uint32_t h = hash4(in + k);
                prev[k] = head[h];
                head[h] = (int32_t)k;
            }
            i += best_len;
        } else {
            out[o++] = in[i++];
        }
        if (++items == 8) {
            out[flag_pos] = flags;
            flag_pos = o++;
            items = 0;
            flags = 0;
        }
    }
    out[flag_pos] = flags;
    return o;
}

static size_t decompress(const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
    size_t i = 0, o = 0;
    while (i < n) {
        uint8_t flags = in[i++];
        for (int k = 0; k < 8 && i < n; k++) {
            if (flags & (1u << k)) {
                if (i + 3 > n) return (size_t)-1;
                size_t len = (size_t)in[i] + MIN_MATCH;
                size_t dist = (size_t)in[i + 1] | (size_t)in[i + 2] << 8;
                i += 3;
                if (dist == 0 || dist > o || o + len > cap) return (size_t)-1;
                uint8_t *d = out + o;
                const uint8_t *s = d - dist;
                for (size_t m = 0; m < len; m++) d[m] = s[m]; /* may overlap: byte by byte */
                o += len;
            } else {
                if (o >= cap) return (size_t)-1;
                out[o++] = in[i++];
            }
        }
    }
    return o;
}

int main(int argc, char **argv) {
    size_t kb = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 16384u;
    size_t n = kb * 1024;
    uint8_t *data = calloc(n + 8, 1);
    uint8_t *comp = malloc(n + n / 8 + 16);
    uint8_t *back = calloc(n + 8, 1);
    int32_t *head = malloc(sizeof(int32_t) << HASH_BITS);
    int32_t *prev = malloc(n * sizeof(int32_t) + 4);
    if (!data || !comp || !back || !head || !prev) { puts("out of memory"); return 1; }
    generate(data, n);
    static const int levels[3] = {4, 16, 64};
    uint64_t checksum = 0;
    int ok = 1;
    size_t clens[3];
    for (int l = 0; l < 3; l++) {
        size_t clen = compress(data, n, comp, head, prev, levels[l]);
        memset(back, 0, n);
        size_t dlen = decompress(comp, clen, back, n);
        ok &= dlen == n && memcmp(data, back, n) == 0;
        uint64_t h = 14695981039346656037ull;
        for (size_t i = 0; i < clen; i++) h = (h ^ comp[i]) * 1099511628211ull;
        checksum = checksum * 31 + (h ^ ((uint64_t)clen << 1));
        clens[l] = clen;
    }
    checksum += (uint64_t)ok;
    printf("lz77: %zu -> %zu / %zu / %zu bytes, round trips %s\n", n, clens[0], clens[1], clens[2],
           ok ? "ok" : "FAILED");
    printf("checksum: %llu\n", (unsigned long long)checksum);
    free(data); free(comp); free(back); free(head); free(prev);
    return ok ? 0 : 1;
}
