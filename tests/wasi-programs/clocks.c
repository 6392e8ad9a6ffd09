/* clocks: clock_time_get / clock_res_get / poll_oneoff (via nanosleep).
 * Only booleans are printed so the output is deterministic. */
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static int64_t ns(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec; }

int main(void) {
    struct timespec a, b, res;
    int mono_ok = clock_gettime(CLOCK_MONOTONIC, &a) == 0;
    int nondecreasing = 1;
    for (int i = 0; i < 10000; i++) {
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (ns(&b) < ns(&a)) nondecreasing = 0;
        a = b;
    }
    printf("monotonic_ok=%s\n", mono_ok ? "true" : "false");
    printf("monotonic_nondecreasing=%s\n", nondecreasing ? "true" : "false");

    struct timespec rt;
    int rt_ok = clock_gettime(CLOCK_REALTIME, &rt) == 0;
    printf("realtime_ok=%s\n", rt_ok ? "true" : "false");
    printf("realtime_after_2020=%s\n", rt.tv_sec > 1577836800 ? "true" : "false");
    printf("realtime_before_2200=%s\n", rt.tv_sec < 7258118400LL ? "true" : "false");
    time_t now = time(NULL);
    printf("time_after_2020=%s\n", now > 1577836800 ? "true" : "false");
    struct timeval tv;
    printf("gettimeofday_after_2020=%s\n", gettimeofday(&tv, NULL) == 0 && tv.tv_sec > 1577836800 ? "true" : "false");

    printf("monotonic_res_positive=%s\n",
           clock_getres(CLOCK_MONOTONIC, &res) == 0 && ns(&res) > 0 ? "true" : "false");
    printf("realtime_res_positive=%s\n",
           clock_getres(CLOCK_REALTIME, &res) == 0 && ns(&res) > 0 ? "true" : "false");

    struct timespec before, after, d = {0, 5 * 1000 * 1000}; /* 5 ms */
    clock_gettime(CLOCK_MONOTONIC, &before);
    int slept = nanosleep(&d, NULL) == 0;
    clock_gettime(CLOCK_MONOTONIC, &after);
    printf("nanosleep_ok=%s\n", slept ? "true" : "false");
    printf("nanosleep_waited_5ms=%s\n", ns(&after) - ns(&before) >= 5 * 1000 * 1000 ? "true" : "false");
    printf("nanosleep_under_5s=%s\n", ns(&after) - ns(&before) < 5000LL * 1000 * 1000 ? "true" : "false");
    return 0;
}
