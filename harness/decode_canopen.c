/* SPDX-License-Identifier: MIT */
/* `bmsbench decode canopen`: CANopen frames (SDO via the gateway's own codec, NMT, heartbeat, EMCY, PDO). */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness/commands.h"
#include "superb/canopen_sdo.h"

#define CO_LINE_MAX 512 /* one stdin line; a candump -L classic frame is < 100 chars */
#define CO_MSG_MAX 160

static const char usage_text[] =
    "Usage: bmsbench decode canopen [--json] ID#HEX [ID#HEX...]\n"
    "       bmsbench decode canopen [--json] -        (candump lines from stdin)\n"
    "\n"
    "Decode CANopen (CiA 301) frames as the gateway's SDO client reads them: the\n"
    "service from the COB-ID (nmt, sync, emcy, time, tpdo, rpdo, sdo_request,\n"
    "sdo_response, sdo_abort, heartbeat, lss) and the node id; for SDO frames the\n"
    "command, index, sub-index, size and value (little-endian, expedited) or the\n"
    "abort code with its CiA 301 meaning. Frames in candump notation: 3 hex digits\n"
    "for the 11-bit id, '#', 0..8 data bytes as hex pairs ('.' separators allowed).\n"
    "With '-', lines are read from stdin: bare frames or candump -L log lines.\n"
    "\n"
    "Options:\n"
    "  -j, --json   print JSON, one object per frame and line\n"
    "  -h, --help   print this help\n"
    "\n"
    "Exit status: 0 every frame decoded, 1 a frame is invalid or not CANopen,\n"
    "             2 usage error (no frame, unknown option, bad notation).\n"
    "\n"
    "Examples:\n"
    "  bmsbench decode canopen 602#4060600000000000 582#43606000FA340000\n"
    "  bmsbench decode canopen --json 582#8018100511000906\n"
    "  bmsbench decode canopen 702#7F 000#8102\n"
    "  candump -L can1 | bmsbench decode canopen --json -\n";

typedef struct co_frame {
    uint32_t id;
    bool eff;
    uint8_t dlc;
    uint8_t data[8];
} co_frame_t;

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

static int worse(int a, int b)
{
    return a > b ? a : b;
}

/* candump notation (can-utils lib.h grammar, classic frames). false + msg on bad notation. */
static bool parse_notation(const char *s, co_frame_t *f, char *msg, size_t cap)
{
    memset(f, 0, sizeof(*f));
    size_t n = 0;
    while (s[n] != '\0' && s[n] != '#') {
        int v = hex_digit(s[n]);
        if (v < 0 || n >= 8) {
            snprintf(msg, cap, "position %zu: not a hex digit of the id", n + 1);
            return false;
        }
        f->id = (f->id << 4) | (uint32_t)v;
        n++;
    }
    if (s[n] != '#' || (n != 3 && n != 8)) {
        snprintf(msg, cap, "expected ID#HEX with a 3-digit (11-bit) or 8-digit (29-bit) id");
        return false;
    }
    if ((n == 3 && f->id > 0x7FFu) || (n == 8 && f->id > 0x1FFFFFFFu)) {
        snprintf(msg, cap, "position 1: id out of range");
        return false;
    }
    f->eff = n == 8;
    size_t pos = n + 1;
    while (s[pos] != '\0') {
        if (s[pos] == '.') {
            pos++;
            continue;
        }
        int hi = hex_digit(s[pos]);
        int lo = hi < 0 ? -1 : hex_digit(s[pos + 1]);
        if (hi < 0 || lo < 0) {
            snprintf(msg, cap, "position %zu: expected a hex byte", pos + 1);
            return false;
        }
        if (f->dlc == 8) {
            snprintf(msg, cap, "position %zu: more than 8 data bytes", pos + 1);
            return false;
        }
        f->data[f->dlc++] = (uint8_t)((hi << 4) | lo);
        pos += 2;
    }
    return true;
}

static const char *nmt_state_name(uint8_t s)
{
    switch (s) {
    case GW_CO_NMT_BOOTUP: return "boot_up";
    case GW_CO_NMT_STOPPED: return "stopped";
    case GW_CO_NMT_OPERATIONAL: return "operational";
    case GW_CO_NMT_PRE_OPERATIONAL: return "pre_operational";
    default: return NULL;
    }
}

static const char *nmt_command_name(uint8_t cs)
{
    switch (cs) {
    case 0x01: return "start";
    case 0x02: return "stop";
    case 0x80: return "enter_pre_operational";
    case 0x81: return "reset_node";
    case 0x82: return "reset_communication";
    default: return NULL;
    }
}

/* Output sink: JSON members or text words, so both views share one walk. */
typedef struct out {
    bool json;
    bool first;
} out_t;

static void out_sep(out_t *o)
{
    if (o->json) {
        printf("%s", o->first ? "{" : ", ");
    } else if (!o->first) {
        printf(" ");
    }
    o->first = false;
}

static void out_str(out_t *o, const char *key, const char *v)
{
    out_sep(o);
    if (o->json) {
        printf("\"%s\": \"%s\"", key, v); /* keys and values are fixed ASCII tables or hex */
    } else {
        printf("%s=%s", key, v);
    }
}

static void out_uint(out_t *o, const char *key, unsigned long v)
{
    out_sep(o);
    printf(o->json ? "\"%s\": %lu" : "%s=%lu", key, v);
}

static void out_hex(out_t *o, const char *key, unsigned long v, int digits)
{
    char buf[16];
    snprintf(buf, sizeof buf, "0x%0*lX", digits, v);
    out_str(o, key, buf);
}

static void out_bool(out_t *o, const char *key, bool v)
{
    out_sep(o);
    printf(o->json ? "\"%s\": %s" : "%s=%s", key, v ? "true" : "false");
}

static void out_data(out_t *o, const co_frame_t *f)
{
    char hex[17];
    for (uint8_t i = 0; i < f->dlc && i < 8; i++) {
        snprintf(&hex[2 * i], 3, "%02X", f->data[i]);
    }
    hex[2 * (f->dlc < 8 ? f->dlc : 8)] = '\0';
    out_uint(o, "dlc", f->dlc);
    out_str(o, "data", hex);
}

static void out_end(out_t *o)
{
    printf(o->json ? "}\n" : "\n");
}

/* SDO part of a frame; returns the exit code (1 when the frame is not a valid SDO). */
static int describe_sdo(out_t *o, const co_frame_t *f, bool from_server, char *msg, size_t cap)
{
    gw_sdo_msg_t m;
    gw_sdo_err_t e = gw_sdo_parse(f->data, f->dlc, from_server, &m);
    out_str(o, "service", m.cmd == GW_SDO_CMD_ABORT ? "sdo_abort"
                          : from_server                ? "sdo_response"
                                                       : "sdo_request");
    if (e == GW_SDO_E_DLC) {
        snprintf(msg, cap, "an SDO frame has 8 data bytes, this one %u", (unsigned)f->dlc);
        return BENCH_EXIT_FAIL;
    }
    out_str(o, "command", gw_sdo_command_name(&m));
    if (e != GW_SDO_OK) {
        snprintf(msg, cap, "command byte 0x%02X: command specifier 7 is not defined",
                 (unsigned)f->data[0]);
        return BENCH_EXIT_FAIL;
    }
    if (m.has_mux) {
        out_hex(o, "index", m.index, 4);
        out_uint(o, "subindex", m.subindex);
    }
    if (m.cmd == GW_SDO_CMD_ABORT) {
        const char *meaning = gw_sdo_abort_meaning(m.abort_code);
        out_hex(o, "abort_code", m.abort_code, 8);
        out_sep(o);
        printf(o->json ? "\"abort_meaning\": \"%s\"" : "abort_meaning=\"%s\"",
               meaning != NULL ? meaning : "not a CiA 301 code");
        return BENCH_EXIT_OK;
    }
    if (m.has_size) {
        out_uint(o, "size", m.size);
    }
    if (m.cmd == GW_SDO_CMD_INITIATE_UPLOAD_RESPONSE ||
        m.cmd == GW_SDO_CMD_INITIATE_DOWNLOAD_REQUEST) {
        out_bool(o, "expedited", m.expedited);
        out_bool(o, "size_indicated", m.size_indicated);
    }
    if (m.has_value) {
        out_uint(o, "value", m.value);
    }
    if (m.cmd == GW_SDO_CMD_UPLOAD_SEGMENT_RESPONSE ||
        m.cmd == GW_SDO_CMD_DOWNLOAD_SEGMENT_REQUEST ||
        m.cmd == GW_SDO_CMD_UPLOAD_SEGMENT_REQUEST ||
        m.cmd == GW_SDO_CMD_DOWNLOAD_SEGMENT_RESPONSE) {
        out_uint(o, "toggle", m.toggle);
    }
    if (m.cmd == GW_SDO_CMD_UPLOAD_SEGMENT_RESPONSE ||
        m.cmd == GW_SDO_CMD_DOWNLOAD_SEGMENT_REQUEST) {
        out_bool(o, "last", m.last);
    }
    return BENCH_EXIT_OK;
}

/* Decode one frame and print it; msg gets the reason when the result is not OK. */
static int describe(const co_frame_t *f, bool json, char *msg, size_t cap)
{
    out_t o = {json, true};
    int rc = BENCH_EXIT_OK;
    if (f->eff) {
        snprintf(msg, cap, "29-bit id %08X: CANopen (CiA 301) uses 11-bit ids", (unsigned)f->id);
        return BENCH_EXIT_FAIL;
    }
    uint8_t node = 0, pdo = 0;
    gw_co_service_t s = gw_co_classify(f->id, &node, &pdo);
    if (s == GW_CO_SVC_UNKNOWN) {
        snprintf(msg, cap, "0x%03X is not a CANopen COB-ID of the pre-defined connection set",
                 (unsigned)f->id);
        return BENCH_EXIT_FAIL;
    }
    out_hex(&o, "cob_id", f->id, 3);
    if (s == GW_CO_SVC_NMT && f->dlc >= 2) {
        node = f->data[1]; /* the addressed node, 0 = all */
    }
    out_uint(&o, "node", node);
    switch (s) {
    case GW_CO_SVC_SDO_REQUEST:
    case GW_CO_SVC_SDO_RESPONSE:
        rc = describe_sdo(&o, f, s == GW_CO_SVC_SDO_RESPONSE, msg, cap);
        break;
    case GW_CO_SVC_HEARTBEAT: {
        out_str(&o, "service", "heartbeat");
        const char *st = f->dlc == 1 ? nmt_state_name(f->data[0]) : NULL;
        if (st == NULL) {
            snprintf(msg, cap, "a heartbeat carries one state byte 00/04/05/7F");
            rc = BENCH_EXIT_FAIL;
            break;
        }
        out_str(&o, "state", st);
        break;
    }
    case GW_CO_SVC_NMT: {
        out_str(&o, "service", "nmt");
        const char *cmd = f->dlc == 2 ? nmt_command_name(f->data[0]) : NULL;
        if (cmd == NULL) {
            snprintf(msg, cap, "an NMT command is 2 bytes [cs, node], cs 01/02/80/81/82");
            rc = BENCH_EXIT_FAIL;
            break;
        }
        out_str(&o, "command", cmd);
        break;
    }
    case GW_CO_SVC_EMCY:
        out_str(&o, "service", "emcy");
        if (f->dlc < 3) {
            snprintf(msg, cap, "an EMCY frame has 8 bytes: error code, register, 5 more");
            rc = BENCH_EXIT_FAIL;
            break;
        }
        out_hex(&o, "error_code", gw_co_get_u16(f->data), 4);
        out_hex(&o, "error_register", f->data[2], 2);
        break;
    case GW_CO_SVC_TPDO:
    case GW_CO_SVC_RPDO:
        out_str(&o, "service", gw_co_service_name(s));
        out_uint(&o, "pdo", pdo);
        break;
    default:
        out_str(&o, "service", gw_co_service_name(s));
        break;
    }
    out_data(&o, f);
    out_end(&o);
    return rc;
}

static int decode_one(const char *src, const char *tok, bool json)
{
    co_frame_t f;
    char msg[CO_MSG_MAX];
    if (!parse_notation(tok, &f, msg, sizeof msg)) {
        fprintf(stderr, "bmsbench decode canopen: %s: bad frame '%s': %s\n", src, tok, msg);
        return BENCH_EXIT_USAGE;
    }
    msg[0] = '\0';
    int rc = describe(&f, json, msg, sizeof msg);
    if (rc != BENCH_EXIT_OK) {
        fflush(stdout);
        fprintf(stderr, "bmsbench decode canopen: %s: %s\n", src, msg);
    }
    return rc;
}

/* The frame word of a line: bare, or the third field of "(sec.usec) iface frame [R|T]". */
static const char *line_frame(char *line)
{
    char *save = NULL;
    char *w = strtok_r(line, " \t\r\n", &save);
    if (w != NULL && w[0] == '(') {
        (void)strtok_r(NULL, " \t\r\n", &save);
        w = strtok_r(NULL, " \t\r\n", &save);
    }
    return w;
}

static int decode_stdin(bool json)
{
    char line[CO_LINE_MAX];
    unsigned long lineno = 0;
    int rc = BENCH_EXIT_OK;
    while (fgets(line, sizeof line, stdin) != NULL) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            int c;
            while ((c = getchar()) != EOF && c != '\n') {
            }
            fprintf(stderr, "bmsbench decode canopen: stdin line %lu: too long\n", lineno);
            rc = worse(rc, BENCH_EXIT_USAGE);
            continue;
        }
        const char *tok = line_frame(line);
        if (tok == NULL) {
            continue; /* blank line */
        }
        char src[48];
        snprintf(src, sizeof src, "stdin line %lu", lineno);
        rc = worse(rc, decode_one(src, tok, json));
    }
    return rc;
}

int decode_canopen_main(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false;
    int c;
    optind = 0; /* re-initialise glibc getopt: main() already ran it */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+jh", long_opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return BENCH_EXIT_OK;
        default:
            fprintf(stderr, "bmsbench decode canopen: unknown option '%s'\n"
                            "Try 'bmsbench decode canopen --help'.\n",
                    argv[optind - 1]);
            return BENCH_EXIT_USAGE;
        }
    }
    /* Options may also follow the frames (the dispatcher keeps their order). */
    int n_frames = 0;
    for (int i = optind; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return BENCH_EXIT_OK;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "bmsbench decode canopen: unknown option '%s'\n"
                            "Try 'bmsbench decode canopen --help'.\n",
                    argv[i]);
            return BENCH_EXIT_USAGE;
        } else {
            n_frames++;
        }
    }
    if (n_frames == 0) {
        fprintf(stderr, "bmsbench decode canopen: needs at least one frame (ID#HEX or -)\n"
                        "Try 'bmsbench decode canopen --help'.\n");
        return BENCH_EXIT_USAGE;
    }
    /* Notation first: a typo is a usage error and decodes nothing. */
    for (int i = optind; i < argc; i++) {
        co_frame_t f;
        char msg[CO_MSG_MAX];
        if (argv[i][0] == '-' || parse_notation(argv[i], &f, msg, sizeof msg)) {
            continue;
        }
        fprintf(stderr, "bmsbench decode canopen: bad frame '%s': %s\n", argv[i], msg);
        return BENCH_EXIT_USAGE;
    }
    int rc = BENCH_EXIT_OK;
    for (int i = optind; i < argc; i++) {
        if (strcmp(argv[i], "-") == 0) {
            rc = worse(rc, decode_stdin(json));
        } else if (argv[i][0] != '-') {
            rc = worse(rc, decode_one(argv[i], argv[i], json));
        }
    }
    return rc;
}
