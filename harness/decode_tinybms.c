/* SPDX-License-Identifier: MIT */
/* `bmsbench decode tinybms`: one TinyBMS UART frame as text or JSON, decoded with the firmware's own codec. */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness/commands.h"
#include "tinybms/tinybms_frame.h"

#define TD_MAX_BYTES 512 /* longest TinyBMS frame is 259 bytes */
#define TD_LIST_MAX 8192 /* one formatted array */

static const char usage_text[] =
    "Usage: bmsbench decode tinybms [--json] HEX [HEX...]\n"
    "\n"
    "Decode one TinyBMS (Enepaq s516) UART frame: 0xAA, command, data, CRC-16/MODBUS\n"
    "(low byte first). The hex may be spaced or not and split over several\n"
    "arguments. Requests and replies are told apart by command and length.\n"
    "Replies whose layout does not depend on the request (0x14-0x20, ACK, NACK,\n"
    "events) are decoded into fields with units; register replies (0x03, 0x07)\n"
    "are shown as raw registers, since only the request says where they start.\n"
    "\n"
    "Options:\n"
    "  -j, --json   print one JSON object: command, kind, crc_ok, decoded fields\n"
    "  -h, --help   print this help\n"
    "\n"
    "Exit status: 0 frame decoded, 1 invalid frame (CRC mismatch shows both CRCs),\n"
    "             2 usage error (no input, odd number of hex digits, not hex).\n"
    "\n"
    "Examples:\n"
    "  bmsbench decode tinybms AA 1B 3F 1B\n"
    "  bmsbench decode tinybms --json 'AA 1B 06 16 01 14 01 16 01 0E 4E'\n"
    "  bmsbench decode tinybms AA030A9740974097 2C972C972C3EC7\n"
    "  bmsbench decode tinybms --json AA10013B0002041068 09C41961\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bmsbench decode tinybms: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'bmsbench decode tinybms --help'.\n");
    return BENCH_EXIT_USAGE;
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Collect the hex digits of all arguments; separators are whitespace, ':' and ','. */
static int collect_hex(char **args, int n, uint8_t *out, size_t cap, size_t *len)
{
    size_t digits = 0;
    *len = 0;
    for (int a = 0; a < n; a++) {
        for (const char *p = args[a]; *p != '\0'; p++) {
            if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ':' || *p == ',') {
                continue;
            }
            int v = hex_val(*p);
            if (v < 0) {
                return usage_error("'%c' is not a hex digit", *p);
            }
            if (digits / 2 >= cap) {
                return usage_error("more than %zu bytes: not a TinyBMS frame", cap);
            }
            if (digits % 2 == 0) {
                out[digits / 2] = (uint8_t)(v << 4);
            } else {
                out[digits / 2] |= (uint8_t)v;
            }
            digits++;
        }
    }
    if (digits == 0) {
        return usage_error("no frame given, e.g. 'AA 1B 3F 1B'");
    }
    if (digits % 2 != 0) {
        return usage_error("odd number of hex digits (%zu): a byte needs two", digits);
    }
    *len = digits / 2;
    return BENCH_EXIT_OK;
}

/* ------------------------------------------------------------ output */

typedef struct emit {
    bool json;
    bool first;
} emit_t;

static void field(emit_t *e, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* One key with a preformatted JSON value (a number, string, array or null). */
static void field(emit_t *e, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (e->json) {
        printf("%s\"%s\":", e->first ? "" : ",", key);
    } else {
        printf("  %s: ", key);
    }
    vprintf(fmt, ap);
    if (!e->json) {
        putchar('\n');
    }
    e->first = false;
    va_end(ap);
}

/* A bounded string builder for arrays. */
typedef struct sbuf {
    char s[TD_LIST_MAX];
    size_t n;
} sbuf_t;

static void sb_add(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(sbuf_t *b, const char *fmt, ...)
{
    if (b->n >= sizeof(b->s) - 1) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(b->s + b->n, sizeof(b->s) - b->n, fmt, ap);
    va_end(ap);
    if (w > 0) {
        b->n += (size_t)w;
        if (b->n > sizeof(b->s) - 1) {
            b->n = sizeof(b->s) - 1;
        }
    }
}

static const char *cmd_name(uint8_t cmd)
{
    switch (cmd) {
    case 0x02: return "reset / clear";
    case 0x03: return "read registers (MODBUS)";
    case 0x07: return "read register block";
    case 0x09: return "read individual registers";
    case 0x0B: return "write register block";
    case 0x0D: return "write individual registers";
    case 0x10: return "write registers (MODBUS)";
    case 0x11: return "newest events";
    case 0x12: return "all events";
    case 0x14: return "pack voltage";
    case 0x15: return "pack current";
    case 0x16: return "max cell voltage";
    case 0x17: return "min cell voltage";
    case 0x18: return "online status";
    case 0x19: return "lifetime counter";
    case 0x1A: return "estimated SOC";
    case 0x1B: return "temperatures";
    case 0x1C: return "cell voltages";
    case 0x1D: return "settings values";
    case 0x1E: return "version";
    case 0x1F: return "extended version";
    case 0x20: return "speed / distance / time left";
    default: return "unknown";
    }
}

static const char *status_name(uint16_t st)
{
    switch (st) {
    case GW_TINY_ST_CHARGING: return "charging";
    case GW_TINY_ST_FULL: return "fully charged";
    case GW_TINY_ST_DISCHARGING: return "discharging";
    case GW_TINY_ST_REGEN: return "regeneration";
    case GW_TINY_ST_IDLE: return "idle";
    case GW_TINY_ST_FAULT: return "fault";
    default: return "unknown";
    }
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static void float_field(emit_t *e, const char *key, const uint8_t *p)
{
    int32_t milli;
    if (gw_tiny_float_milli(gw_tiny_le32(p), &milli)) {
        field(e, key, "%s%d.%03d", milli < 0 ? "-" : "", (int)((milli < 0 ? -(int64_t)milli : milli) / 1000),
              (int)((milli < 0 ? -(int64_t)milli : milli) % 1000));
    } else {
        field(e, key, "null");
    }
}

static void temp_item(sbuf_t *b, int16_t dc)
{
    if (dc == GW_TINY_TEMP_ABSENT) {
        sb_add(b, "null");
    } else {
        sb_add(b, "%s%d.%d", dc < 0 ? "-" : "", (dc < 0 ? -dc : dc) / 10, (dc < 0 ? -dc : dc) % 10);
    }
}

/* Registers as {"address": a|null, "value": v}; addr < 0 means unknown. */
static void registers_field(emit_t *e, const uint8_t *p, size_t n, bool big_endian, long addr)
{
    sbuf_t b = { .n = 0 };
    sb_add(&b, "[");
    for (size_t i = 0; 2 * i + 1 < n; i++) {
        uint16_t v = big_endian ? be16(p + 2 * i) : gw_tiny_le16(p + 2 * i);
        if (addr < 0) {
            sb_add(&b, "%s{\"address\":null,\"value\":%u}", i ? "," : "", v);
        } else {
            sb_add(&b, "%s{\"address\":%ld,\"value\":%u}", i ? "," : "", addr + (long)i, v);
        }
    }
    sb_add(&b, "]");
    field(e, "registers", "%s", b.s);
}

/* Address/value pairs (little-endian), as in 0x09 replies and 0x0D requests. */
static void pairs_field(emit_t *e, const uint8_t *p, size_t n)
{
    sbuf_t b = { .n = 0 };
    sb_add(&b, "[");
    for (size_t i = 0; 4 * i + 3 < n; i++) {
        sb_add(&b, "%s{\"address\":%u,\"value\":%u}", i ? "," : "", gw_tiny_le16(p + 4 * i),
               gw_tiny_le16(p + 4 * i + 2));
    }
    sb_add(&b, "]");
    field(e, "registers", "%s", b.s);
}

static void decode_request(emit_t *e, const gw_tiny_frame_t *f)
{
    const uint8_t *p = f->payload;
    size_t n = f->payload_len;
    switch (f->cmd) {
    case GW_TINY_CMD_RESET:
        field(e, "option", "%u", p[0]);
        field(e, "option_name", "\"%s\"",
              p[0] == 1 ? "clear events" : p[0] == 2 ? "clear statistics" : p[0] == 5 ? "reset BMS" : "unknown");
        break;
    case GW_TINY_CMD_READ_MB:
        field(e, "address", "%u", be16(p));
        field(e, "count", "%u", p[3]);
        break;
    case GW_TINY_CMD_WRITE_MB:
        field(e, "address", "%u", be16(p));
        field(e, "count", "%u", p[3]);
        registers_field(e, p + 5, n - 5, true, be16(p));
        break;
    case GW_TINY_CMD_READ_BLOCK:
        field(e, "count", "%u", p[0]);
        field(e, "address", "%u", gw_tiny_le16(p + 1));
        break;
    case GW_TINY_CMD_READ_INDIV: {
        sbuf_t b = { .n = 0 };
        sb_add(&b, "[");
        for (size_t i = 0; n > 0 && i < (n - 1) / 2; i++) {
            sb_add(&b, "%s%u", i ? "," : "", gw_tiny_le16(p + 1 + 2 * i));
        }
        sb_add(&b, "]");
        field(e, "addresses", "%s", b.s);
        break;
    }
    case GW_TINY_CMD_WRITE_BLOCK:
        field(e, "address", "%u", gw_tiny_le16(p + 1));
        registers_field(e, p + 3, n - 3, false, gw_tiny_le16(p + 1));
        break;
    case GW_TINY_CMD_WRITE_INDIV:
        pairs_field(e, p + 1, n - 1);
        break;
    case GW_TINY_CMD_SETTINGS:
        field(e, "option", "%u", p[0]);
        field(e, "count", "%u", p[2]);
        break;
    default:
        break;
    }
}

static void decode_reply(emit_t *e, const gw_tiny_frame_t *f)
{
    const uint8_t *p = f->payload;
    size_t n = f->payload_len;
    switch (f->cmd) {
    case GW_TINY_CMD_READ_MB:
        /* The reply does not say where the block starts: raw registers. */
        registers_field(e, p, n, true, -1);
        break;
    case GW_TINY_CMD_READ_BLOCK:
        registers_field(e, p, n, false, -1);
        break;
    case GW_TINY_CMD_READ_INDIV:
        pairs_field(e, p, n);
        break;
    case GW_TINY_CMD_WRITE_MB:
        field(e, "address", "%u", be16(p));
        field(e, "count", "%u", be16(p + 2));
        break;
    case GW_TINY_CMD_EVENTS_NEW:
    case GW_TINY_CMD_EVENTS_ALL: {
        field(e, "bms_time_s", "%lu", (unsigned long)gw_tiny_le32(p));
        sbuf_t b = { .n = 0 };
        sb_add(&b, "[");
        for (size_t i = 0; 4 + 4 * i + 3 < n; i++) {
            const uint8_t *ev = p + 4 + 4 * i;
            unsigned long ts = (unsigned long)ev[0] | ((unsigned long)ev[1] << 8) | ((unsigned long)ev[2] << 16);
            sb_add(&b, "%s{\"timestamp_s\":%lu,\"id\":%u}", i ? "," : "", ts, ev[3]);
        }
        sb_add(&b, "]");
        field(e, "events", "%s", b.s);
        break;
    }
    case GW_TINY_CMD_PACK_V: float_field(e, "pack_voltage_v", p); break;
    case GW_TINY_CMD_PACK_I: float_field(e, "current_a", p); break;
    case GW_TINY_CMD_MAX_CELL: field(e, "max_cell_mv", "%u", gw_tiny_le16(p)); break;
    case GW_TINY_CMD_MIN_CELL: field(e, "min_cell_mv", "%u", gw_tiny_le16(p)); break;
    case GW_TINY_CMD_STATUS:
        field(e, "status", "%u", gw_tiny_le16(p));
        field(e, "status_name", "\"%s\"", status_name(gw_tiny_le16(p)));
        break;
    case GW_TINY_CMD_LIFETIME: field(e, "lifetime_s", "%lu", (unsigned long)gw_tiny_le32(p)); break;
    case GW_TINY_CMD_SOC: {
        uint32_t ppm = gw_tiny_le32(p);
        field(e, "soc_pct", "%lu.%06lu", (unsigned long)(ppm / 1000000u), (unsigned long)(ppm % 1000000u));
        break;
    }
    case GW_TINY_CMD_TEMPS: {
        sbuf_t b = { .n = 0 };
        sb_add(&b, "[");
        for (size_t i = 0; i < 3; i++) {
            sb_add(&b, "%s", i ? "," : "");
            temp_item(&b, (int16_t)gw_tiny_le16(p + 2 * i));
        }
        sb_add(&b, "]");
        field(e, "temperatures_c", "%s", b.s);
        field(e, "temperature_sensors", "[\"internal\",\"external_1\",\"external_2\"]");
        break;
    }
    case GW_TINY_CMD_CELLS: {
        sbuf_t b = { .n = 0 };
        sb_add(&b, "[");
        for (size_t i = 0; 2 * i + 1 < n; i++) {
            uint16_t raw = gw_tiny_le16(p + 2 * i); /* 0.1 mV, as regs 0-15 */
            sb_add(&b, "%s%u.%u", i ? "," : "", raw / 10u, raw % 10u);
        }
        sb_add(&b, "]");
        field(e, "cells_mv", "%s", b.s);
        break;
    }
    case GW_TINY_CMD_SETTINGS: registers_field(e, p, n, false, -1); break;
    case GW_TINY_CMD_VERSION:
    case GW_TINY_CMD_VERSION_EXT:
        field(e, "hw_version", "%u", p[0]);
        field(e, "hw_changes", "%u", p[1]);
        field(e, "fw_public", "%u", p[2]);
        field(e, "fw_internal", "%u", gw_tiny_le16(p + 3));
        if (f->cmd == GW_TINY_CMD_VERSION_EXT) {
            field(e, "bootloader_version", "%u", p[5]);
            field(e, "register_map_version", "%u", p[6]);
        }
        break;
    case GW_TINY_CMD_SPEED:
        float_field(e, "speed_kmh", p);
        field(e, "distance_left_km", "%lu", (unsigned long)gw_tiny_le32(p + 4));
        field(e, "time_left_s", "%lu", (unsigned long)gw_tiny_le32(p + 8));
        break;
    default:
        break;
    }
}

static void decode_fields(emit_t *e, const gw_tiny_frame_t *f)
{
    switch (f->kind) {
    case GW_TINY_KIND_REQUEST: decode_request(e, f); break;
    case GW_TINY_KIND_REPLY: decode_reply(e, f); break;
    case GW_TINY_KIND_ACK: break;
    case GW_TINY_KIND_NACK:
        field(e, "error_code", "%u", f->error_code);
        field(e, "error_name", "\"%s\"",
              f->error_code == 0 ? "command error" : f->error_code == 1 ? "crc error" : "unknown");
        break;
    }
}

static int decode_frame(const uint8_t *frame, size_t len, bool json)
{
    gw_tiny_frame_t f;
    gw_tiny_err_t err = gw_tiny_parse_any(frame, len, &f);
    if (err != GW_TINY_OK && err != GW_TINY_E_CRC) {
        fprintf(stderr, "bmsbench decode tinybms: invalid frame: %s\n", gw_tiny_strerror(err));
        return BENCH_EXIT_FAIL;
    }
    bool crc_ok = err == GW_TINY_OK;
    emit_t e = { json, true };
    if (json) {
        putchar('{');
    } else {
        printf("TinyBMS %s 0x%02X (%s), crc %s\n", gw_tiny_kind_name(f.kind), f.cmd, cmd_name(f.cmd),
               crc_ok ? "ok" : "MISMATCH");
    }
    field(&e, "command", "\"0x%02X\"", f.cmd);
    field(&e, "kind", "\"%s\"", gw_tiny_kind_name(f.kind));
    field(&e, "crc_ok", "%s", crc_ok ? "true" : "false");
    field(&e, "crc_frame", "\"0x%04X\"", f.crc_rx);
    field(&e, "crc_computed", "\"0x%04X\"", f.crc_calc);
    if (crc_ok) {
        decode_fields(&e, &f);
    }
    if (json) {
        printf("}\n");
    }
    if (!crc_ok) {
        fprintf(stderr, "bmsbench decode tinybms: crc mismatch: frame carries 0x%04X, computed 0x%04X\n",
                f.crc_rx, f.crc_calc);
        return BENCH_EXIT_FAIL;
    }
    return BENCH_EXIT_OK;
}

int decode_tinybms_main(int argc, char **argv)
{
    static const struct option long_opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool json = false;
    int c;
    optind = 0; /* re-initialise getopt: main() may have run it already */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "jh", long_opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 'h': fputs(usage_text, stdout); return BENCH_EXIT_OK;
        default:
            if (optopt != 0) {
                return usage_error("unknown option '-%c'", optopt);
            }
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    uint8_t frame[TD_MAX_BYTES];
    size_t len = 0;
    int rc = collect_hex(argv + optind, argc - optind, frame, sizeof(frame), &len);
    if (rc != BENCH_EXIT_OK) {
        return rc;
    }
    return decode_frame(frame, len, json);
}
