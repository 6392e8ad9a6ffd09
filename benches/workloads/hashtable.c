/* hashtable: open-addressing hash table (random memory access).
 *
 * A linear-probing table of 2^LOG_CAP (key, value) slots of 64-bit words
 * (32 MiB at the default size).  Phases: OPS upserts of keys drawn from a
 * range of about OPS/2 distinct values (so roughly half are updates), 2*OPS
 * lookups (about half misses), OPS/4 deletions with backward-shift
 * deletion (no tombstones), then a verification sweep.
 *
 * Usage: hashtable [OPS]   (default OPS = 5000000; capacity grows with OPS)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define EMPTY 0ull /* keys are never 0 */

typedef struct { uint64_t key, val; } Slot;
typedef struct { Slot *slots; uint64_t mask; uint32_t shift; uint64_t count; } Table;

static uint64_t rng = 88172645463325252ull;
static uint64_t xorshift64(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static inline uint64_t slot_of(const Table *t, uint64_t key) {
    return (key * 0x9E3779B97F4A7C15ull) >> t->shift;
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

int main(int argc, char **argv) {
    uint64_t ops = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000ull;
    if (ops < 16) ops = 16;
    uint32_t log_cap = 4;
    while ((1ull << log_cap) < ops * 2 / 3) log_cap++; /* load factor <= ~0.75 for ops/2 keys */
    Table t;
    t.mask = (1ull << log_cap) - 1;
    t.shift = 64 - log_cap;
    t.count = 0;
    t.slots = calloc((size_t)1 << log_cap, sizeof(Slot));
    if (!t.slots) { puts("out of memory"); return 1; }
    uint64_t range = ops / 2;

    for (uint64_t n = 0; n < ops; n++) upsert(&t, key_for(xorshift64() % range), n & 0xff);
    uint64_t after_insert = t.count;

    uint64_t hits = 0, vsum = 0;
    for (uint64_t n = 0; n < 2 * ops; n++) {
        const Slot *s = lookup(&t, key_for(xorshift64() % (2 * range)));
        if (s) { hits++; vsum += s->val; }
    }

    uint64_t erased = 0;
    for (uint64_t n = 0; n < ops / 4; n++) erased += (uint64_t)erase(&t, key_for(xorshift64() % range));

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
    printf("hashtable: 2^%u slots, %llu keys after inserts, %llu hits, %llu erased, %s\n", log_cap,
           (unsigned long long)after_insert, (unsigned long long)hits, (unsigned long long)erased,
           ok == t.count ? "consistent" : "INCONSISTENT");
    printf("checksum: %llu\n", (unsigned long long)checksum);
    free(t.slots);
    return 0;
}
