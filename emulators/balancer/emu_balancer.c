/* SPDX-License-Identifier: MIT */
/* Balancer-module emulator: framing, replies, collisions, balancing model (see emu_balancer.h). */
#include "emulators/balancer/emu_balancer.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define BAL_DEFAULT_AMBIENT_C 25.0
/* DS18B20 measuring range: the resistor temperature cannot read beyond it. */
#define BAL_DS18B20_MIN_C (-55)
#define BAL_DS18B20_MAX_C 125
/* An ATtiny keeps the cell voltage in 16 bits and its temperature in 8. */
#define BAL_MV_MAX 65535
#define BAL_CELL_T_MIN_C (-128)
#define BAL_CELL_T_MAX_C 127
#define BAL_GARBAGE_MIN 3u
#define BAL_GARBAGE_MAX 8u
/* At most this many modules answering one address are combined. */
#define BAL_MAX_RESPONDERS 4
#define BAL_FRAME_BITS 10u
/* Skews beyond this cannot matter inside the reply buffer anyway. */
#define BAL_MAX_SKEW_BITS (BAL_FRAME_BITS * EMU_BAL_MAX_REPLY)

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static emu_bal_module_t *module_at(emu_balancer_t *e, uint8_t address)
{
    if (e == NULL || address < 1 || address > EMU_BAL_MAX_MODULES) {
        return NULL;
    }
    emu_bal_module_t *m = &e->mods[address - 1];
    return m->cell != NULL ? m : NULL;
}

/* Round and clamp; NaN reads as lo, as a sensor that returns nothing useful. */
static int32_t round_clamp(double x, int32_t lo, int32_t hi)
{
    if (!(x == x) || x <= (double)lo) {
        return lo;
    }
    if (x >= (double)hi) {
        return hi;
    }
    return (int32_t)lround(x);
}

static double ambient_of(const emu_bal_module_t *m)
{
    double a = m->ambient_c != NULL ? *m->ambient_c : m->cell->temp_c;
    return isfinite(a) ? a : BAL_DEFAULT_AMBIENT_C;
}

void emu_bal_init(emu_balancer_t *e, uint64_t seed)
{
    if (e == NULL) {
        return;
    }
    memset(e, 0, sizeof(*e));
    e->turnaround_us = EMU_BAL_TURNAROUND_US;
    e->rng_state = seed;
}

int emu_bal_attach(emu_balancer_t *e, uint8_t address, sim_cell_t *cell, const double *ambient_c)
{
    if (e == NULL || cell == NULL || address < 1 || address > EMU_BAL_MAX_MODULES ||
        e->mods[address - 1].cell != NULL) {
        return -1;
    }
    emu_bal_module_t *m = &e->mods[address - 1];
    memset(m, 0, sizeof(*m));
    m->cell = cell;
    m->ambient_c = ambient_c;
    m->threshold_v = EMU_BAL_THRESHOLD_V;
    m->r_load_ohm = EMU_BAL_R_LOAD_OHM;
    m->version = EMU_BAL_VERSION;
    m->res_temp_c = ambient_of(m);
    return 0;
}

static void measure(const emu_bal_module_t *m, emu_bal_values_t *v)
{
    v->cell_mv = round_clamp(m->cell->v * 1000.0, 0, BAL_MV_MAX);
    v->cell_temp_c = round_clamp(m->cell->temp_c, BAL_CELL_T_MIN_C, BAL_CELL_T_MAX_C);
    v->res_temp_c = round_clamp(m->res_temp_c, BAL_DS18B20_MIN_C, BAL_DS18B20_MAX_C);
    uint64_t up_s = m->uptime_us / 1000000u;
    v->uptime_s = up_s > UINT32_MAX ? UINT32_MAX : (uint32_t)up_s;
}

int emu_bal_measure(const emu_balancer_t *e, uint8_t address, emu_bal_values_t *out)
{
    if (e == NULL || out == NULL || address < 1 || address > EMU_BAL_MAX_MODULES ||
        e->mods[address - 1].cell == NULL) {
        return -1;
    }
    measure(&e->mods[address - 1], out);
    return 0;
}

void emu_bal_set_faults(emu_balancer_t *e, uint8_t address, unsigned mask, uint32_t slow_ms)
{
    emu_bal_module_t *m = module_at(e, address);
    if (m == NULL) {
        return;
    }
    /* The snapshot is taken when STUCK is switched on and kept while it stays
     * on, so re-applying the same mask does not refresh the values. */
    if ((mask & EMU_BAL_F_STUCK) == 0) {
        m->have_snapshot = false;
    } else if (!m->have_snapshot) {
        measure(m, &m->snapshot);
        m->have_snapshot = true;
    }
    m->faults = mask;
    m->slow_ms = slow_ms;
}

int emu_bal_duplicate(emu_balancer_t *e, uint8_t address, uint8_t also_address)
{
    emu_bal_module_t *second = module_at(e, also_address);
    if (second == NULL) {
        return -1;
    }
    if (address == 0) {
        second->also_address = 0;
        return 0;
    }
    if (address == also_address || module_at(e, address) == NULL) {
        return -1;
    }
    second->also_address = address;
    return 0;
}

void emu_bal_reboot(emu_balancer_t *e, uint8_t address, uint64_t now_us)
{
    (void)now_us; /* uptime advances in ticks; the reboot lands on the tick grid */
    emu_bal_module_t *m = module_at(e, address);
    if (m != NULL) {
        m->uptime_us = 0;
    }
}

int emu_bal_set_threshold(emu_balancer_t *e, uint8_t address, double threshold_v)
{
    emu_bal_module_t *m = module_at(e, address);
    if (m == NULL || !isfinite(threshold_v)) {
        return -1;
    }
    m->threshold_v = threshold_v;
    return 0;
}

static void tick_module(emu_bal_module_t *m, double dt_s)
{
    double v = m->cell->v;
    m->balancing = isfinite(v) && v > m->threshold_v && m->r_load_ohm > 0.0;
    double bleed_a = m->balancing ? v / m->r_load_ohm : 0.0;
    m->cell->bleed_a = bleed_a;
    /* First-order thermal mass, solved exactly so any dt is stable. */
    double power_w = bleed_a * bleed_a * m->r_load_ohm;
    double steady_c = ambient_of(m) + power_w * EMU_BAL_R_TH_K_PER_W;
    m->res_temp_c = steady_c + (m->res_temp_c - steady_c) * exp(-dt_s / EMU_BAL_TAU_S);
    double up_us = dt_s * 1e6;
    m->uptime_us += up_us >= 1.8e19 ? 0 : (uint64_t)llround(up_us);
}

void emu_bal_tick(emu_balancer_t *e, double dt_s, uint64_t now_us)
{
    (void)now_us; /* the model only needs the step */
    if (e == NULL) {
        return;
    }
    if (!(dt_s >= 0.0) || isinf(dt_s)) {
        dt_s = 0.0;
    }
    for (size_t i = 0; i < EMU_BAL_MAX_MODULES; i++) {
        if (e->mods[i].cell != NULL) {
            tick_module(&e->mods[i], dt_s);
        }
    }
}

/* One module's own reply to a valid command, faults applied; 0 = silent. */
static size_t module_reply(emu_balancer_t *e, emu_bal_module_t *m, int cmd, uint8_t *out,
                           size_t cap)
{
    m->requests++;
    if ((m->faults & EMU_BAL_F_SILENT) != 0) {
        return 0;
    }
    m->replies++;
    if ((m->faults & EMU_BAL_F_GARBAGE) != 0) {
        uint64_t r = splitmix64(&e->rng_state);
        size_t n = BAL_GARBAGE_MIN + (size_t)(r % (BAL_GARBAGE_MAX - BAL_GARBAGE_MIN + 1u));
        for (size_t i = 0; i < n; i++) {
            /* Bit 7 set: never a digit, sign or line end, as from a wrong baud rate. */
            out[i] = (uint8_t)(0x80u | (splitmix64(&e->rng_state) >> 57));
        }
        out[n] = '\r';
        out[n + 1] = '\n';
        return n + 2;
    }
    emu_bal_values_t v;
    if (m->have_snapshot) {
        v = m->snapshot;
    } else {
        measure(m, &v);
    }
    int32_t wrong_mv = (m->faults & EMU_BAL_F_WRONG_VALUE) != 0 ? EMU_BAL_WRONG_MV : 0;
    int32_t wrong_c = (m->faults & EMU_BAL_F_WRONG_VALUE) != 0 ? EMU_BAL_WRONG_DEGC : 0;
    long value;
    switch (cmd) {
    case EMU_BAL_CMD_CELL_MV:
        value = (long)v.cell_mv + wrong_mv;
        break;
    case EMU_BAL_CMD_CELL_TEMP:
        value = (long)v.cell_temp_c + wrong_c;
        break;
    case EMU_BAL_CMD_RES_TEMP:
        value = (long)v.res_temp_c + wrong_c;
        break;
    case EMU_BAL_CMD_UPTIME:
        value = (long)v.uptime_s;
        break;
    default: /* EMU_BAL_CMD_VERSION; the caller passes valid commands only */
        value = (long)m->version;
        break;
    }
    int n = snprintf((char *)out, cap, "%ld\r\n", value);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static uint64_t module_start_us(const emu_balancer_t *e, const emu_bal_module_t *m, uint64_t end_us)
{
    uint64_t slow_us = (m->faults & EMU_BAL_F_SLOW) != 0 ? (uint64_t)m->slow_ms * 1000u : 0;
    return end_us + e->turnaround_us + slow_us;
}

typedef struct bal_stream {
    uint8_t bytes[EMU_BAL_MAX_REPLY];
    size_t len;
    uint64_t start_us;
    uint32_t skew_bits;
} bal_stream_t;

/* Level of one UART stream at bit time t (1 = idle/mark). */
static unsigned stream_bit(const bal_stream_t *s, uint32_t t)
{
    if (t < s->skew_bits) {
        return 1;
    }
    uint32_t k = t - s->skew_bits;
    uint32_t byte = k / BAL_FRAME_BITS;
    uint32_t bit = k % BAL_FRAME_BITS;
    if (byte >= s->len) {
        return 1;
    }
    if (bit == 0) {
        return 0; /* start bit */
    }
    if (bit == BAL_FRAME_BITS - 1u) {
        return 1; /* stop bit */
    }
    return (s->bytes[byte] >> (bit - 1u)) & 1u;
}

/* Several modules drive the open-collector line at once: the line is the AND
 * of their bit streams. Decode it as the controller's UART would: find a start
 * bit, take 8 data bits LSB first, skip the stop bit (a framing error still
 * delivers the byte). Returns the decoded length. */
static size_t collide(bal_stream_t *s, size_t n, uint8_t *out, size_t cap)
{
    uint32_t total_bits = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t end = s[i].skew_bits + (uint32_t)s[i].len * BAL_FRAME_BITS;
        total_bits = end > total_bits ? end : total_bits;
    }
    size_t len = 0;
    uint32_t t = 0;
    while (t < total_bits && len < cap) {
        unsigned line = 1;
        for (size_t i = 0; i < n; i++) {
            line &= stream_bit(&s[i], t);
        }
        if (line != 0) {
            t++;
            continue;
        }
        uint8_t b = 0;
        for (uint32_t bit = 0; bit < 8u; bit++) {
            unsigned level = 1;
            for (size_t i = 0; i < n; i++) {
                level &= stream_bit(&s[i], t + 1u + bit);
            }
            b |= (uint8_t)(level << bit);
        }
        out[len++] = b;
        t += BAL_FRAME_BITS;
    }
    return len;
}

static void queue_reply(emu_balancer_t *e, const uint8_t *bytes, size_t len, uint64_t start_us)
{
    if (e->reply_len > 0) {
        e->replies_dropped++;
    }
    memcpy(e->reply, bytes, len);
    e->reply_len = len;
    e->reply_at_us = start_us;
}

/* Every module answering at address replies; more than one collide. */
static void answer(emu_balancer_t *e, uint8_t address, int cmd, uint64_t end_us)
{
    bal_stream_t s[BAL_MAX_RESPONDERS];
    size_t n = 0;
    for (size_t i = 0; i < EMU_BAL_MAX_MODULES && n < BAL_MAX_RESPONDERS; i++) {
        /* The module at the address itself comes first, then its duplicates. */
        size_t idx = (address - 1u + i) % EMU_BAL_MAX_MODULES;
        emu_bal_module_t *m = &e->mods[idx];
        bool own = idx == (size_t)(address - 1u);
        if (m->cell == NULL || !(own || m->also_address == address)) {
            continue;
        }
        size_t len = module_reply(e, m, cmd, s[n].bytes, sizeof(s[n].bytes));
        if (len == 0) {
            continue;
        }
        s[n].len = len;
        s[n].start_us = module_start_us(e, m, end_us);
        n++;
    }
    if (n == 0) {
        e->no_module++;
        return;
    }
    if (n == 1) {
        queue_reply(e, s[0].bytes, s[0].len, s[0].start_us);
        return;
    }
    e->collisions++;
    uint64_t first_us = s[0].start_us;
    for (size_t i = 1; i < n; i++) {
        first_us = s[i].start_us < first_us ? s[i].start_us : first_us;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t skew =
            (s[i].start_us - first_us) / EMU_BAL_BIT_US + i * EMU_BAL_COLLISION_SKEW_BITS;
        s[i].skew_bits = skew > BAL_MAX_SKEW_BITS ? BAL_MAX_SKEW_BITS : (uint32_t)skew;
    }
    uint8_t line[EMU_BAL_MAX_REPLY];
    size_t len = collide(s, n, line, sizeof(line));
    if (len > 0) {
        queue_reply(e, line, len, first_us);
    }
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static void handle_request(emu_balancer_t *e, uint64_t end_us)
{
    e->requests++;
    for (size_t i = 0; i < EMU_BAL_REQUEST_LEN; i++) {
        if (!is_digit(e->rx[i])) {
            e->bad_requests++;
            return;
        }
    }
    int address = (e->rx[0] - '0') * 10 + (e->rx[1] - '0');
    int cmd = (e->rx[2] - '0') * 10 + (e->rx[3] - '0');
    if (address < 1 || address > EMU_BAL_MAX_MODULES) {
        e->bad_requests++;
        return;
    }
    if (cmd < EMU_BAL_CMD_CELL_TEMP || cmd > EMU_BAL_CMD_VERSION) {
        e->unknown_commands++;
        return;
    }
    answer(e, (uint8_t)address, cmd, end_us);
}

void emu_bal_feed(emu_balancer_t *e, const uint8_t *data, size_t len, uint64_t now_us)
{
    if (e == NULL || data == NULL) {
        return;
    }
    for (size_t i = 0; i < len; i++) {
        /* A silence longer than 2 character times ends a partial request: the
         * next character starts a new one (resync after noise or a lost byte). */
        if (e->rx_len > 0 && now_us > e->last_rx_us && now_us - e->last_rx_us > EMU_BAL_GAP_US) {
            e->fragments++;
            e->rx_len = 0;
        }
        e->rx[e->rx_len++] = data[i];
        e->last_rx_us = now_us;
        if (e->rx_len == EMU_BAL_REQUEST_LEN) {
            handle_request(e, now_us);
            e->rx_len = 0;
        }
    }
}

size_t emu_bal_take_reply(emu_balancer_t *e, uint8_t *out, size_t cap, uint64_t *start_us)
{
    if (e == NULL || out == NULL || e->reply_len == 0 || e->reply_len > cap) {
        return 0;
    }
    size_t len = e->reply_len;
    memcpy(out, e->reply, len);
    if (start_us != NULL) {
        *start_us = e->reply_at_us;
    }
    e->reply_len = 0;
    return len;
}
