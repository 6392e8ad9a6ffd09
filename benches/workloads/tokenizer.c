/* tokenizer: string processing over generated C-like source text.
 *
 * Generates SIZE bytes of pseudo-C text (identifiers, keywords, decimal /
 * hex / float numbers, string literals with escapes, one- and two-character
 * operators, line and block comments), then tokenizes it PASSES times.
 * Identifiers are interned in a chained hash table (strcmp on collision,
 * memcpy into a string pool), keywords are recognised with strcmp against a
 * table, numbers are converted to values by hand.  Uses strlen, strcmp,
 * memcpy, memchr and strchr from libc.
 *
 * Usage: tokenizer [SIZE_KB]   (default SIZE_KB = 8192, i.e. 8 MiB; PASSES = 3)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSES 3

static uint32_t rs = 2166136261u;
static uint32_t rnd(void) { rs ^= rs << 13; rs ^= rs >> 17; rs ^= rs << 5; return rs; }

static const char *keywords[] = {"int", "char", "return", "if", "else", "while", "for", "struct",
                                 "static", "const", "void", "unsigned", "sizeof", "break", "switch", "case"};
#define NKEYWORDS (int)(sizeof(keywords) / sizeof(keywords[0]))
static const char *syllables[] = {"ka", "ro", "mi", "tu", "zen", "lo", "pra", "qu", "vi", "ex",
                                  "_", "on", "da", "str", "ix", "buf", "len", "ptr", "node", "x"};
#define NSYL (int)(sizeof(syllables) / sizeof(syllables[0]))
static const char *ops[] = {"+", "-", "*", "/", "%", "=", "==", "!=", "<", "<=", ">", ">=", "&&",
                            "||", "!", "&", "|", "^", "<<", ">>", "++", "--", "->", ".", ",", ";",
                            "(", ")", "{", "}", "[", "]", "+=", "-="};
#define NOPS (int)(sizeof(ops) / sizeof(ops[0]))

typedef struct { char *buf; size_t len, cap; } Str;
static void put(Str *s, const char *t) {
    size_t n = strlen(t);
    if (s->len + n + 1 > s->cap) {
        s->cap = s->cap * 2 + n + 1;
        s->buf = realloc(s->buf, s->cap);
    }
    memcpy(s->buf + s->len, t, n);
    s->len += n;
    s->buf[s->len] = 0;
}

static void generate(Str *s, size_t size) {
    char tmp[64];
    while (s->len < size) {
        uint32_t r = rnd(), kind = r % 100;
        if (kind < 30) { /* identifier */
            int parts = 1 + (int)((r >> 8) % 3);
            tmp[0] = 0;
            for (int p = 0; p < parts; p++) strcat(tmp, syllables[(r >> (10 + 5 * p)) % NSYL]);
            if ((r >> 28) & 1) { size_t l = strlen(tmp); tmp[l] = (char)('0' + (r >> 29) % 10); tmp[l + 1] = 0; }
            put(s, tmp);
        } else if (kind < 40) {
            put(s, keywords[(r >> 8) % NKEYWORDS]);
        } else if (kind < 50) { /* number */
            uint32_t v = rnd();
            int form = (int)((r >> 8) % 3);
            if (form == 0) snprintf(tmp, sizeof tmp, "%u", v % 100000u);
            else if (form == 1) snprintf(tmp, sizeof tmp, "0x%x", v);
            else snprintf(tmp, sizeof tmp, "%u.%u", v % 1000u, (v >> 10) % 1000u);
            put(s, tmp);
        } else if (kind < 53) { /* string literal with escapes */
            int len = 2 + (int)((r >> 8) % 20);
            int k = 0;
            tmp[k++] = '"';
            for (int i = 0; i < len; i++) {
                uint32_t c = rnd() % 40;
                if (c == 0) { tmp[k++] = '\\'; tmp[k++] = '"'; }
                else if (c == 1) { tmp[k++] = '\\'; tmp[k++] = 'n'; }
                else tmp[k++] = (char)('a' + c % 26);
            }
            tmp[k++] = '"';
            tmp[k] = 0;
            put(s, tmp);
        } else if (kind < 54) {
            put(s, (r >> 8) & 1 ? "// line comment with * and / inside\n" : "/* block\n comment ** / */");
        } else {
            put(s, ops[(r >> 8) % NOPS]);
        }
        uint32_t ws = rnd() % 10;
        put(s, ws == 0 ? "\n" : ws == 1 ? "\n    " : ws < 4 ? "" : " ");
    }
}

/* ---- interning ---- */
#define HBITS 16
typedef struct Sym { struct Sym *next; const char *name; uint32_t id; uint32_t uses; } Sym;
typedef struct {
    Sym *heads[1 << HBITS];
    Sym *pool; uint32_t nsyms, capsyms;
    char *chars; size_t nchars, capchars;
} Interner;

static uint32_t intern(Interner *in, const char *p, size_t n) {
    char name[128];
    if (n >= sizeof name) n = sizeof name - 1;
    memcpy(name, p, n);
    name[n] = 0;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)name[i]) * 16777619u;
    uint32_t b = h >> (32 - HBITS);
    for (Sym *s = in->heads[b]; s; s = s->next)
        if (strcmp(s->name, name) == 0) { s->uses++; return s->id; }
    if (in->nsyms == in->capsyms) return 0xFFFFFFFFu; /* full (not reached with default sizes) */
    if (in->nchars + n + 1 > in->capchars) return 0xFFFFFFFFu;
    char *dst = in->chars + in->nchars;
    memcpy(dst, name, n + 1);
    in->nchars += n + 1;
    Sym *s = &in->pool[in->nsyms];
    s->name = dst; s->id = in->nsyms++; s->uses = 1;
    s->next = in->heads[b]; in->heads[b] = s;
    return s->id;
}

enum { T_IDENT, T_KEYWORD, T_INT, T_FLOAT, T_STRING, T_OP, T_COMMENT, T_COUNT };

static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_digit(int c) { return c >= '0' && c <= '9'; }

static uint64_t tokenize(const char *src, size_t len, Interner *in, uint64_t counts[T_COUNT]) {
    uint64_t h = 0;
    const char *p = src, *end = src + len;
    while (p < end) {
        char c = *p;
        if (c == ' ' || c == '\n' || c == '\t') { p++; continue; }
        const char *start = p;
        int kind;
        uint64_t val = 0;
        if (is_alpha(c)) {
            while (p < end && (is_alpha(*p) || is_digit(*p))) p++;
            size_t n = (size_t)(p - start);
            kind = T_IDENT;
            char word[16];
            if (n < sizeof word) {
                memcpy(word, start, n);
                word[n] = 0;
                for (int k = 0; k < NKEYWORDS; k++)
                    if (strcmp(word, keywords[k]) == 0) { kind = T_KEYWORD; val = (uint64_t)k; break; }
            }
            if (kind == T_IDENT) val = intern(in, start, n);
        } else if (is_digit(c)) {
            kind = T_INT;
            if (c == '0' && p + 1 < end && p[1] == 'x') {
                p += 2;
                while (p < end && strchr("0123456789abcdef", *p) && *p) {
                    val = val * 16 + (uint64_t)(is_digit(*p) ? *p - '0' : *p - 'a' + 10);
                    p++;
                }
            } else {
                while (p < end && is_digit(*p)) val = val * 10 + (uint64_t)(*p++ - '0');
                if (p < end && *p == '.') {
                    kind = T_FLOAT;
                    p++;
                    while (p < end && is_digit(*p)) val = val * 10 + (uint64_t)(*p++ - '0');
                }
            }
        } else if (c == '"') {
            kind = T_STRING;
            p++;
            while (p < end && *p != '"') { if (*p == '\\') p++; val = val * 31 + (uint8_t)*p; p++; }
            p++;
        } else if (c == '/' && p + 1 < end && p[1] == '/') {
            kind = T_COMMENT;
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            p = nl ? nl + 1 : end;
        } else if (c == '/' && p + 1 < end && p[1] == '*') {
            kind = T_COMMENT;
            p += 2;
            for (;;) {
                const char *star = memchr(p, '*', (size_t)(end - p));
                if (!star || star + 1 >= end) { p = end; break; }
                if (star[1] == '/') { p = star + 2; break; }
                p = star + 1;
            }
        } else {
            kind = T_OP;
            static const char *two[] = {"==", "!=", "<=", ">=", "&&", "||", "<<", ">>", "++", "--", "->", "+=", "-="};
            int n = 1;
            if (p + 1 < end)
                for (int k = 0; k < 13; k++)
                    if (p[0] == two[k][0] && p[1] == two[k][1]) { n = 2; break; }
            val = (uint64_t)(uint8_t)p[0] * 256u + (n == 2 ? (uint8_t)p[1] : 0);
            p += n;
        }
        counts[kind]++;
        h = (h * 0x100000001B3ull) ^ ((uint64_t)kind << 56) ^ val ^ (uint64_t)(p - start);
    }
    return h;
}

int main(int argc, char **argv) {
    size_t kb = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 8192u;
    Str text = {0};
    generate(&text, kb * 1024);
    static Interner in;
    in.capsyms = 1u << 20;
    in.pool = calloc(in.capsyms, sizeof(Sym));
    in.capchars = 16u << 20;
    in.chars = malloc(in.capchars);
    if (!in.pool || !in.chars) { puts("out of memory"); return 1; }
    uint64_t counts[T_COUNT] = {0};
    uint64_t checksum = 0;
    for (int pass = 0; pass < PASSES; pass++) checksum = checksum * 31 + tokenize(text.buf, text.len, &in, counts);
    uint64_t uses = 0;
    for (uint32_t i = 0; i < in.nsyms; i++) uses += (uint64_t)in.pool[i].uses * (i + 1);
    for (int k = 0; k < T_COUNT; k++) checksum = checksum * 1000003u + counts[k];
    checksum ^= uses + in.nsyms;
    printf("tokenizer: %zu bytes x %d passes, %u distinct identifiers, %llu tokens/pass\n", text.len, PASSES,
           in.nsyms,
           (unsigned long long)((counts[0] + counts[1] + counts[2] + counts[3] + counts[4] + counts[5] + counts[6]) / PASSES));
    printf("checksum: %llu\n", (unsigned long long)checksum);
    free(text.buf); free(in.pool); free(in.chars);
    return 0;
}
