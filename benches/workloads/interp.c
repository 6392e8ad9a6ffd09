/* interp: indirect calls through function pointers.
 *
 * A small stack-based bytecode VM in "threaded" style: every instruction
 * carries a pointer to its handler, and the dispatch loop is
 *     while (ip) ip = ip->fn(vm, ip);
 * so every executed bytecode is one indirect call.  The bytecode program,
 * assembled at startup, sums Euclid's gcd over all pairs 1..K x 1..K
 * (folding the results into a hash) and then runs a second program that
 * counts primes below K*8 by trial division.
 *
 * Usage: interp [K]   (default K = 2000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct VM VM;
typedef struct Insn Insn;
typedef const Insn *(*Handler)(VM *vm, const Insn *ip);

struct Insn {
    Handler fn;
    int64_t a;
    const Insn *target;
};

struct VM {
    uint64_t stack[64];
    int sp;
    uint64_t locals[16];
    uint64_t executed;
};

#define PUSH(v) (vm->stack[vm->sp++] = (v))
#define POP() (vm->stack[--vm->sp])

static const Insn *op_push(VM *vm, const Insn *ip) { PUSH((uint64_t)ip->a); return ip + 1; }
static const Insn *op_load(VM *vm, const Insn *ip) { PUSH(vm->locals[ip->a]); return ip + 1; }
static const Insn *op_store(VM *vm, const Insn *ip) { vm->locals[ip->a] = POP(); return ip + 1; }
static const Insn *op_inc(VM *vm, const Insn *ip) { vm->locals[ip->a] += 1; return ip + 1; }
static const Insn *op_add(VM *vm, const Insn *ip) { uint64_t b = POP(), a = POP(); PUSH(a + b); return ip + 1; }
static const Insn *op_sub(VM *vm, const Insn *ip) { uint64_t b = POP(), a = POP(); PUSH(a - b); return ip + 1; }
static const Insn *op_mul(VM *vm, const Insn *ip) { uint64_t b = POP(), a = POP(); PUSH(a * b); return ip + 1; }
static const Insn *op_mod(VM *vm, const Insn *ip) { uint64_t b = POP(), a = POP(); PUSH(b ? a % b : 0); return ip + 1; }
static const Insn *op_xor(VM *vm, const Insn *ip) { uint64_t b = POP(), a = POP(); PUSH(a ^ b); return ip + 1; }
static const Insn *op_lt(VM *vm, const Insn *ip) { uint64_t b = POP(), a = POP(); PUSH(a < b); return ip + 1; }
static const Insn *op_le(VM *vm, const Insn *ip) { uint64_t b = POP(), a = POP(); PUSH(a <= b); return ip + 1; }
static const Insn *op_dup(VM *vm, const Insn *ip) { uint64_t a = vm->stack[vm->sp - 1]; PUSH(a); return ip + 1; }
static const Insn *op_jz(VM *vm, const Insn *ip) { return POP() == 0 ? ip->target : ip + 1; }
static const Insn *op_jnz(VM *vm, const Insn *ip) { return POP() != 0 ? ip->target : ip + 1; }
static const Insn *op_jmp(VM *vm, const Insn *ip) { (void)vm; return ip->target; }
static const Insn *op_halt(VM *vm, const Insn *ip) { (void)vm; (void)ip; return NULL; }

/* ---- a tiny assembler with forward labels ---- */
#define MAXCODE 256
#define MAXLABEL 32
typedef struct {
    Insn code[MAXCODE];
    int len;
    int label_pos[MAXLABEL];
    int fix_label[MAXCODE]; /* -1 or label id whose address goes into code[i].target */
} Asm;

static void asm_init(Asm *as) {
    as->len = 0;
    for (int i = 0; i < MAXLABEL; i++) as->label_pos[i] = -1;
    for (int i = 0; i < MAXCODE; i++) as->fix_label[i] = -1;
}
static void emit(Asm *as, Handler fn, int64_t a) {
    as->code[as->len].fn = fn;
    as->code[as->len].a = a;
    as->code[as->len].target = NULL;
    as->len++;
}
static void emit_j(Asm *as, Handler fn, int label) {
    as->fix_label[as->len] = label;
    emit(as, fn, 0);
}
static void label(Asm *as, int l) { as->label_pos[l] = as->len; }
static void asm_link(Asm *as) {
    for (int i = 0; i < as->len; i++)
        if (as->fix_label[i] >= 0) as->code[i].target = &as->code[as->label_pos[as->fix_label[i]]];
}

static uint64_t run(VM *vm, const Insn *ip) {
    vm->sp = 0;
    uint64_t n = 0;
    while (ip) { ip = ip->fn(vm, ip); n++; }
    vm->executed += n;
    return n;
}

enum { I, J, A, B, T, SUM, K, LIMIT, D, P, CNT };

int main(int argc, char **argv) {
    int64_t k = argc > 1 ? atoll(argv[1]) : 2000;
    static Asm as;
    static VM vm;

    /* Program 1: sum of gcd(i, j) for 1 <= i, j <= K, hashed. */
    asm_init(&as);
    enum { L_I, L_J, L_W, L_WDONE, L_NEXTI, L_END };
    emit(&as, op_push, 1); emit(&as, op_store, I);
    label(&as, L_I);
    emit(&as, op_load, I); emit(&as, op_load, K); emit(&as, op_le, 0); emit_j(&as, op_jz, L_END);
    emit(&as, op_push, 1); emit(&as, op_store, J);
    label(&as, L_J);
    emit(&as, op_load, J); emit(&as, op_load, K); emit(&as, op_le, 0); emit_j(&as, op_jz, L_NEXTI);
    emit(&as, op_load, I); emit(&as, op_store, A);
    emit(&as, op_load, J); emit(&as, op_store, B);
    label(&as, L_W);
    emit(&as, op_load, B); emit_j(&as, op_jz, L_WDONE);
    emit(&as, op_load, A); emit(&as, op_load, B); emit(&as, op_mod, 0); emit(&as, op_store, T);
    emit(&as, op_load, B); emit(&as, op_store, A);
    emit(&as, op_load, T); emit(&as, op_store, B);
    emit_j(&as, op_jmp, L_W);
    label(&as, L_WDONE);
    emit(&as, op_load, SUM); emit(&as, op_push, 31); emit(&as, op_mul, 0);
    emit(&as, op_load, A); emit(&as, op_add, 0);
    emit(&as, op_load, I); emit(&as, op_xor, 0); emit(&as, op_store, SUM);
    emit(&as, op_inc, J); emit_j(&as, op_jmp, L_J);
    label(&as, L_NEXTI);
    emit(&as, op_inc, I); emit_j(&as, op_jmp, L_I);
    label(&as, L_END);
    emit(&as, op_halt, 0);
    asm_link(&as);
    vm.locals[K] = (uint64_t)k;
    vm.locals[SUM] = 0;
    run(&vm, as.code);
    uint64_t gcd_hash = vm.locals[SUM];

    /* Program 2: count primes p < LIMIT by trial division (d*d <= p). */
    static Asm as2;
    asm_init(&as2);
    enum { M_P, M_D, M_PRIME, M_NEXTP, M_END };
    emit(&as2, op_push, 2); emit(&as2, op_store, P);
    label(&as2, M_P);
    emit(&as2, op_load, P); emit(&as2, op_load, LIMIT); emit(&as2, op_lt, 0); emit_j(&as2, op_jz, M_END);
    emit(&as2, op_push, 2); emit(&as2, op_store, D);
    label(&as2, M_D);
    emit(&as2, op_load, D); emit(&as2, op_dup, 0); emit(&as2, op_mul, 0);
    emit(&as2, op_load, P); emit(&as2, op_le, 0); emit_j(&as2, op_jz, M_PRIME);
    emit(&as2, op_load, P); emit(&as2, op_load, D); emit(&as2, op_mod, 0); emit_j(&as2, op_jz, M_NEXTP);
    emit(&as2, op_inc, D); emit_j(&as2, op_jmp, M_D);
    label(&as2, M_PRIME);
    emit(&as2, op_inc, CNT);
    emit(&as2, op_load, SUM); emit(&as2, op_load, P); emit(&as2, op_add, 0);
    emit(&as2, op_push, 3); emit(&as2, op_sub, 0); emit(&as2, op_store, SUM);
    label(&as2, M_NEXTP);
    emit(&as2, op_inc, P); emit(&as2, op_push, 1); emit_j(&as2, op_jnz, M_P);
    label(&as2, M_END);
    emit(&as2, op_halt, 0);
    asm_link(&as2);
    vm.locals[LIMIT] = (uint64_t)k * 8;
    vm.locals[SUM] = 0;
    vm.locals[CNT] = 0;
    run(&vm, as2.code);
    uint64_t primes = vm.locals[CNT];
    uint64_t prime_sum = vm.locals[SUM];

    uint64_t checksum = gcd_hash ^ (primes * 0x9E3779B97F4A7C15ull) ^ (prime_sum << 7) ^ vm.executed;
    printf("interp: K=%lld, %llu bytecodes executed, %llu primes\n", (long long)k,
           (unsigned long long)vm.executed, (unsigned long long)primes);
    printf("checksum: %llu\n", (unsigned long long)checksum);
    return 0;
}
