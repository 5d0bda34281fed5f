/* SPDX-License-Identifier: MIT */
/* `bmsbench decode`: Victron CAN-BMS or Topband RS485 frames, as text or JSON. */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness/commands.h"
#include "harness/family_dispatch.h"
#include "harness/monitor.h"
#include "topband/topband_frame.h"

/* SocketCAN id flags as candump notation implies them (linux/can.h values). */
#define DEC_CAN_EFF_FLAG 0x80000000u
#define DEC_CAN_RTR_FLAG 0x40000000u
#define DEC_CAN_SFF_MASK 0x7FFu
#define DEC_CAN_EFF_MASK 0x1FFFFFFFu

#define DEC_MSG_MAX 256       /* one error message */
#define DEC_LINE_MAX 512      /* one stdin line: a candump -L classic frame is < 100 chars */
#define DEC_DESCRIBE_MAX 2048 /* describe() output; 0x35A JSON is the longest, ~1 kB */

static const char usage_text[] =
    "Usage: bmsbench decode victron [--json] ID#HEX [ID#HEX...]\n"
    "       bmsbench decode victron [--json] -        (candump lines from stdin)\n"
    "       bmsbench decode topband [--json] FRAME\n"
    "\n"
    "Decode frames as the receiving side would and print them as text, or as JSON\n"
    "(one object per frame, one per line).\n"
    "\n"
    "victron  Victron CAN-BMS frames (0x351 limits, 0x355, 0x356, 0x35A alarms, ...) in\n"
    "         candump notation: 3 hex digits (11-bit) or 8 (29-bit) for the id, '#',\n"
    "         then 0..8 data bytes as hex pairs, '.' separators allowed. With '-', lines\n"
    "         are read from stdin: bare frames or candump -L log lines\n"
    "         \"(1700000000.123456) can0 351#2802E803DC05D001\".\n"
    "topband  one Topband/EET RS485 frame, '~' to CHKSUM; the trailing CR is optional\n"
    "         (a literal \\r is accepted). Requests and replies are told apart by the\n"
    "         CID2/RTN byte; 0x42 replies are decoded into cells, temperatures, current,\n"
    "         voltage, capacities, cycles, SOC and SOH.\n"
    "\n"
    "Options:\n"
    "  -j, --json   print JSON\n"
    "  -h, --help   print this help\n"
    "\n"
    "Exit status: 0 every frame decoded, 1 a frame is invalid or unknown,\n"
    "             2 usage error (no frame, unknown option, bad notation).\n"
    "\n"
    "Examples:\n"
    "  bmsbench decode victron 351#2802E803DC05D001\n"
    "  bmsbench decode victron --json 356#EE148001D200 35A#A6AAAAAAAAAAAAAA\n"
    "  candump -L can0 | bmsbench decode victron --json -\n"
    "  bmsbench decode topband '~21014642E00201FD34'\n"
    "  bmsbench decode topband --json '~52014600408401...E20A'\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bmsbench decode: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'bmsbench decode --help'.\n");
    return BENCH_EXIT_USAGE;
}

static int worse(int a, int b)
{
    return a > b ? a : b;
}

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

/* JSON string body with escapes; non-printable bytes become \u00XX. */
static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            fprintf(f, "\\%c", c);
        } else if (c < 0x20 || c >= 0x7F) {
            fprintf(f, "\\u%04X", c);
        } else {
            fputc(c, f);
        }
    }
    fputc('"', f);
}

/* ---- victron: candump notation ------------------------------------------- */

typedef enum cf_result {
    CF_OK = 0,
    CF_REJECT = BENCH_EXIT_FAIL, /* valid notation, but not a frame a GX decodes */
    CF_BAD = BENCH_EXIT_USAGE,   /* not candump notation */
} cf_result_t;

typedef struct can_frame_text {
    uint32_t id; /* with DEC_CAN_EFF_FLAG for 29-bit ids */
    uint8_t dlc;
    uint8_t data[8];
} can_frame_text_t;

/* Parse `ID#DATA` (can-utils lib.h grammar, classic frames). Positions in msg are
 * 1-based character positions inside s. */
static cf_result_t parse_candump(const char *s, can_frame_text_t *cf, char *msg, size_t cap)
{
    memset(cf, 0, sizeof *cf);
    size_t n_id = 0;
    uint32_t id = 0;
    while (s[n_id] != '\0' && s[n_id] != '#') {
        int v = hex_digit(s[n_id]);
        if (v < 0) {
            snprintf(msg, cap, "position %zu: '%c' is not a hex digit of the id", n_id + 1,
                     s[n_id]);
            return CF_BAD;
        }
        if (n_id < 8) {
            id = (id << 4) | (uint32_t)v;
        }
        n_id++;
    }
    if (s[n_id] != '#') {
        snprintf(msg, cap, "position %zu: missing '#' after the id", n_id + 1);
        return CF_BAD;
    }
    if (n_id == 3) {
        if (id > DEC_CAN_SFF_MASK) {
            snprintf(msg, cap, "position 1: 11-bit id %03X is above 7FF", (unsigned)id);
            return CF_BAD;
        }
    } else if (n_id == 8) {
        if (id > DEC_CAN_EFF_MASK) {
            snprintf(msg, cap, "position 1: 29-bit id %08X is above 1FFFFFFF", (unsigned)id);
            return CF_BAD;
        }
        id |= DEC_CAN_EFF_FLAG;
    } else {
        snprintf(msg, cap,
                 "position 1: the id has %zu hex digits; 3 (11-bit) or 8 (29-bit) expected", n_id);
        return CF_BAD;
    }
    cf->id = id;

    size_t pos = n_id + 1;
    if (s[pos] == '#') {
        snprintf(msg, cap, "CAN FD frame ('##' at position %zu): Victron CAN-BMS is classic CAN",
                 pos + 1);
        return CF_REJECT;
    }
    if (s[pos] == 'R' || s[pos] == 'r') {
        snprintf(msg, cap, "remote frame ('#R' at position %zu) carries no data to decode",
                 pos + 1);
        cf->id |= DEC_CAN_RTR_FLAG;
        return CF_REJECT;
    }
    while (s[pos] != '\0' && s[pos] != '_') {
        if (s[pos] == '.') {
            pos++;
            continue;
        }
        int hi = hex_digit(s[pos]);
        if (hi < 0) {
            snprintf(msg, cap, "position %zu: '%c' is not a hex digit", pos + 1, s[pos]);
            return CF_BAD;
        }
        int lo = hex_digit(s[pos + 1]);
        if (lo < 0) {
            if (s[pos + 1] == '\0' || s[pos + 1] == '.' || s[pos + 1] == '_') {
                snprintf(msg, cap, "position %zu: odd number of hex digits (a byte needs two)",
                         pos + 1);
            } else {
                snprintf(msg, cap, "position %zu: '%c' is not a hex digit", pos + 2, s[pos + 1]);
            }
            return CF_BAD;
        }
        if (cf->dlc == 8) {
            snprintf(msg, cap, "position %zu: more than 8 data bytes", pos + 1);
            return CF_BAD;
        }
        cf->data[cf->dlc++] = (uint8_t)((hi << 4) | lo);
        pos += 2;
    }
    if (s[pos] == '_') {
        /* Raw DLC 9..15 of an 8-byte frame (candump -8). */
        int raw = hex_digit(s[pos + 1]);
        if (cf->dlc != 8 || raw < 9 || s[pos + 2] != '\0') {
            snprintf(msg, cap,
                     "position %zu: '_<raw DLC>' needs 8 data bytes and one hex digit 9..F",
                     pos + 1);
            return CF_BAD;
        }
        cf->dlc = (uint8_t)raw;
    }
    return CF_OK;
}

/* Decode one parsed frame and print it; returns the exit code for it. */
static int victron_print(const can_frame_text_t *cf, const char *src, bool json)
{
    char out[DEC_DESCRIBE_MAX];
    if (bench_victron_describe(cf->id, cf->dlc, cf->data, json, out, sizeof out) != 0) {
        fprintf(stderr, "bmsbench decode victron: %s: %s\n", src, out);
        return BENCH_EXIT_FAIL;
    }
    printf("%s\n", out);
    return BENCH_EXIT_OK;
}

/* The frame token of one stdin line: a bare frame, or the third field of a
 * candump -L line "(sec.usec) iface frame [R|T]". */
static const char *frame_token(char *line, char *msg, size_t cap)
{
    char *fields[4] = {0};
    size_t n = 0;
    char *p = line;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t') {
            *p++ = '\0';
        }
        if (*p == '\0') {
            break;
        }
        if (n == 4) {
            snprintf(msg, cap, "too many fields");
            return NULL;
        }
        fields[n++] = p;
        while (*p != '\0' && *p != ' ' && *p != '\t') {
            p++;
        }
    }
    size_t first = (n > 0 && fields[0][0] == '(') ? 2 : 0;
    if (first == 2 && fields[0][strlen(fields[0]) - 1] != ')') {
        snprintf(msg, cap, "timestamp '(' without ')'");
        return NULL;
    }
    if (n <= first) {
        snprintf(msg, cap, "%s", first == 2 ? "candump -L line without a frame" : "no frame");
        return NULL;
    }
    /* After the frame only candump -x's direction mark may follow. */
    if (n > first + 2 || (n == first + 2 && strcmp(fields[first + 1], "R") != 0 &&
                          strcmp(fields[first + 1], "T") != 0)) {
        snprintf(msg, cap, "unexpected text after the frame");
        return NULL;
    }
    return fields[first];
}

/* After a full buffer without newline: true when the line ended exactly there;
 * otherwise the rest of the line is consumed and false returned. */
static bool line_ends_here(void)
{
    int c = getchar();
    if (c == EOF || c == '\n') {
        return true;
    }
    while (c != EOF && c != '\n') {
        c = getchar();
    }
    return false;
}

static int victron_stdin(bool json)
{
    char line[DEC_LINE_MAX];
    int rc = BENCH_EXIT_OK;
    unsigned long lineno = 0;
    while (fgets(line, sizeof line, stdin) != NULL) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n' && !line_ends_here()) {
            fprintf(stderr, "bmsbench decode victron: stdin line %lu: longer than %d characters\n",
                    lineno, DEC_LINE_MAX - 2);
            rc = worse(rc, BENCH_EXIT_USAGE);
            continue;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                           line[len - 1] == '\t')) {
            line[--len] = '\0';
        }
        size_t skip = strspn(line, " \t");
        if (line[skip] == '\0') {
            continue;
        }
        char msg[DEC_MSG_MAX];
        const char *tok = frame_token(line, msg, sizeof msg);
        if (tok == NULL) {
            fprintf(stderr, "bmsbench decode victron: stdin line %lu: %s\n", lineno, msg);
            rc = worse(rc, BENCH_EXIT_USAGE);
            continue;
        }
        can_frame_text_t cf;
        cf_result_t r = parse_candump(tok, &cf, msg, sizeof msg);
        if (r != CF_OK) {
            fprintf(stderr, "bmsbench decode victron: stdin line %lu: '%s': %s\n", lineno, tok,
                    msg);
            rc = worse(rc, (int)r);
            continue;
        }
        char src[64];
        snprintf(src, sizeof src, "stdin line %lu", lineno);
        rc = worse(rc, victron_print(&cf, src, json));
    }
    return rc;
}

static int decode_victron(int argc, char **argv, bool json)
{
    if (argc == 0) {
        return usage_error("decode victron needs at least one frame (ID#HEX or -)");
    }
    /* Check all the notation first: a typo is a usage error and decodes nothing. */
    int rc = BENCH_EXIT_OK;
    for (int i = 0; i < argc; i++) {
        can_frame_text_t cf;
        char msg[DEC_MSG_MAX];
        if (strcmp(argv[i], "-") == 0) {
            continue;
        }
        if (parse_candump(argv[i], &cf, msg, sizeof msg) == CF_BAD) {
            fprintf(stderr, "bmsbench decode victron: bad frame '%s': %s\n", argv[i], msg);
            rc = BENCH_EXIT_USAGE;
        }
    }
    if (rc != BENCH_EXIT_OK) {
        return rc;
    }
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-") == 0) {
            rc = worse(rc, victron_stdin(json));
            continue;
        }
        can_frame_text_t cf;
        char msg[DEC_MSG_MAX];
        if (parse_candump(argv[i], &cf, msg, sizeof msg) != CF_OK) {
            fprintf(stderr, "bmsbench decode victron: '%s': %s\n", argv[i], msg);
            rc = worse(rc, BENCH_EXIT_FAIL);
            continue;
        }
        rc = worse(rc, victron_print(&cf, argv[i], json));
    }
    return rc;
}

/* ---- topband ---------------------------------------------------------------- */

/* A code byte and its meaning; lookups return NULL when the code is not listed. */
typedef struct tb_code_name {
    uint8_t code;
    const char *name;
} tb_code_name_t;

/* CID2 command codes (topband.md 2.0): their presence in the CID2/RTN byte marks a request. */
static const tb_code_name_t tb_commands[] = {
    {0x42, "analog values"},
    {0x44, "alarm info"},
    {0x47, "system parameters"},
    {0x4B, "history record"},
    {0x4D, "read date/time"},
    {0x4E, "set date/time"},
    {0x4F, "protocol version"},
    {0x51, "manufacturer info"},
    {0x92, "Pylontech-style, unsupported"},
    {0x93, "Pylontech-style, unsupported"},
    {0x94, "Pylontech-style, unsupported"},
    {0x95, "Pylontech-style, unsupported"},
    {0x96, "Pylontech-style, unsupported"},
    {0xF1, "read product info"},
    {0xF2, "set product info"},
};

/* RTN codes of Doc v1.7 (topband.md 1.2). */
static const tb_code_name_t tb_rtns[] = {
    {0x00, "normal"},
    {0x01, "VER error"},
    {0x02, "CHKSUM error"},
    {0x03, "LCHKSUM error"},
    {0x04, "CID2 invalid"},
    {0x05, "command format error"},
    {0x06, "invalid data"},
    {0x90, "ADR error"},
    {0x91, "communication error"},
    {0xA0, "data transfer failure"},
};

static const char *tb_lookup(const tb_code_name_t *table, size_t n, uint8_t code)
{
    for (size_t i = 0; i < n; i++) {
        if (table[i].code == code) {
            return table[i].name;
        }
    }
    return NULL;
}

static const char *tb_command_name(uint8_t code)
{
    return tb_lookup(tb_commands, sizeof tb_commands / sizeof tb_commands[0], code);
}

static const char *tb_rtn_name(uint8_t rtn)
{
    const char *name = tb_lookup(tb_rtns, sizeof tb_rtns / sizeof tb_rtns[0], rtn);
    return name != NULL ? name : "unknown";
}

static const char *tb_family(uint8_t ver)
{
    return ver == 0x21 ? "eet" : ver == 0x52 ? "topbms" : "unknown";
}

/* Fixed-point print of an integer at the given decimals (0..3), exact. */
static void print_fixed(int64_t raw, unsigned decimals)
{
    static const int64_t pow10[] = {1, 10, 100, 1000};
    int64_t mag = raw < 0 ? -raw : raw;
    if (decimals == 0) {
        printf("%s%lld", raw < 0 ? "-" : "", (long long)mag);
        return;
    }
    printf("%s%lld.%0*lld", raw < 0 ? "-" : "", (long long)(mag / pow10[decimals]), (int)decimals,
           (long long)(mag % pow10[decimals]));
}

/* Round a milli-unit value to the 10-milli resolution of the Topband fields. */
static int64_t centi(int64_t milli)
{
    return milli >= 0 ? (milli + 5) / 10 : -((-milli + 5) / 10);
}

static void tb_print_info_hex(const gw_tb_frame_t *f)
{
    for (size_t i = 0; i < f->info_len; i++) {
        printf("%02X", f->info[i]);
    }
}

static void tb_print_analog_json(const gw_pack_t *p)
{
    printf(", \"cells_mv\": [");
    for (unsigned i = 0; i < p->cell_count && i < GW_MAX_CELLS; i++) {
        printf("%s%u", i == 0 ? "" : ", ", (unsigned)p->cell_mv[i]);
    }
    printf("], \"temperatures_c\": [");
    for (unsigned i = 0; i < p->temp_count && i < GW_MAX_TEMPS; i++) {
        printf("%s", i == 0 ? "" : ", ");
        print_fixed(p->temp_dc[i], 1);
    }
    printf("], \"current_a\": ");
    print_fixed(centi(p->current_ma), 2);
    printf(", \"voltage_v\": ");
    print_fixed(centi(p->voltage_mv), 2);
    printf(", \"remaining_ah\": ");
    print_fixed(centi(p->remaining_mah), 2);
    printf(", \"full_ah\": ");
    print_fixed(centi(p->full_mah), 2);
    printf(", \"cycles\": %u, \"soc_pct\": %u, \"soh_pct\": %u", (unsigned)p->cycles,
           (unsigned)p->soc_pct, (unsigned)p->soh_pct);
}

static void tb_print_analog_text(const gw_pack_t *p)
{
    printf("cells (%u):", (unsigned)p->cell_count);
    for (unsigned i = 0; i < p->cell_count && i < GW_MAX_CELLS; i++) {
        printf(" %u", (unsigned)p->cell_mv[i]);
    }
    printf(" mV\ntemperatures (%u):", (unsigned)p->temp_count);
    for (unsigned i = 0; i < p->temp_count && i < GW_MAX_TEMPS; i++) {
        printf(" ");
        print_fixed(p->temp_dc[i], 1);
    }
    printf(" degC\ncurrent: ");
    print_fixed(centi(p->current_ma), 2);
    printf(" A\nvoltage: ");
    print_fixed(centi(p->voltage_mv), 2);
    printf(" V\nremaining: ");
    print_fixed(centi(p->remaining_mah), 2);
    printf(" Ah of ");
    print_fixed(centi(p->full_mah), 2);
    printf(" Ah\ncycles: %u\nSOC: %u %%, SOH: %u %%\n", (unsigned)p->cycles, (unsigned)p->soc_pct,
           (unsigned)p->soh_pct);
}

/* The parsed frame (OK or checksum error) as JSON or text. error may be NULL. */
static void tb_print(const gw_tb_frame_t *f, bool json, const char *error)
{
    bool request = tb_command_name(f->rtn) != NULL;
    bool chk_ok = f->chksum_rx == f->chksum_calc;
    gw_pack_t pack;
    memset(&pack, 0, sizeof pack);
    gw_tb_err_t analog = GW_TB_E_LAYOUT;
    if (!request && f->rtn == 0x00 && f->info_len > 0) {
        analog = gw_tb_decode_analog(f, &pack);
    }

    if (json) {
        printf("{\"kind\": \"%s\", \"address\": %u, \"version\": \"0x%02X\"",
               request ? "request" : "reply", (unsigned)f->adr, (unsigned)f->ver);
        if (request) {
            printf(", \"command\": \"0x%02X\", \"command_name\": \"%s\"", (unsigned)f->rtn,
                   tb_command_name(f->rtn));
        } else {
            printf(", \"family\": \"%s\", \"rtn\": \"0x%02X\", \"rtn_name\": \"%s\"",
                   tb_family(f->ver), (unsigned)f->rtn, tb_rtn_name(f->rtn));
        }
        printf(", \"info\": \"");
        tb_print_info_hex(f);
        printf("\", \"checksum_ok\": %s", chk_ok ? "true" : "false");
        if (analog == GW_TB_OK) {
            tb_print_analog_json(&pack);
        }
        if (error != NULL) {
            printf(", \"error\": ");
            json_string(stdout, error);
        }
        printf("}\n");
        return;
    }

    if (request) {
        printf("Topband request to address %u (VER 0x%02X): command 0x%02X (%s), INFO ",
               (unsigned)f->adr, (unsigned)f->ver, (unsigned)f->rtn, tb_command_name(f->rtn));
        if (f->info_len == 0) {
            printf("empty");
        }
        tb_print_info_hex(f);
    } else {
        printf("Topband reply from address %u (VER 0x%02X, %s family), RTN 0x%02X (%s)",
               (unsigned)f->adr, (unsigned)f->ver, tb_family(f->ver), (unsigned)f->rtn,
               tb_rtn_name(f->rtn));
    }
    printf(", checksum %s\n", chk_ok ? "ok" : "WRONG");
    if (analog == GW_TB_OK) {
        tb_print_analog_text(&pack);
    } else if (!request && f->info_len > 0) {
        printf("INFO: ");
        tb_print_info_hex(f);
        printf("\n");
    }
}

/* Where a frame that gw_tb_parse rejected goes wrong, as far as we can tell from
 * the characters (1-based positions: '~' is 1, VER 2-3, ..., LENGTH 10-13). */
static void tb_explain(gw_tb_err_t e, const char *s, size_t len, size_t given_len,
                       const gw_tb_frame_t *f, char *msg, size_t cap)
{
    const char *why = gw_tb_strerror(e);
    switch (e) {
    case GW_TB_E_SHORT:
        snprintf(msg, cap, "%s: %zu characters given, a frame has at least %d with its CR", why,
                 given_len, GW_TB_MIN_FRAME);
        return;
    case GW_TB_E_SOI:
        snprintf(msg, cap, "%s: position 1 is '%c', expected '~'", why, s[0]);
        return;
    case GW_TB_E_HEX:
        for (size_t i = 1; i + 1 < len; i++) {
            if (hex_digit(s[i]) < 0) {
                if (s[i] >= 0x20 && s[i] < 0x7F) {
                    snprintf(msg, cap, "%s: position %zu is '%c'", why, i + 1, s[i]);
                } else {
                    snprintf(msg, cap, "%s: position %zu is byte 0x%02X", why, i + 1,
                             (unsigned)(unsigned char)s[i]);
                }
                return;
            }
        }
        break;
    case GW_TB_E_LCHKSUM:
        snprintf(msg, cap, "%s: LENGTH %.4s (positions 10-13) has a wrong top nibble for LENID %u",
                 why, s + 9, (unsigned)f->lenid);
        return;
    case GW_TB_E_LENGTH:
        snprintf(msg, cap, "%s: LENID says %u INFO characters, the frame has %zu", why,
                 (unsigned)f->lenid, len - GW_TB_MIN_FRAME);
        return;
    case GW_TB_E_CID1:
        snprintf(msg, cap, "%s: CID1 (positions 6-7) is 0x%02X, expected 0x%02X", why,
                 (unsigned)f->cid1, GW_TB_CID1);
        return;
    default:
        break;
    }
    snprintf(msg, cap, "%s", why);
}

static int decode_topband_one(const char *arg, bool json)
{
    static uint8_t frame[GW_TB_MAX_FRAME + 2];
    static uint8_t info[GW_TB_MAX_FRAME / 2];
    size_t len = strlen(arg);
    if (len > GW_TB_MAX_FRAME) {
        fprintf(stderr, "bmsbench decode topband: frame too long: %zu characters, at most %d\n",
                len, GW_TB_MAX_FRAME);
        return BENCH_EXIT_FAIL;
    }
    memcpy(frame, arg, len);
    /* A shell makes typing CR hard: accept a literal "\r" (or "\n") as the EOI. */
    if (len >= 2 && frame[len - 2] == '\\' && (frame[len - 1] == 'r' || frame[len - 1] == 'n')) {
        len -= 2;
        frame[len++] = '\r';
    } else if (len > 0 && frame[len - 1] != '\r' && frame[len - 1] != '\n') {
        frame[len++] = '\r';
    }

    gw_tb_frame_t f;
    gw_tb_err_t e = gw_tb_parse(frame, len, info, sizeof info, &f);
    char msg[DEC_MSG_MAX];
    if (e == GW_TB_OK) {
        tb_print(&f, json, NULL);
        return BENCH_EXIT_OK;
    }
    if (e == GW_TB_E_CHKSUM) {
        snprintf(msg, sizeof msg, "checksum mismatch: frame carries %04X, computed %04X",
                 (unsigned)f.chksum_rx, (unsigned)f.chksum_calc);
        tb_print(&f, json, msg);
        fprintf(stderr, "bmsbench decode topband: %s\n", msg);
        return BENCH_EXIT_FAIL;
    }
    tb_explain(e, (const char *)frame, len, strlen(arg), &f, msg, sizeof msg);
    fprintf(stderr, "bmsbench decode topband: not a valid frame: %s\n", msg);
    return BENCH_EXIT_FAIL;
}

static int decode_topband(int argc, char **argv, bool json)
{
    if (argc == 0) {
        return usage_error("decode topband needs a frame, e.g. '~21014642E00201FD34'");
    }
    int rc = BENCH_EXIT_OK;
    for (int i = 0; i < argc; i++) {
        rc = worse(rc, decode_topband_one(argv[i], json));
    }
    return rc;
}

/* ---- entry ------------------------------------------------------------------ */

int cmd_decode(int argc, char **argv)
{
    static const bench_family_entry_t families[] = {{"tinybms", decode_tinybms_main}, {"canopen", decode_canopen_main}, {"balancer", decode_balancer_main}};
    int family_rc;
    if (bench_family_dispatch(argc, argv, families, sizeof families / sizeof families[0],
                              &family_rc)) {
        return family_rc;
    }
    static const struct option long_opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false, help = false;
    int c;
    /* 0 re-initialises glibc's getopt, in case main() already ran it. Options may
     * come before or after the family word (GNU argument permutation). */
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "jh", long_opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'h':
            help = true;
            break;
        default:
            if (optopt != 0) {
                return usage_error("unknown option '-%c'", optopt);
            }
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (help) {
        fputs(usage_text, stdout);
        return BENCH_EXIT_OK;
    }
    if (optind >= argc) {
        return usage_error("missing the family: victron or topband");
    }
    const char *family = argv[optind];
    int rest_argc = argc - optind - 1;
    char **rest = &argv[optind + 1];
    if (strcmp(family, "victron") == 0) {
        return decode_victron(rest_argc, rest, json);
    }
    if (strcmp(family, "topband") == 0) {
        return decode_topband(rest_argc, rest, json);
    }
    return usage_error("unknown family '%s' (expected victron or topband)", family);
}
