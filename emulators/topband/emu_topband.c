/* SPDX-License-Identifier: MIT */
/* Topband/EET BMS emulator: request assembly, reply timing, fault knobs (see emu_topband.h). */
#include "emulators/topband/emu_topband.h"

#include <math.h>
#include <string.h>

#include "emulators/topband/emu_topband_codec.h"

#define TB_DEFAULT_TURNAROUND_US 20000u
#define TB_CELL_SENSORS 4u
#define TB_CELLS_PER_SENSOR 4u
/* Balancer runs a little warmer than the cells it sits next to. */
#define TB_BALANCER_RISE_C 1.0
/* MOSFET self-heating per ampere through the pack. */
#define TB_MOSFET_C_PER_A 0.02
#define TB_SOH_PCT 100

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void emu_tb_init(emu_topband_t *e, uint64_t seed)
{
    if (e == NULL) {
        return;
    }
    memset(e, 0, sizeof(*e));
    e->turnaround_us = TB_DEFAULT_TURNAROUND_US;
    e->rng_state = seed;
    for (size_t i = 0; i < EMU_TB_MAX_PACKS; i++) {
        e->slots[i].family = EMU_TB_EET;
    }
}

int emu_tb_attach(emu_topband_t *e, uint8_t addr, const sim_pack_t *pack, emu_tb_family_t fam)
{
    if (e == NULL || addr >= EMU_TB_MAX_PACKS || (fam != EMU_TB_EET && fam != EMU_TB_TOPBMS)) {
        return -1;
    }
    emu_tb_slot_t *s = &e->slots[addr];
    s->pack = pack;
    s->family = fam;
    s->have_snapshot = false;
    return 0;
}

void emu_tb_set_faults(emu_topband_t *e, uint8_t addr, unsigned faults, uint32_t late_ms)
{
    if (e == NULL || addr >= EMU_TB_MAX_PACKS) {
        return;
    }
    emu_tb_slot_t *s = &e->slots[addr];
    /* The snapshot is taken when FROZEN is switched on and kept while it stays
     * on, so re-applying the same mask does not refresh the values. */
    bool freeze = (faults & EMU_TB_F_FROZEN) != 0;
    if (!freeze) {
        s->have_snapshot = false;
    } else if (!s->have_snapshot && s->pack != NULL) {
        emu_tb_measure(s->pack, s->family, &s->snapshot);
        s->have_snapshot = true;
    }
    s->faults = faults;
    s->late_ms = late_ms;
}

static double clamp_d(double x, double lo, double hi)
{
    if (!(x == x) || x < lo) { /* NaN counts as the low end */
        return lo;
    }
    return x > hi ? hi : x;
}

/* Cell sensor k covers cells 4k..4k+3; a sensor with no cells under it (small
 * packs) reads the mean of all cells. */
static double cell_sensor_c(const sim_pack_t *p, size_t ncells, size_t k, double mean_c)
{
    double sum = 0.0;
    size_t n = 0;
    for (size_t i = k * TB_CELLS_PER_SENSOR; i < (k + 1) * TB_CELLS_PER_SENSOR && i < ncells; i++) {
        sum += p->cells[i].temp_c;
        n++;
    }
    return n > 0 ? sum / (double)n : mean_c;
}

void emu_tb_measure(const sim_pack_t *p, emu_tb_family_t fam, emu_tb_analog_t *out)
{
    if (out == NULL) {
        return;
    }
    memset(out, 0, sizeof(*out));
    if (p == NULL) {
        return;
    }
    size_t ncells = p->ncells < 0 ? 0 : (size_t)p->ncells;
    if (ncells > SIM_MAX_CELLS || ncells > sizeof(out->cell_mv) / sizeof(out->cell_mv[0])) {
        ncells = sizeof(out->cell_mv) / sizeof(out->cell_mv[0]);
    }
    out->ncells = (uint8_t)ncells;

    uint32_t sum_mv = 0;
    double sum_t = 0.0, max_t = p->ambient_c, sum_soc = 0.0;
    for (size_t i = 0; i < ncells; i++) {
        const sim_cell_t *c = &p->cells[i];
        out->cell_mv[i] = (uint16_t)lround(clamp_d(c->v * 1000.0, 0.0, 65535.0));
        sum_mv += out->cell_mv[i];
        sum_t += c->temp_c;
        max_t = (i == 0 || c->temp_c > max_t) ? c->temp_c : max_t;
        sum_soc += c->soc;
    }
    double mean_t = ncells > 0 ? sum_t / (double)ncells : p->ambient_c;
    double mean_soc = ncells > 0 ? sum_soc / (double)ncells : 0.0;

    for (size_t k = 0; k < TB_CELL_SENSORS; k++) {
        out->temp_c[k] = cell_sensor_c(p, ncells, k, mean_t);
    }
    double mosfet_c = max_t + TB_MOSFET_C_PER_A * fabs(p->current_a);
    if (fam == EMU_TB_TOPBMS) {
        out->ntemps = TB_CELL_SENSORS + 2;
        out->temp_c[4] = p->ambient_c;
        out->temp_c[5] = mosfet_c;
    } else {
        out->ntemps = TB_CELL_SENSORS + 3;
        out->temp_c[4] = mean_t + TB_BALANCER_RISE_C;
        out->temp_c[5] = p->ambient_c;
        out->temp_c[6] = mosfet_c;
    }

    out->current_a = p->current_a;
    /* The BMS reports its own sum of cells in 10 mV, already rounded, so the
     * encoder's x100 gives back exactly that integer. */
    out->voltage_v = floor((double)sum_mv / 10.0 + 0.5) / 100.0;
    double soc_frac = clamp_d(mean_soc, 0.0, 1.0);
    out->soc_pct = (uint8_t)lround(clamp_d(mean_soc * 100.0, 0.0, 100.0));
    out->full_ah = p->capacity_ah > 0 ? p->capacity_ah : 0.0;
    out->remaining_ah = soc_frac * out->full_ah;
    double cycles = (double)p->cycles_base;
    if (out->full_ah > 0) {
        cycles += p->throughput_ah / (2.0 * out->full_ah);
    }
    out->cycles = (uint16_t)floor(clamp_d(cycles, 0.0, 65535.0));
    out->soh_pct = TB_SOH_PCT;
    out->balancing = 0;
    out->charge_fet = p->charge_fet;
    out->discharge_fet = p->discharge_fet;
}

/* The values a reply reports: the frozen snapshot, or a fresh measurement. */
static void slot_values(const emu_tb_slot_t *s, emu_tb_analog_t *a)
{
    if ((s->faults & EMU_TB_F_FROZEN) != 0 && s->have_snapshot) {
        *a = s->snapshot;
    } else {
        emu_tb_measure(s->pack, s->family, a);
    }
}

/* Build the normal reply to a valid request into out; returns its length. */
static size_t build_reply(const emu_tb_slot_t *s, const emu_tb_request_t *req, uint8_t adr,
                          uint8_t *out, size_t cap)
{
    uint8_t ver = emu_tb_family_ver(s->family);
    uint8_t info[EMU_TB_MAX_REPLY / 2];
    size_t info_len = 0;
    emu_tb_analog_t a;
    /* The command byte is echoed when the master sent one, else the address. */
    uint8_t echo = req->info_len > 0 ? req->info[0] : req->adr;

    switch (req->cid2) {
    case EMU_TB_CID2_ANALOG:
        slot_values(s, &a);
        info_len = emu_tb_analog_info(&a, s->family, echo, info, sizeof(info));
        break;
    case EMU_TB_CID2_ALARM:
        slot_values(s, &a);
        info_len = emu_tb_alarm_info(&a, s->family, echo, info, sizeof(info));
        break;
    case EMU_TB_CID2_PARAMS:
        slot_values(s, &a);
        info_len = emu_tb_params_info(&a, info, sizeof(info));
        break;
    case EMU_TB_CID2_MANUFACTURER: {
        char text[64];
        size_t n = emu_tb_manufacturer_info(s->family, req->adr, text, sizeof(text));
        return emu_tb_encode_reply_ascii(ver, adr, EMU_TB_RTN_OK, text, n, out, cap);
    }
    case EMU_TB_CID2_PROTOCOL:
    default:
        break;
    }
    return emu_tb_encode_reply(ver, adr, EMU_TB_RTN_OK, info, info_len, out, cap);
}

static void put_hex16(uint8_t *out, uint16_t v)
{
    static const char digits[] = "0123456789ABCDEF";
    for (int i = 0; i < 4; i++) {
        out[i] = (uint8_t)digits[(v >> (12 - 4 * i)) & 0xFu];
    }
}

/* Damage a finished reply as the fault mask asks. */
static size_t apply_faults(emu_topband_t *e, unsigned faults, uint8_t *r, size_t len)
{
    /* A complete frame is '~' + 12 + INFO + 4 + CR: the checksum sits just before the CR. */
    if ((faults & EMU_TB_F_BAD_CHECKSUM) != 0 && len >= 18) {
        uint16_t chk = emu_tb_chksum(r + 1, len - 6);
        put_hex16(r + len - 5, (uint16_t)(chk + 1u));
    }
    if ((faults & EMU_TB_F_TRUNCATED) != 0) {
        len /= 2;
    }
    if ((faults & EMU_TB_F_GARBAGE) != 0) {
        for (size_t i = 0; i < len; i++) {
            r[i] = (uint8_t)(splitmix64(&e->rng_state) >> 56);
        }
    }
    return len;
}

static void handle_frame(emu_topband_t *e, const uint8_t *frame, size_t len, uint64_t now_us)
{
    /* The master has moved on: an untaken reply would now collide. */
    e->reply_len = 0;

    emu_tb_request_t req;
    int rc = emu_tb_decode_request(frame, len, &req);
    if (rc != EMU_TB_RTN_OK) {
        e->bad_requests++;
    }
    if (rc < 0 || req.adr >= EMU_TB_MAX_PACKS) {
        return;
    }
    emu_tb_slot_t *s = &e->slots[req.adr];
    /* No pack, or a pack pulled off the bus: silence, as on a real bus. */
    if (s->pack == NULL || s->pack->disconnected) {
        return;
    }
    s->requests++;
    if ((s->faults & EMU_TB_F_SILENT) != 0) {
        return;
    }
    uint8_t adr = req.adr;
    if ((s->faults & EMU_TB_F_WRONG_ADDRESS) != 0) {
        adr = (uint8_t)((adr + 1u) % EMU_TB_MAX_PACKS);
    }
    size_t n;
    if (rc == EMU_TB_RTN_OK) {
        n = build_reply(s, &req, adr, e->reply, sizeof(e->reply));
    } else {
        n = emu_tb_encode_reply(emu_tb_family_ver(s->family), adr, (uint8_t)rc, NULL, 0, e->reply,
                                sizeof(e->reply));
    }
    if (n == 0) {
        return;
    }
    e->reply_len = apply_faults(e, s->faults, e->reply, n);
    uint64_t delay_us = e->turnaround_us;
    if ((s->faults & EMU_TB_F_LATE) != 0) {
        delay_us += (uint64_t)s->late_ms * 1000u;
    }
    e->reply_at_us = now_us + delay_us;
    s->replies++;
}

void emu_tb_feed(emu_topband_t *e, const uint8_t *data, size_t len, uint64_t now_us)
{
    if (e == NULL || data == NULL) {
        return;
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t c = data[i];
        if (c == '~') {
            /* SOI always starts over: a '~' mid-frame means the previous one was lost. */
            if (e->rx_in_frame) {
                e->bad_requests++;
            }
            e->rx_in_frame = true;
            e->rx[0] = c;
            e->rx_len = 1;
            continue;
        }
        if (!e->rx_in_frame) {
            continue; /* noise between frames */
        }
        if (c == '\r' || c == '\n') {
            e->rx_in_frame = false;
            handle_frame(e, e->rx, e->rx_len, now_us);
            e->rx_len = 0;
            continue;
        }
        if (e->rx_len >= sizeof(e->rx)) {
            /* Longer than any request can be: drop it and wait for the next SOI. */
            e->rx_in_frame = false;
            e->rx_len = 0;
            e->bad_requests++;
            continue;
        }
        e->rx[e->rx_len++] = c;
    }
}

size_t emu_tb_take_reply(emu_topband_t *e, uint8_t *out, size_t cap, uint64_t *start_us)
{
    if (e == NULL || out == NULL || e->reply_len == 0 || e->reply_len > cap) {
        return 0;
    }
    size_t n = e->reply_len;
    memcpy(out, e->reply, n);
    if (start_us != NULL) {
        *start_us = e->reply_at_us;
    }
    e->reply_len = 0;
    return n;
}
