/* Entry into compiled code: sigsetjmp/siglongjmp around an array-call trampoline, a
   register-preserving call stub, the exception-handler resume stub, and the outline stack
   probe Cranelift may call. */
#include <setjmp.h>
#include <stddef.h>

typedef void (*wasmaot_tramp_fn)(void *, void *, void *, size_t);

#if defined(__x86_64__)
/* Calls tramp(callee, caller, values, len) and restores every callee-saved register itself,
   so code compiled with a pinned register (r15) cannot clobber the host's registers. */
void wasmaot_enter_trampoline(wasmaot_tramp_fn, void *, void *, void *, size_t);
__asm__(".text\n"
        ".p2align 4\n"
        ".globl wasmaot_enter_trampoline\n"
        ".hidden wasmaot_enter_trampoline\n"
        ".type wasmaot_enter_trampoline,@function\n"
        "wasmaot_enter_trampoline:\n"
        "  push %rbp\n"
        "  mov %rsp, %rbp\n"
        "  push %rbx\n"
        "  push %r12\n"
        "  push %r13\n"
        "  push %r14\n"
        "  push %r15\n"
        "  sub $8, %rsp\n"
        "  mov %rdi, %rax\n"
        "  mov %rsi, %rdi\n"
        "  mov %rdx, %rsi\n"
        "  mov %rcx, %rdx\n"
        "  mov %r8, %rcx\n"
        "  call *%rax\n"
        "  add $8, %rsp\n"
        "  pop %r15\n"
        "  pop %r14\n"
        "  pop %r13\n"
        "  pop %r12\n"
        "  pop %rbx\n"
        "  pop %rbp\n"
        "  ret\n"
        ".size wasmaot_enter_trampoline, .-wasmaot_enter_trampoline\n"

        /* Resumes compiled code at an exception handler: wasmaot_resume(pc, sp, fp, payload)
           sets rsp and rbp to the handler frame's, puts the exception in rax (Cranelift's
           first exception payload register; every other register is dead on that edge) and
           jumps. */
        ".p2align 4\n"
        ".globl wasmaot_resume\n"
        ".hidden wasmaot_resume\n"
        ".type wasmaot_resume,@function\n"
        "wasmaot_resume:\n"
        "  mov %rsi, %rsp\n"
        "  mov %rdx, %rbp\n"
        "  mov %rcx, %rax\n"
        "  jmp *%rdi\n"
        ".size wasmaot_resume, .-wasmaot_resume\n"

        /* Stack probe, Cranelift's outline convention: frame size in rax, touches every page
           of the frame-to-be below rsp, preserves all registers. */
        ".p2align 4\n"
        ".globl wasmaot_probestack\n"
        ".type wasmaot_probestack,@function\n"
        "wasmaot_probestack:\n"
        "  push %rbp\n"
        "  mov %rsp, %rbp\n"
        "  push %r11\n"
        "  mov %rax, %r11\n"
        "1:\n"
        "  cmp $0x1000, %r11\n"
        "  jbe 2f\n"
        "  sub $0x1000, %rsp\n"
        "  test %rsp, (%rsp)\n"
        "  sub $0x1000, %r11\n"
        "  jmp 1b\n"
        "2:\n"
        "  sub %r11, %rsp\n"
        "  test %rsp, (%rsp)\n"
        "  lea -8(%rbp), %rsp\n"
        "  pop %r11\n"
        "  pop %rbp\n"
        "  ret\n"
        ".globl wasmaot_probestack_end\n"
        "wasmaot_probestack_end:\n"
        ".size wasmaot_probestack, .-wasmaot_probestack\n"
        ".weak __cranelift_probestack\n"
        ".set __cranelift_probestack, wasmaot_probestack\n");
#else
static void wasmaot_enter_trampoline(wasmaot_tramp_fn tramp, void *callee, void *caller, void *values,
                           size_t len) {
    tramp(callee, caller, values, len);
}
void wasmaot_resume(void) { __builtin_trap(); }
void wasmaot_probestack(void) {}
void wasmaot_probestack_end(void) {}
#endif

/* Runs tramp with *slot pointing at a fresh jump buffer (restoring the previous one after), and
   returns 0 normally or 1 when wasmaot_longjmp jumped back here. */
int wasmaot_catch(wasmaot_tramp_fn tramp, void *callee, void *caller, void *values, size_t len,
                  void **slot) {
    sigjmp_buf buf;
    void *volatile prev = *slot;
    if (sigsetjmp(buf, 0) == 0) {
        *slot = (void *)&buf;
        wasmaot_enter_trampoline(tramp, callee, caller, values, len);
        *slot = prev;
        return 0;
    }
    *slot = prev;
    return 1;
}

/* Jumps back to the wasmaot_catch that owns buf. */
void wasmaot_longjmp(void *buf) { siglongjmp(*(sigjmp_buf *)buf, 1); }
