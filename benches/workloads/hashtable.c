/* hashtable: open-addressing hash table (random memory access).
 *
 * A linear-probing table of (key, value) slots of 64-bit words, hashed with
 * SipHash-1-3 as in Rust's std HashMap.  Each round
 * runs ROUND_OPS upserts of keys drawn from a range of about ROUND_OPS/2
 * distinct values (so roughly half are updates), 2*ROUND_OPS lookups (about
 * half misses), ROUND_OPS/4 deletions with backward-shift deletion (no
 * tombstones), then a verification sweep; the table is sized for the round
 * (2^15 slots, 512 KiB, at the default ROUND_OPS: a cache-resident table,
 * like most tables a program probes).  OPS operations in all.
 *
 * Usage: hashtable [OPS [ROUND_OPS]]   (default OPS = 10000000,
 *                                       ROUND_OPS = 40000; ROUND_OPS 0 = one
 *                                       round over OPS, a table of 16*OPS*4/3
 *                                       bytes or more, bound by the memory system)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define EMPTY 0ull /* keys are never 0 */

typedef struct { uint64_t key, val; } Slot;
typedef struct { Slot *slots; uint64_t mask; uint32_t shift; uint64_t count; } Table;

static uint64_t rng = 88172645463325252ull;
static uint64_t xorshift64(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

/* A uniform draw from [0, range), range < 2^32: multiply-shift ("fastrange")
 * instead of a 64-bit division. */
static uint64_t draw(uint64_t range) { return ((xorshift64() >> 32) * range) >> 32; }

/* SipHash-1-3 of one 64-bit word, the hash Rust's std HashMap uses by default
 * (keyed per table in Rust; fixed keys here so the checksum is deterministic). */
#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                              \
    do {                                                                      \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);             \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);             \
    } while (0)
static uint64_t siphash13_u64(uint64_t m) {
    const uint64_t k0 = 0x0706050403020100ull, k1 = 0x0f0e0d0c0b0a0908ull;
    uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
    uint64_t b = 8ull << 56; /* message length in the top byte, no tail */
    v3 ^= m; SIPROUND; v0 ^= m;
    v3 ^= b; SIPROUND; v0 ^= b;
    v2 ^= 0xff; SIPROUND; SIPROUND; SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static inline uint64_t slot_of(const Table *t, uint64_t key) {
    return siphash13_u64(key) >> t->shift;
}

static void upsert(Table *t, uint64_t key, uint64_t add) {
    uint64_t i = slot_of(t, key);
    for (;;) {
        Slot *s = &t->slots[i];
        if (s->key == key) { s->val += add; return; }
        if (s->key == EMPTY) { s->key = key; s->val = add; t->count++; return; }
        i = (i + 1) & t->mask;
    }
}

static const Slot *lookup(const Table *t, uint64_t key) {
    uint64_t i = slot_of(t, key);
    for (;;) {
        const Slot *s = &t->slots[i];
        if (s->key == key) return s;
        if (s->key == EMPTY) return NULL;
        i = (i + 1) & t->mask;
    }
}

static int erase(Table *t, uint64_t key) {
    uint64_t i = slot_of(t, key);
    for (;;) {
        if (t->slots[i].key == key) break;
        if (t->slots[i].key == EMPTY) return 0;
        i = (i + 1) & t->mask;
    }
    /* backward-shift deletion */
    uint64_t j = i;
    for (;;) {
        j = (j + 1) & t->mask;
        if (t->slots[j].key == EMPTY) break;
        uint64_t home = slot_of(t, t->slots[j].key);
        /* can slot j's entry move to the hole at i? only if home is not in (i, j] cyclically */
        int in_range = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_range) { t->slots[i] = t->slots[j]; i = j; }
    }
    t->slots[i].key = EMPTY;
    t->slots[i].val = 0;
    t->count--;
    return 1;
}

static uint64_t key_for(uint64_t x) { return (x * 0xD6E8FEB86659FD93ull) | 1ull; }

/* One round on a fresh table sized for `ops`; returns its checksum. */
static uint64_t round_checksum(uint64_t ops, int verbose) {
    if (ops < 16) ops = 16;
    uint32_t log_cap = 4;
    while ((1ull << log_cap) < ops * 2 / 3) log_cap++; /* load factor <= ~0.75 for ops/2 keys */
    Table t;
    t.mask = (1ull << log_cap) - 1;
    t.shift = 64 - log_cap;
    t.count = 0;
    t.slots = calloc((size_t)1 << log_cap, sizeof(Slot));
    if (!t.slots) { puts("out of memory"); exit(1); }
    uint64_t range = ops / 2;

    for (uint64_t n = 0; n < ops; n++) upsert(&t, key_for(draw(range)), n & 0xff);
    uint64_t after_insert = t.count;

    uint64_t hits = 0, vsum = 0;
    for (uint64_t n = 0; n < 2 * ops; n++) {
        const Slot *s = lookup(&t, key_for(draw(2 * range)));
        if (s) { hits++; vsum += s->val; }
    }

    uint64_t erased = 0;
    for (uint64_t n = 0; n < ops / 4; n++) erased += (uint64_t)erase(&t, key_for(draw(range)));

    /* verification: every remaining entry must be findable from its home slot */
    uint64_t ok = 0, sum_keys = 0;
    for (uint64_t i = 0; i <= t.mask; i++) {
        if (t.slots[i].key != EMPTY) {
            if (lookup(&t, t.slots[i].key) == &t.slots[i]) ok++;
            sum_keys += t.slots[i].key ^ t.slots[i].val;
        }
    }
    uint64_t checksum = after_insert * 1000003u + hits;
    checksum = checksum * 1000003u + vsum;
    checksum = checksum * 1000003u + erased;
    checksum = (checksum ^ sum_keys) + ok + (ok == t.count ? 0 : 0x8000000000000000ull);
    if (verbose) printf("hashtable: 2^%u slots, %llu keys after inserts, %llu hits, %llu erased, %s\n", log_cap,
           (unsigned long long)after_insert, (unsigned long long)hits, (unsigned long long)erased,
           ok == t.count ? "consistent" : "INCONSISTENT");
    free(t.slots);
    return checksum;
}

int main(int argc, char **argv) {
    uint64_t ops = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000ull;
    uint64_t round_ops = argc > 2 ? strtoull(argv[2], NULL, 10) : 40000ull;
    if (ops < 16) ops = 16;
    if (round_ops == 0 || round_ops > ops) round_ops = ops;
    uint64_t checksum = 0;
    for (uint64_t done = 0; done < ops; done += round_ops) {
        uint64_t n = ops - done < round_ops ? ops - done : round_ops;
        uint64_t c = round_checksum(n, done + round_ops >= ops);
        checksum = done ? (checksum * 1000003u) ^ c : c;
    }
    printf("hashtable: %llu operations in rounds of %llu\n", (unsigned long long)ops,
           (unsigned long long)round_ops);
    printf("checksum: %llu\n", (unsigned long long)checksum);
    return 0;
}
