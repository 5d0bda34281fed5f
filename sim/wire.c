/* SPDX-License-Identifier: MIT */
/* Serial wire with character timing and half-duplex collisions; see wire.h.
 *
 * Timing is kept in nanoseconds from the start of each back-to-back burst:
 * character k of a burst arrives at start + k * bits / baud seconds, computed
 * exactly and rounded to microseconds, so a long burst does not drift even
 * though 10 bits at 9600 baud is not a whole number of microseconds.
 *
 * One scheduler event per burst: it is scheduled at the arrival of the last
 * byte of the first write; when later writes extend the burst, the event
 * re-arms itself for the new last byte instead of being cancelled. */
#include "sim/wire.h"

#include <string.h>

#define NS_PER_S 1000000000ull

static size_t ring_idx(size_t head, size_t i)
{
    return (head + i) % SIM_WIRE_BUF;
}

/* Exact nanoseconds taken by k characters, without overflowing for any k a
 * simulation can reach (k % baud < baud keeps the product small). */
static uint64_t chars_ns(const sim_wire_t *w, uint64_t k)
{
    uint64_t bit_ns = (uint64_t)w->bits_per_char * NS_PER_S;
    uint64_t whole = (k / w->baud) * bit_ns;
    uint64_t part = ((k % w->baud) * bit_ns + w->baud / 2) / w->baud;
    return whole + part;
}

static uint64_t ns_to_us(uint64_t ns)
{
    return (ns + 500) / 1000;
}

/* Give arrived, untapped characters of direction d to the tap. */
static void tap_arrived(sim_wire_t *w, sim_wire_dir_t *d)
{
    uint64_t now = w->sched->now_us;
    while (d->tapped < d->len) {
        size_t i = ring_idx(d->head, d->tapped);
        if (d->arrive_us[i] > now) {
            break;
        }
        d->tapped++;
        if (w->tap != NULL) {
            w->tap(w->tap_ctx, 1 - d->end, d->arrive_us[i], d->buf[i]);
        }
    }
}

static void on_burst_end(void *ctx, uint64_t now_us)
{
    sim_wire_dir_t *d = ctx;
    sim_wire_t *w = d->owner;
    tap_arrived(w, d);
    if (d->tx_free_us > now_us) {
        /* The burst was extended by a later write: follow its last byte. */
        d->notify_id = sim_sched_at(w->sched, d->tx_free_us, on_burst_end, d);
        return;
    }
    d->notify_id = 0;
    if (w->notify[d->end] != NULL) {
        w->notify[d->end](w->notify_ctx[d->end], now_us);
    }
}

void sim_wire_init(sim_wire_t *w, sim_sched_t *s, uint32_t baud, unsigned bits_per_char,
                   bool half_duplex)
{
    memset(w, 0, sizeof(*w));
    w->sched = s;
    w->baud = baud ? baud : 9600;
    w->bits_per_char = bits_per_char ? bits_per_char : 10;
    w->char_ns = chars_ns(w, 1);
    w->half_duplex = half_duplex;
    for (int e = 0; e < 2; e++) {
        w->dir[e].owner = w;
        w->dir[e].end = e;
        w->dir[e].tx_free_us = s->now_us;
    }
}

void sim_wire_set_notify(sim_wire_t *w, int end, sim_wire_notify_fn fn, void *ctx)
{
    if (end != 0 && end != 1) {
        return;
    }
    w->notify[end] = fn;
    w->notify_ctx[end] = ctx;
}

void sim_wire_set_tap(sim_wire_t *w, sim_wire_tap_fn fn, void *ctx)
{
    w->tap = fn;
    w->tap_ctx = ctx;
}

/* Corrupt every character of `other` (chars travelling the other way) whose
 * time on the wire overlaps [start_us, end_us); returns the new value of our
 * own character, which the receiver sees garbled too. The pattern is never
 * zero, so a collided character always differs from what was sent. */
static uint8_t collide(sim_wire_dir_t *other, size_t *scan, uint64_t start_us, uint64_t end_us,
                       uint8_t byte, bool *hit)
{
    while (*scan < other->len && other->arrive_us[ring_idx(other->head, *scan)] <= start_us) {
        (*scan)++;
    }
    for (size_t m = *scan; m < other->len; m++) {
        size_t i = ring_idx(other->head, m);
        uint64_t o_start = other->arrive_us[i] - other->dur_us[i];
        if (o_start >= end_us) {
            break;
        }
        uint8_t pattern = (uint8_t)((byte ^ other->buf[i]) | 0x81u);
        other->buf[i] ^= pattern;
        byte ^= pattern;
        *hit = true;
    }
    return byte;
}

size_t sim_wire_write(sim_wire_t *w, int from, const uint8_t *data, size_t len)
{
    if ((from != 0 && from != 1) || data == NULL || len == 0) {
        return 0;
    }
    sim_wire_dir_t *d = &w->dir[1 - from];   /* carries our bytes */
    sim_wire_dir_t *other = &w->dir[from];   /* carries bytes towards us */
    uint64_t now = w->sched->now_us;

    if (d->tx_free_us <= now) {
        d->burst_start_ns = now * 1000;
        d->burst_chars = 0;
        d->tx_free_us = now;
    }

    /* Characters from the other end that could overlap ours have not
     * arrived yet (ours start at or after now), so they are still unread
     * and untapped: corrupting them changes what their receiver sees. Skip
     * the ones that ended before now with a scan from the tail. */
    size_t scan = other->len;
    if (w->half_duplex) {
        while (scan > 0 && other->arrive_us[ring_idx(other->head, scan - 1)] > now) {
            scan--;
        }
    }

    for (size_t n = 0; n < len; n++) {
        uint64_t start_us = d->tx_free_us;
        d->burst_chars++;
        uint64_t arrive_us = ns_to_us(d->burst_start_ns + chars_ns(w, d->burst_chars));
        uint8_t byte = data[n];
        if (w->half_duplex) {
            bool hit = false;
            byte = collide(other, &scan, start_us, arrive_us, byte, &hit);
            if (hit) {
                w->collisions++;
            }
        }
        d->tx_free_us = arrive_us;
        d->bytes++;
        if (d->len == SIM_WIRE_BUF) {
            d->dropped++; /* the receiver overran; the line was still busy */
            continue;
        }
        size_t i = ring_idx(d->head, d->len);
        d->buf[i] = byte;
        d->arrive_us[i] = arrive_us;
        d->dur_us[i] = (uint32_t)(arrive_us - start_us);
        d->len++;
    }

    if (d->notify_id == 0) {
        d->notify_id = sim_sched_at(w->sched, d->tx_free_us, on_burst_end, d);
    }
    return len;
}

size_t sim_wire_read(sim_wire_t *w, int at, uint8_t *buf, size_t cap)
{
    if ((at != 0 && at != 1) || buf == NULL) {
        return 0;
    }
    sim_wire_dir_t *d = &w->dir[at];
    uint64_t now = w->sched->now_us;
    tap_arrived(w, d);
    size_t n = 0;
    while (n < cap && n < d->len) {
        size_t i = ring_idx(d->head, n);
        if (d->arrive_us[i] > now) {
            break;
        }
        buf[n] = d->buf[i];
        n++;
    }
    d->head = ring_idx(d->head, n);
    d->len -= n;
    d->tapped = d->tapped > n ? d->tapped - n : 0;
    return n;
}

uint64_t sim_wire_tx_idle_at(const sim_wire_t *w, int from)
{
    uint64_t now = w->sched->now_us;
    if (from != 0 && from != 1) {
        return now;
    }
    uint64_t t = w->dir[1 - from].tx_free_us;
    return t > now ? t : now;
}
