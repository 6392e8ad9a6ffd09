/* return7: returning 7 from main becomes proc_exit(7). */
#include <stdio.h>

int main(void) {
    printf("returning 7\n");
    return 7;
}
