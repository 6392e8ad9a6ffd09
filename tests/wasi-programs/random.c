/* random: random_get via getentropy().  Prints booleans only. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    unsigned char a[256], b[256];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    int ok_a = getentropy(a, sizeof a) == 0;
    int ok_b = getentropy(b, sizeof b) == 0;
    int nonzero = 0;
    for (size_t i = 0; i < sizeof a; i++) nonzero |= a[i];
    printf("getentropy_ok=%s\n", ok_a && ok_b ? "true" : "false");
    printf("not_all_zero=%s\n", nonzero ? "true" : "false");
    printf("two_calls_differ=%s\n", memcmp(a, b, sizeof a) != 0 ? "true" : "false");
    /* getentropy is limited to 256 bytes per call */
    unsigned char big[257];
    printf("getentropy_257_fails=%s\n", getentropy(big, sizeof big) != 0 ? "true" : "false");
    return 0;
}
