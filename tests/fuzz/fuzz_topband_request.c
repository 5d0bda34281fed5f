/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the Topband emulator's request side (emulators/topband).
 *
 * Any bytes: emu_tb_decode_request keeps its contract; an emulator with two
 * packs, fed the bytes in random chunks, only ever hands out whole frames.
 * When the input is one clean request, the reply is checked against the
 * gateway's own parser (firmware/core), written independently: whatever the
 * emulator says must be a frame the gateway reads, with the pack's values. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "emulators/topband/emu_topband.h"
#include "emulators/topband/emu_topband_codec.h"
#include "fuzz_common.h"
#include "topband/topband_frame.h"

#define ADR_EET 1
#define ADR_TOPBMS 2
#define CELLS_EET 15
#define CELLS_TOPBMS 16
#define MANUF_INFO_CHARS 64u

#define FRAME_OVERHEAD 17u   /* SOI + 12 header + 4 CHKSUM, EOI not counted */
#define POS_LENGTH 9

int bms_fuzz_accepted;

static sim_pack_t pack_eet, pack_topbms;

/* Plausible packs filled by hand: the fuzzer varies the requests, not the battery. */
static void fill_pack(sim_pack_t *p, int ncells, double soc)
{
    memset(p, 0, sizeof(*p));
    p->ncells = ncells;
    for (int i = 0; i < ncells; i++) {
        sim_cell_t *c = &p->cells[i];
        c->soc = soc;
        c->capacity_ah = 100.0;
        c->r_ohm = 0.00025;
        c->temp_c = 20.0 + 0.25 * i;
        c->v = 3.300 + 0.002 * i;
    }
    p->capacity_ah = 100.0;
    p->ambient_c = 18.5;
    p->current_a = -12.5;
    p->voltage_v = 3.3 * ncells;
    p->throughput_ah = 1234.0;
    p->cycles_base = 42;
    p->charge_fet = true;
    p->discharge_fet = true;
}

static void setup(emu_topband_t *e, unsigned faults)
{
    fill_pack(&pack_eet, CELLS_EET, 0.55);
    fill_pack(&pack_topbms, CELLS_TOPBMS, 0.80);
    emu_tb_init(e, 7);
    FUZZ_CHECK(emu_tb_attach(e, ADR_EET, &pack_eet, EMU_TB_EET) == 0);
    FUZZ_CHECK(emu_tb_attach(e, ADR_TOPBMS, &pack_topbms, EMU_TB_TOPBMS) == 0);
    emu_tb_set_faults(e, ADR_EET, faults, 30);
    emu_tb_set_faults(e, ADR_TOPBMS, faults, 30);
}

static int check_decode(const uint8_t *data, size_t size, emu_tb_request_t *req)
{
    int rc = emu_tb_decode_request(data, size, req);
    FUZZ_CHECK(rc == -1 || (rc >= EMU_TB_RTN_OK && rc <= EMU_TB_RTN_DATA));
    if (rc == EMU_TB_RTN_OK) {
        FUZZ_CHECK(req->ver == EMU_TB_VER_REQUEST && req->cid1 == EMU_TB_CID1_BATTERY);
        FUZZ_CHECK(req->info_len <= sizeof(req->info) && req->lenid == 2 * req->info_len);
    }
    return rc;
}

/* One request, alone between SOI and EOI, as the emulator's framer will see it. */
static bool is_single_request(const uint8_t *data, size_t size)
{
    size_t n = size;
    while (n > 0 && (data[n - 1] == '\r' || data[n - 1] == '\n')) {
        n--;
    }
    if (n == 0 || data[0] != '~' || n > EMU_TB_MAX_REPLY) {
        return false;
    }
    for (size_t i = 1; i < n; i++) {
        if (data[i] == '~' || data[i] == '\r' || data[i] == '\n') {
            return false;
        }
    }
    return true;
}

/* The reply to one clean request, read by the gateway's parser. */
static void check_reply(const uint8_t *data, size_t size, int rc, const emu_tb_request_t *req)
{
    static emu_topband_t e;
    static uint8_t reply[EMU_TB_MAX_REPLY];
    static uint8_t info[EMU_TB_MAX_REPLY];
    setup(&e, 0);
    emu_tb_feed(&e, data, size, 5000);
    emu_tb_feed(&e, (const uint8_t *)"\r", 1, 5000);
    uint64_t start_us = 0;
    size_t n = emu_tb_take_reply(&e, reply, sizeof(reply), &start_us);
    bool present = rc >= 0 && (req->adr == ADR_EET || req->adr == ADR_TOPBMS);
    FUZZ_CHECK((n > 0) == present);
    FUZZ_CHECK(e.bad_requests == (rc == EMU_TB_RTN_OK ? 0u : 1u));
    if (!present) {
        return;
    }
    FUZZ_CHECK(start_us == 5000 + e.turnaround_us);
    gw_tb_frame_t f;
    bool ascii = rc == EMU_TB_RTN_OK && req->cid2 == EMU_TB_CID2_MANUFACTURER;
    gw_tb_err_t err = ascii ? gw_tb_parse_ascii_info(reply, n, info, sizeof(info), &f)
                            : gw_tb_parse(reply, n, info, sizeof(info), &f);
    FUZZ_CHECK(err == GW_TB_OK);
    FUZZ_CHECK(f.adr == req->adr && f.rtn == (uint8_t)rc);
    FUZZ_CHECK(f.ver == (req->adr == ADR_EET ? GW_TB_VER_REQ : GW_TB_VER_52));
    if (rc != EMU_TB_RTN_OK) {
        FUZZ_CHECK(f.info_len == 0);
        return;
    }
    if (ascii) {
        FUZZ_CHECK(f.info_len == MANUF_INFO_CHARS);
    } else if (req->cid2 == EMU_TB_CID2_ANALOG) {
        gw_pack_t p;
        const sim_pack_t *sp = req->adr == ADR_EET ? &pack_eet : &pack_topbms;
        FUZZ_CHECK(gw_tb_decode_analog(&f, &p) == GW_TB_OK);
        FUZZ_CHECK(p.cell_count == sp->ncells);
        for (int i = 0; i < sp->ncells; i++) {
            FUZZ_CHECK(p.cell_mv[i] == 3300 + 2 * i);
        }
        FUZZ_CHECK(p.current_ma == -12500);
        FUZZ_CHECK(req->info_len == 0 || info[0] == req->info[0]); /* command echo */
    }
}

/* Any byte stream, in random chunks, with fault knobs from the input. */
static void check_stream(const uint8_t *data, size_t size)
{
    static emu_topband_t e;
    static uint8_t out[EMU_TB_MAX_REPLY];
    uint32_t rng = bms_fuzz_hash(data, size);
    /* Every knob but SILENT, so damaged replies are handed out too. */
    unsigned faults = bms_fuzz_next(&rng) & 0x7Eu;
    setup(&e, (bms_fuzz_next(&rng) & 1u) != 0 ? faults : 0);
    uint64_t now_us = 0;
    size_t pos = 0;
    while (pos < size) {
        size_t chunk = 1 + bms_fuzz_next(&rng) % 40;
        if (chunk > size - pos) {
            chunk = size - pos;
        }
        emu_tb_feed(&e, data + pos, chunk, now_us);
        FUZZ_CHECK(e.rx_len <= sizeof(e.rx) && e.reply_len <= sizeof(e.reply));
        uint64_t start_us = 0;
        size_t cap = (bms_fuzz_next(&rng) & 7u) == 0 ? 16 : sizeof(out);
        size_t n = emu_tb_take_reply(&e, out, cap, &start_us);
        FUZZ_CHECK(n <= cap);
        if (n > 0) {
            FUZZ_CHECK(start_us >= now_us);
            FUZZ_CHECK(emu_tb_take_reply(&e, out, sizeof(out), &start_us) == 0);
            if (e.slots[ADR_EET].faults == 0) {
                FUZZ_CHECK(out[0] == '~' && out[n - 1] == '\r');
            }
        }
        pos += chunk;
        now_us += bms_fuzz_next(&rng) % 2000;
    }
}

static void put_hex(uint8_t *out, unsigned v, int nchars)
{
    static const char digits[] = "0123456789ABCDEF";
    for (int i = 0; i < nchars; i++) {
        out[i] = (uint8_t)digits[(v >> (4 * (nchars - 1 - i))) & 0xFu];
    }
}

/* The input with LENGTH and CHKSUM made right for its length, so mutations
 * reach the command handling and not only the checksum test. 0 if impossible. */
static size_t repair(const uint8_t *data, size_t size, uint8_t *out, size_t cap)
{
    size_t n = size;
    while (n > 0 && (data[n - 1] == '\r' || data[n - 1] == '\n')) {
        n--;
    }
    if (n < FRAME_OVERHEAD || n + 1 > cap) {
        return 0;
    }
    memcpy(out, data, n);
    uint16_t lenid = (uint16_t)(n - FRAME_OVERHEAD);
    put_hex(out + POS_LENGTH, ((unsigned)emu_tb_lchksum(lenid) << 12) | lenid, 4);
    put_hex(out + n - 4, emu_tb_chksum(out + 1, n - 5), 4);
    out[n] = '\r';
    return n + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    emu_tb_request_t req;
    memset(&req, 0, sizeof(req));
    int rc = check_decode(data, size, &req);
    bms_fuzz_accepted = rc == EMU_TB_RTN_OK;
    if (is_single_request(data, size)) {
        check_reply(data, size, rc, &req);
        static uint8_t fixed[EMU_TB_MAX_REPLY + 1];
        size_t n = repair(data, size, fixed, sizeof(fixed));
        if (n > 0) {
            rc = check_decode(fixed, n, &req);
            check_reply(fixed, n, rc, &req);
        }
    }
    check_stream(data, size);
    return 0;
}
