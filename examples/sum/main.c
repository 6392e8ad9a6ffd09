/* Writes 7 and 4 into an instance's memory, calls `sum`, and reads 11 back from byte 8
 * (seed 004). Also reads the UTF-8 data segment and grows the memory by a page. */
#include <stdio.h>
#include <string.h>
#include "sum.h"

int main(void) {
  wasmaot_error_t *err = NULL;
  sum_instance *inst = sum_new(&err);
  if (!inst) {
    fprintf(stderr, "error: %s\n", wasmaot_error_message(err));
    return 1;
  }
  uint8_t *mem = sum_mem_data(inst);
  int32_t a = 7, b = 4, r = 0;
  memcpy(mem + 0, &a, 4);
  memcpy(mem + 4, &b, 4);
  sum_sum(inst);
  if (wasmaot_last_trap()) {
    fprintf(stderr, "error: %s\n", wasmaot_trap_message());
    return 1;
  }
  memcpy(&r, mem + 8, 4);
  printf("%d + %d = %d (read from byte 8)\n", a, b, r);
  printf("data segment: %.9s (%zu bytes)\n", (const char *)mem + 16, strlen((const char *)mem + 16));
  printf("pages before grow: %llu\n", (unsigned long long)sum_mem_pages(inst));
  int32_t old = sum_add_page(inst);
  printf("add_page returned %d; pages now %llu, bytes %llu; base unchanged: %s\n", old,
         (unsigned long long)sum_mem_pages(inst), (unsigned long long)sum_mem_bytes(inst),
         sum_mem_data(inst) == mem ? "yes" : "no");
  sum_delete(inst);
  return r == 11 && old == 1 ? 0 : 1;
}
