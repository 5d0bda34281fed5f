/* SPDX-License-Identifier: MIT */
/* Discrete-event scheduler: binary min-heap on (t_us, seq); see sched.h.
 *
 * Cancel is lazy: the entry stays in the heap with fn = NULL and is dropped
 * when it reaches the top. The top of the heap is never a cancelled entry,
 * so sim_sched_next() can stay const and O(1). When cancelled entries make
 * up more than half of a large heap it is compacted, so far-future timeouts
 * that are cancelled again and again cannot grow it without bound. */
#include "sim/sched.h"

#include <stdlib.h>
#include <string.h>

#define SCHED_INITIAL_CAP 64u
#define SCHED_COMPACT_MIN 256u

static bool ev_less(const sim_event_t *a, const sim_event_t *b)
{
    if (a->t_us != b->t_us) {
        return a->t_us < b->t_us;
    }
    return a->seq < b->seq;
}

static void sift_up(sim_event_t *h, size_t i)
{
    sim_event_t e = h[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!ev_less(&e, &h[parent])) {
            break;
        }
        h[i] = h[parent];
        i = parent;
    }
    h[i] = e;
}

static void sift_down(sim_event_t *h, size_t len, size_t i)
{
    sim_event_t e = h[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= len) {
            break;
        }
        if (child + 1 < len && ev_less(&h[child + 1], &h[child])) {
            child++;
        }
        if (!ev_less(&h[child], &e)) {
            break;
        }
        h[i] = h[child];
        i = child;
    }
    h[i] = e;
}

/* Remove the top entry (caller has copied it if needed). */
static void pop_top(sim_sched_t *s)
{
    s->len--;
    if (s->len > 0) {
        s->heap[0] = s->heap[s->len];
        sift_down(s->heap, s->len, 0);
    }
}

/* Keep the invariant: the top is a live event (or the heap is empty). */
static void drop_dead_top(sim_sched_t *s)
{
    while (s->len > 0 && s->heap[0].fn == NULL) {
        pop_top(s);
        s->cancelled--;
    }
}

/* Rebuild the heap without cancelled entries (Floyd heapify, O(n)). */
static void compact(sim_sched_t *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->len; i++) {
        if (s->heap[i].fn != NULL) {
            s->heap[n++] = s->heap[i];
        }
    }
    s->len = n;
    s->cancelled = 0;
    for (size_t i = n / 2; i-- > 0;) {
        sift_down(s->heap, n, i);
    }
}

void sim_sched_init(sim_sched_t *s)
{
    memset(s, 0, sizeof(*s));
    s->next_seq = 1; /* ids start at 1 so that 0 can mean "none" */
}

void sim_sched_free(sim_sched_t *s)
{
    free(s->heap);
    s->heap = NULL;
    s->len = 0;
    s->cap = 0;
    s->cancelled = 0;
}

static bool grow(sim_sched_t *s)
{
    size_t ncap = s->cap ? s->cap * 2 : SCHED_INITIAL_CAP;
    if (ncap < s->cap || ncap > SIZE_MAX / sizeof(sim_event_t)) {
        return false;
    }
    sim_event_t *nh = realloc(s->heap, ncap * sizeof(sim_event_t));
    if (nh == NULL) {
        return false;
    }
    s->heap = nh;
    s->cap = ncap;
    return true;
}

uint64_t sim_sched_at(sim_sched_t *s, uint64_t t_us, sim_event_fn fn, void *ctx)
{
    if (fn == NULL) {
        return 0;
    }
    if (s->len == s->cap && !grow(s)) {
        return 0;
    }
    uint64_t id = s->next_seq++;
    sim_event_t *e = &s->heap[s->len];
    e->t_us = t_us < s->now_us ? s->now_us : t_us;
    e->seq = id;
    e->fn = fn;
    e->ctx = ctx;
    s->len++;
    sift_up(s->heap, s->len - 1);
    return id;
}

bool sim_sched_cancel(sim_sched_t *s, uint64_t id)
{
    if (id == 0 || id >= s->next_seq) {
        return false;
    }
    /* Linear scan: pending sets are small (tens of events) and this keeps
     * the per-event cost of sift operations free of index bookkeeping. */
    for (size_t i = 0; i < s->len; i++) {
        sim_event_t *e = &s->heap[i];
        if (e->seq == id) {
            if (e->fn == NULL) {
                return false; /* already cancelled */
            }
            e->fn = NULL;
            s->cancelled++;
            drop_dead_top(s);
            if (s->len >= SCHED_COMPACT_MIN && s->cancelled > s->len / 2) {
                compact(s);
            }
            return true;
        }
    }
    return false;
}

uint64_t sim_sched_next(const sim_sched_t *s)
{
    return s->len > 0 ? s->heap[0].t_us : UINT64_MAX;
}

size_t sim_sched_pending(const sim_sched_t *s)
{
    return s->len - s->cancelled;
}

void sim_sched_run_until(sim_sched_t *s, uint64_t until_us)
{
    while (s->len > 0 && s->heap[0].t_us <= until_us) {
        /* Copy before popping: the callback may schedule and grow the heap. */
        sim_event_t e = s->heap[0];
        pop_top(s);
        drop_dead_top(s);
        s->now_us = e.t_us;
        s->fired++;
        e.fn(e.ctx, e.t_us);
    }
    if (until_us > s->now_us) {
        s->now_us = until_us;
    }
}
