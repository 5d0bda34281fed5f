/* SPDX-License-Identifier: MIT */
/* Host time (see host_clock.h). */
#define _POSIX_C_SOURCE 200809L
#include "host_clock.h"

#include <stdio.h>
#include <time.h>

uint64_t host_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void host_clock_stamp(char *out, size_t cap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    time_t s = ts.tv_sec;
    localtime_r(&s, &tm);
    char day[24];
    if (strftime(day, sizeof day, "%Y-%m-%d %H:%M:%S", &tm) == 0) {
        day[0] = '\0';
    }
    snprintf(out, cap, "%s.%03ld", day, ts.tv_nsec / 1000000L);
}
