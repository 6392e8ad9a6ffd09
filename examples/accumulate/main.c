/* Creates a memory in the host, imports it into two instances of `accumulate` (seed 003) and
 * sums an array written by the host. Both instances see the same bytes. */
#include <stdio.h>
#include <string.h>
#include "wasmaot.h"
#include "accumulate.h"

int main(void) {
  wasmaot_error_t *err = NULL;
  wasmaot_memory_t *mem = wasmaot_memory_new(1, 10, 0, &err);
  if (!mem) {
    fprintf(stderr, "error: %s\n", wasmaot_error_message(err));
    return 1;
  }
  wasmaot_import_t imports[] = {{"js", "mem", WASMAOT_EXTERN_MEMORY, mem}};
  wasmaot_instance_t *a = wasmaot_instance_new_with_imports(accumulate_wasmaot_module, imports, 1, &err);
  wasmaot_instance_t *b = wasmaot_instance_new_with_imports(accumulate_wasmaot_module, imports, 1, &err);
  if (!a || !b) {
    fprintf(stderr, "error: %s\n", wasmaot_error_message(err));
    return 1;
  }
  uint8_t *base = wasmaot_memory_base(mem);
  for (int32_t i = 0; i < 10; i++) memcpy(base + 4 * i, &i, 4);
  int32_t sa = accumulate_accumulate(wasmaot_instance_vmctx(a), 0, 10);
  int32_t sb = accumulate_accumulate(wasmaot_instance_vmctx(b), 0, 10);
  printf("accumulate(0, 10) = %d in instance a, %d in instance b\n", sa, sb);
  /* Growing the host memory keeps its base: both instances still see it. */
  int64_t old = wasmaot_memory_grow_pages(mem, 1);
  int32_t last = 5;
  memcpy(base + 65536, &last, 4);
  int32_t sc = accumulate_accumulate(wasmaot_instance_vmctx(a), 65536, 1);
  printf("grew from %lld page(s); new page read back: %d; base unchanged: %s\n", (long long)old,
         sc, wasmaot_memory_base(mem) == base ? "yes" : "no");
  wasmaot_instance_delete(a);
  wasmaot_instance_delete(b);
  wasmaot_memory_delete(mem);
  return sa == 45 && sb == 45 && sc == 5 ? 0 : 1;
}
