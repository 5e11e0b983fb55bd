/* Preloaded into both servers by bench.py (LD_PRELOAD) to emulate a slower
 * disk: every fdatasync(2) returns SLOW_FSYNC_US microseconds later than the
 * disk answered. Both servers call fdatasync for `appendfsync always`, so
 * they meet the same latency. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    int result = real(fd);
    const char *env = getenv("SLOW_FSYNC_US");
    long us = env ? atol(env) : 0;
    if (us > 0) {
        struct timespec delay = {us / 1000000, (us % 1000000) * 1000};
        nanosleep(&delay, NULL);
    }
    return result;
}
