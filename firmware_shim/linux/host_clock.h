/* SPDX-License-Identifier: MIT */
/* Host time: the monotonic ms clock the firmware runs on, and the wall-clock
 * stamp log lines carry. */
#ifndef HOST_CLOCK_H
#define HOST_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in ms: never jumps with NTP or the date, so deadlines hold. */
uint64_t host_clock_ms(void);
/* Local wall time "2026-11-23 10:04:05.123" into out (cap >= 24). */
void host_clock_stamp(char *out, size_t cap);

#endif
