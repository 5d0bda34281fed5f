/* SPDX-License-Identifier: MIT */
/* Discrete-event scheduler with a virtual clock in microseconds.
 *
 * Events fire in (time, insertion order), so equal times resolve
 * deterministically. Nothing in sim/ reads the wall clock. */
#ifndef SIM_SCHED_H
#define SIM_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*sim_event_fn)(void *ctx, uint64_t now_us);

typedef struct sim_event {
    uint64_t t_us;
    uint64_t seq;      /* insertion order; also the event id */
    sim_event_fn fn;
    void *ctx;
} sim_event_t;

typedef struct sim_sched {
    uint64_t now_us;   /* read-only */
    uint64_t next_seq; /* private */
    sim_event_t *heap; /* private: binary min-heap */
    size_t len, cap;   /* private: entries in heap (live + cancelled), allocated */
    size_t cancelled;  /* private: cancelled entries still in the heap */
    uint64_t fired;    /* read-only: events run so far */
} sim_sched_t;

void sim_sched_init(sim_sched_t *s);
void sim_sched_free(sim_sched_t *s);

/* Schedule fn at absolute time t_us (clamped to now). Returns an id > 0,
 * or 0 only if the heap could not grow (out of memory; fn will not run).
 * Safe to call from inside an event callback. */
uint64_t sim_sched_at(sim_sched_t *s, uint64_t t_us, sim_event_fn fn, void *ctx);
/* Cancel a pending event; false when it already ran or never existed. */
bool sim_sched_cancel(sim_sched_t *s, uint64_t id);
/* Time of the earliest pending event, or UINT64_MAX. */
uint64_t sim_sched_next(const sim_sched_t *s);
/* Run every event with t <= until_us in order, then set now = until_us.
 * Each callback sees now_us = its own time; events that callbacks schedule
 * for times <= until_us run in the same call. now never moves backwards. */
void sim_sched_run_until(sim_sched_t *s, uint64_t until_us);
/* Events still pending (cancelled ones not counted). */
size_t sim_sched_pending(const sim_sched_t *s);

#endif
