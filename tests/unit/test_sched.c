/* SPDX-License-Identifier: MIT */
/* Unit tests of sim/sched: ordering, cancel, run_until, events from callbacks. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sim/rng.h"
#include "sim/sched.h"

#define LOG_MAX 64

typedef struct ev_log {
    int n;
    int tag[LOG_MAX];
    uint64_t t[LOG_MAX];
} ev_log_t;

typedef struct tagged {
    ev_log_t *log;
    int tag;
} tagged_t;

static void record(void *ctx, uint64_t now_us)
{
    tagged_t *tg = ctx;
    ev_log_t *log = tg->log;
    if (log->n < LOG_MAX) {
        log->tag[log->n] = tg->tag;
        log->t[log->n] = now_us;
        log->n++;
    }
}

/* Equal times keep insertion order; the table is scrambled on purpose. */
static void test_sched_order_time_then_insertion(void **state)
{
    (void)state;
    static const uint64_t at_us[] = {30, 10, 20, 10, 0, 30, 10};
    static const int expect_tag[] = {4, 1, 3, 6, 2, 0, 5};
    enum { N = sizeof(at_us) / sizeof(at_us[0]) };
    sim_sched_t s;
    ev_log_t log = {0};
    tagged_t tg[N];
    sim_sched_init(&s);
    for (int i = 0; i < N; i++) {
        tg[i] = (tagged_t){&log, i};
        assert_true(sim_sched_at(&s, at_us[i], record, &tg[i]) > 0);
    }
    assert_int_equal(sim_sched_next(&s), 0);
    sim_sched_run_until(&s, 1000);
    assert_int_equal(log.n, N);
    for (int i = 0; i < N; i++) {
        if (log.tag[i] != expect_tag[i] || log.t[i] != at_us[expect_tag[i]]) {
            fail_msg("row %d: got tag %d at %llu, want tag %d at %llu", i, log.tag[i],
                     (unsigned long long)log.t[i], expect_tag[i],
                     (unsigned long long)at_us[expect_tag[i]]);
        }
    }
    assert_int_equal(s.fired, N);
    assert_int_equal(sim_sched_next(&s), UINT64_MAX);
    sim_sched_free(&s);
}

static void test_sched_cancel(void **state)
{
    (void)state;
    sim_sched_t s;
    ev_log_t log = {0};
    tagged_t a = {&log, 1}, b = {&log, 2}, c = {&log, 3};
    sim_sched_init(&s);
    uint64_t ia = sim_sched_at(&s, 100, record, &a);
    uint64_t ib = sim_sched_at(&s, 50, record, &b);
    uint64_t ic = sim_sched_at(&s, 200, record, &c);
    assert_int_equal(sim_sched_pending(&s), 3);
    /* Cancelling the earliest must uncover the next one. */
    assert_true(sim_sched_cancel(&s, ib));
    assert_int_equal(sim_sched_next(&s), 100);
    assert_false(sim_sched_cancel(&s, ib)); /* twice */
    assert_false(sim_sched_cancel(&s, 0));
    assert_false(sim_sched_cancel(&s, ic + 100)); /* never existed */
    assert_int_equal(sim_sched_pending(&s), 2);
    sim_sched_run_until(&s, 150);
    assert_false(sim_sched_cancel(&s, ia)); /* already ran */
    assert_true(sim_sched_cancel(&s, ic));
    sim_sched_run_until(&s, 1000);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.tag[0], 1);
    assert_int_equal(sim_sched_pending(&s), 0);
    assert_int_equal(sim_sched_next(&s), UINT64_MAX);
    sim_sched_free(&s);
}

static void test_sched_run_until_semantics(void **state)
{
    (void)state;
    sim_sched_t s;
    ev_log_t log = {0};
    tagged_t a = {&log, 1}, b = {&log, 2}, c = {&log, 3};
    sim_sched_init(&s);
    sim_sched_at(&s, 100, record, &a);
    sim_sched_at(&s, 200, record, &b);
    sim_sched_run_until(&s, 150);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.t[0], 100); /* the callback saw its own time */
    assert_int_equal(s.now_us, 150);
    /* Boundary: an event exactly at until runs. */
    sim_sched_run_until(&s, 200);
    assert_int_equal(log.n, 2);
    assert_int_equal(s.now_us, 200);
    /* now never moves backwards; a past time is clamped to now. */
    sim_sched_run_until(&s, 10);
    assert_int_equal(s.now_us, 200);
    sim_sched_at(&s, 5, record, &c);
    assert_int_equal(sim_sched_next(&s), 200);
    sim_sched_run_until(&s, 200);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.t[2], 200);
    sim_sched_free(&s);
}

typedef struct chain {
    sim_sched_t *s;
    ev_log_t log;
    int remaining;
    uint64_t step_us;
} chain_t;

static void chain_fire(void *ctx, uint64_t now_us)
{
    chain_t *ch = ctx;
    if (ch->log.n < LOG_MAX) {
        ch->log.t[ch->log.n++] = now_us;
    }
    if (--ch->remaining > 0) {
        sim_sched_at(ch->s, now_us + ch->step_us, chain_fire, ch);
    }
}

/* Events scheduled by callbacks for times <= until run in the same call,
 * including ones at the same instant; later ones wait. */
static void test_sched_events_from_callbacks(void **state)
{
    (void)state;
    static const struct {
        uint64_t step_us;
        uint64_t until_us;
        int expect_runs;
    } rows[] = {
        {0, 0, 5},       /* zero-delay chain at one instant */
        {10, 40, 5},     /* 0,10,20,30,40: last exactly at until */
        {10, 39, 4},
        {100, 1000, 5},
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        sim_sched_t s;
        chain_t ch = {.s = &s, .remaining = 5, .step_us = rows[r].step_us};
        sim_sched_init(&s);
        sim_sched_at(&s, 0, chain_fire, &ch);
        sim_sched_run_until(&s, rows[r].until_us);
        if (ch.log.n != rows[r].expect_runs) {
            fail_msg("row %zu: %d runs, want %d", r, ch.log.n, rows[r].expect_runs);
        }
        for (int i = 0; i < ch.log.n; i++) {
            if (ch.log.t[i] != (uint64_t)i * rows[r].step_us) {
                fail_msg("row %zu: run %d at %llu", r, i, (unsigned long long)ch.log.t[i]);
            }
        }
        sim_sched_free(&s);
    }
}

typedef struct order_check {
    uint64_t last_t;
    uint64_t last_seq_at_t;
    uint64_t count;
    int bad;
} order_check_t;

typedef struct order_ev {
    order_check_t *chk;
    uint64_t id;
} order_ev_t;

static void order_fire(void *ctx, uint64_t now_us)
{
    order_ev_t *e = ctx;
    order_check_t *chk = e->chk;
    if (chk->count > 0 && (now_us < chk->last_t ||
                           (now_us == chk->last_t && e->id <= chk->last_seq_at_t))) {
        chk->bad++;
    }
    chk->last_t = now_us;
    chk->last_seq_at_t = e->id;
    chk->count++;
    e->id = 0; /* mark as run */
}

/* Many random events with collisions in time, some cancelled: survivors
 * run in (time, id) order exactly once, cancelled ones never. Row 1 cancels
 * two thirds, enough to make the heap compact itself. */
static void test_sched_heap_random_with_cancel(void **state)
{
    (void)state;
    enum { N = 5000 };
    static order_ev_t evs[N];
    static const int keep_mod[] = {0, 1}; /* cancel i % 3 == 0, or i % 3 != 1 */
    for (size_t row = 0; row < 2; row++) {
        sim_sched_t s;
        sim_rng_t rng;
        order_check_t chk = {0};
        sim_sched_init(&s);
        sim_rng_seed(&rng, 42 + row);
        for (int i = 0; i < N; i++) {
            evs[i].chk = &chk;
            evs[i].id = sim_sched_at(&s, sim_rng_next(&rng) % 1000, order_fire, &evs[i]);
            assert_true(evs[i].id > 0);
        }
        uint64_t cancelled = 0;
        for (int i = 0; i < N; i++) {
            bool cancel = keep_mod[row] == 0 ? (i % 3 == 0) : (i % 3 != 1);
            if (cancel) {
                if (!sim_sched_cancel(&s, evs[i].id)) {
                    fail_msg("row %zu: cancel of event %d failed", row, i);
                }
                evs[i].id = UINT64_MAX; /* must never run */
                cancelled++;
            }
        }
        assert_int_equal(sim_sched_pending(&s), N - cancelled);
        if (row == 1 && s.len >= N) {
            fail_msg("row %zu: heap not compacted (len %zu)", row, s.len);
        }
        sim_sched_run_until(&s, 1000);
        if (chk.bad != 0 || chk.count != N - cancelled) {
            fail_msg("row %zu: %d out of order, %llu ran of %llu", row, chk.bad,
                     (unsigned long long)chk.count, (unsigned long long)(N - cancelled));
        }
        for (int i = 0; i < N; i++) {
            bool was_cancelled = keep_mod[row] == 0 ? (i % 3 == 0) : (i % 3 != 1);
            uint64_t want = was_cancelled ? UINT64_MAX : 0;
            if (evs[i].id != want) {
                fail_msg("row %zu: event %d: id %llu after run", row, i,
                         (unsigned long long)evs[i].id);
            }
        }
        sim_sched_free(&s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sched_order_time_then_insertion),
        cmocka_unit_test(test_sched_cancel),
        cmocka_unit_test(test_sched_run_until_semantics),
        cmocka_unit_test(test_sched_events_from_callbacks),
        cmocka_unit_test(test_sched_heap_random_with_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
