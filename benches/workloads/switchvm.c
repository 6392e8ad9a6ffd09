/* switchvm: a big switch-based register VM (46 opcodes).
 *
 * A pseudo-random program of BODY instructions over 16 32-bit registers and
 * a 256-word scratch memory is generated from a fixed seed, then executed
 * ITER times.  Dispatch is a single large `switch` in a loop, with
 * data-dependent "skip next instruction" opcodes, so branch prediction of
 * the jump table is imperfect.  After every iteration the registers are
 * folded into the checksum.
 *
 * Usage: switchvm [ITER]   (default ITER = 1400000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define BODY 251
#define NOPS 46

typedef struct {
    uint8_t op, d, s1, s2;
    uint32_t imm;
} Insn;

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint64_t next_rand(void) {
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint32_t rotl32(uint32_t x, uint32_t k) { k &= 31; return k ? (x << k) | (x >> (32 - k)) : x; }
static inline uint32_t rotr32(uint32_t x, uint32_t k) { k &= 31; return k ? (x >> k) | (x << (32 - k)) : x; }

static uint32_t clz32(uint32_t x) { return x ? (uint32_t)__builtin_clz(x) : 32; }
static uint32_t ctz32(uint32_t x) { return x ? (uint32_t)__builtin_ctz(x) : 32; }

__attribute__((noinline)) static uint64_t execute(const Insn *prog, int n, uint32_t *r, uint32_t *mem) {
    uint64_t executed = 0;
    for (int pc = 0; pc < n; pc++) {
        const Insn *in = &prog[pc];
        uint32_t a = r[in->s1], b = r[in->s2];
        uint32_t *d = &r[in->d];
        executed++;
        switch (in->op) {
        case 0: *d = a + b; break;
        case 1: *d = a - b; break;
        case 2: *d = a * b; break;
        case 3: *d = a & b; break;
        case 4: *d = a | b; break;
        case 5: *d = a ^ b; break;
        case 6: *d = a << (b & 31); break;
        case 7: *d = a >> (b & 31); break;
        case 8: *d = (uint32_t)((int32_t)a >> (b & 31)); break;
        case 9: *d = rotl32(a, b); break;
        case 10: *d = rotr32(a, b); break;
        case 11: *d = a + in->imm; break;
        case 12: *d = a * (in->imm | 1); break;
        case 13: *d = a ^ in->imm; break;
        case 14: *d = a & in->imm; break;
        case 15: *d = a | in->imm; break;
        case 16: *d = a < b ? a : b; break;
        case 17: *d = a > b ? a : b; break;
        case 18: *d = (int32_t)a < (int32_t)b ? a : b; break;
        case 19: *d = (int32_t)a > (int32_t)b ? a : b; break;
        case 20: *d = a == b; break;
        case 21: *d = a != b; break;
        case 22: *d = a < b; break;
        case 23: *d = (int32_t)a < (int32_t)b; break;
        case 24: if (a & 1) *d = b; break;
        case 25: *d = ~a; break;
        case 26: *d = 0u - a; break;
        case 27: *d = clz32(a); break;
        case 28: *d = (uint32_t)__builtin_popcount(a); break;
        case 29: *d = (a >> 24) | ((a >> 8) & 0xff00u) | ((a << 8) & 0xff0000u) | (a << 24); break;
        case 30: *d = mem[(a + in->imm) & 255]; break;
        case 31: mem[(a + in->imm) & 255] = b; break;
        case 32: *d = b ? a / b : 0xFFFFFFFFu; break;
        case 33: *d = b ? a % b : a; break;
        case 34: {
            int32_t x = (int32_t)a, y = (int32_t)b;
            *d = (y == 0 || (x == INT32_MIN && y == -1)) ? (uint32_t)x : (uint32_t)(x / y);
            break;
        }
        case 35: {
            int32_t x = (int32_t)a, y = (int32_t)b;
            *d = (y == 0 || (x == INT32_MIN && y == -1)) ? 0u : (uint32_t)(x % y);
            break;
        }
        case 36: *d = in->imm; break;
        case 37: *d = a; break;
        case 38: if (a == 0) pc++; break;         /* skip next if zero */
        case 39: if ((a & 3) == 0) pc++; break;   /* skip next if a % 4 == 0 */
        case 40: *d = (a ^ rotl32(b, 13)) * 0x9E3779B1u; break;
        case 41: *d = (uint32_t)(((uint64_t)a + b) >> 1); break;
        case 42: *d = a > b ? a - b : b - a; break;
        case 43: { /* one CRC-32 (reflected) step over the low byte of a, seeded by b */
            uint32_t c = b ^ (a & 0xffu);
            for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
            *d = c;
            break;
        }
        case 44: *d = (uint32_t)(((uint64_t)a * (uint64_t)(b | 1u)) >> 32); break;
        case 45: *d = ctz32(a); break;
        default: *d = 0xDEADBEEFu; break;
        }
    }
    return executed;
}

int main(int argc, char **argv) {
    uint32_t iters = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1400000u;
    static Insn prog[BODY];
    for (int i = 0; i < BODY; i++) {
        uint64_t x = next_rand();
        prog[i].op = (uint8_t)(x % NOPS);
        prog[i].d = (uint8_t)((x >> 8) & 15);
        prog[i].s1 = (uint8_t)((x >> 12) & 15);
        prog[i].s2 = (uint8_t)((x >> 16) & 15);
        prog[i].imm = (uint32_t)(x >> 32);
    }
    uint32_t r[16], mem[256];
    for (int i = 0; i < 16; i++) r[i] = (uint32_t)next_rand();
    for (int i = 0; i < 256; i++) mem[i] = (uint32_t)next_rand();
    uint64_t checksum = 0, executed = 0;
    for (uint32_t it = 0; it < iters; it++) {
        r[it & 15] ^= it; /* keep the state moving even if the program collapses */
        executed += execute(prog, BODY, r, mem);
        uint64_t h = 0;
        for (int i = 0; i < 16; i++) h = (h ^ r[i]) * 0x100000001B3ull;
        checksum = (checksum ^ h) * 0x9E3779B97F4A7C15ull + it;
    }
    for (int i = 0; i < 256; i++) checksum += (uint64_t)mem[i] * (uint64_t)(i + 1);
    printf("switchvm: %u iterations, %llu instructions\n", iters, (unsigned long long)executed);
    printf("checksum: %llu\n", (unsigned long long)checksum);
    return 0;
}
