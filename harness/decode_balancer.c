/* SPDX-License-Identifier: MIT */
/* `bmsbench decode balancer`: balancer-bus request and reply lines as text or JSON, decoded with the firmware's own codec. */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "balancer/balancer_bus.h"
#include "harness/commands.h"

#define BD_MAX_BYTES 256 /* one argument after unescaping */

static const char usage_text[] =
    "Usage: bmsbench decode balancer [--json] [--command NN | --request | --reply] [--hex] TEXT...\n"
    "\n"
    "Decode balancer-bus lines (300 baud ASCII, superb_balancer.md B.4/B.5) as the\n"
    "gateway's firmware codec reads them. Each TEXT is one request or one reply.\n"
    "A request is exactly 4 digits: address 01..50, command 02..06. A reply is one\n"
    "line: [sign]digits, surrounding whitespace and CR/LF allowed (write them as\n"
    "\\r and \\n). Four digits that form a valid request are taken as a request\n"
    "unless --reply or --command says otherwise.\n"
    "\n"
    "Options:\n"
    "  -c, --command NN  the request the reply answers (02..06): adds the quantity\n"
    "                    with its unit and checks it is plausible\n"
    "  -q, --request     every TEXT is a request\n"
    "  -r, --reply       every TEXT is a reply\n"
    "  -x, --hex         the TEXTs together are one item's bytes in hex (33 32 39 31 0D 0A)\n"
    "  -j, --json        print one JSON object per TEXT\n"
    "  -h, --help        print this help\n"
    "\n"
    "Exit status: 0 every TEXT decoded, 1 one is invalid (the reason is printed),\n"
    "             2 usage error (no TEXT, unknown option, bad --command, bad hex).\n"
    "\n"
    "Examples:\n"
    "  bmsbench decode balancer 0105\n"
    "  bmsbench decode balancer --json --command 05 '3291\\r\\n'\n"
    "  bmsbench decode balancer --command 02 -5\n"
    "  bmsbench decode balancer --hex --reply '33 37 38 30 32 36 37 0D 0A' --command 04\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bmsbench decode balancer: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'bmsbench decode balancer --help'.\n");
    return BENCH_EXIT_USAGE;
}

typedef enum { MODE_AUTO, MODE_REQUEST, MODE_REPLY } mode_t_;

typedef struct opts {
    bool json;
    bool hex;
    mode_t_ mode;
    int command; /* 0 = not given */
} opts_t;

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

/* Argument to bytes: hex pairs (separators space, ':' ','), or text with the
 * escapes \r \n \t \\ . Returns 0 or a usage error. */
static int to_bytes(const char *arg, bool hex, uint8_t *out, size_t cap, size_t *len)
{
    *len = 0;
    if (hex) {
        int hi = -1;
        for (const char *p = arg; *p != '\0'; p++) {
            if (*p == ' ' || *p == ':' || *p == ',' || *p == '\t') {
                continue;
            }
            int v = hex_val(*p);
            if (v < 0) {
                return usage_error("'%c' is not a hex digit", *p);
            }
            if (hi < 0) {
                hi = v;
                continue;
            }
            if (*len >= cap) {
                return usage_error("input longer than %zu bytes", cap);
            }
            out[(*len)++] = (uint8_t)(hi * 16 + v);
            hi = -1;
        }
        if (hi >= 0) {
            return usage_error("odd number of hex digits");
        }
        return 0;
    }
    for (const char *p = arg; *p != '\0'; p++) {
        uint8_t b = (uint8_t)*p;
        if (*p == '\\' && p[1] != '\0') {
            p++;
            b = *p == 'r' ? '\r' : *p == 'n' ? '\n' : *p == 't' ? '\t' : (uint8_t)*p;
        }
        if (*len >= cap) {
            return usage_error("input longer than %zu bytes", cap);
        }
        out[(*len)++] = b;
    }
    return 0;
}

/* JSON string of raw bytes (escapes control and non-ASCII bytes). */
static void print_json_bytes(const uint8_t *b, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        if (b[i] == '"' || b[i] == '\\') {
            printf("\\%c", b[i]);
        } else if (b[i] == '\r') {
            printf("\\r");
        } else if (b[i] == '\n') {
            printf("\\n");
        } else if (b[i] < 0x20 || b[i] >= 0x7F) {
            printf("\\u%04x", b[i]);
        } else {
            putchar(b[i]);
        }
    }
    putchar('"');
}

/* Text shown in human output: printable bytes as is, others as \xNN. */
static void print_text_bytes(FILE *fp, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (b[i] == '\r') {
            fputs("\\r", fp);
        } else if (b[i] == '\n') {
            fputs("\\n", fp);
        } else if (b[i] < 0x20 || b[i] >= 0x7F) {
            fprintf(fp, "\\x%02X", b[i]);
        } else {
            fputc(b[i], fp);
        }
    }
}

static int invalid(const opts_t *o, const char *kind, const uint8_t *b, size_t n, const char *why)
{
    if (o->json) {
        printf("{\"kind\": \"invalid\", \"as\": \"%s\", \"text\": ", kind);
        print_json_bytes(b, n);
        printf(", \"error\": \"%s\"}\n", why);
    }
    fprintf(stderr, "bmsbench decode balancer: invalid %s '", kind);
    print_text_bytes(stderr, b, n);
    fprintf(stderr, "': %s\n", why);
    return BENCH_EXIT_FAIL;
}

static int decode_request(const opts_t *o, const uint8_t *b, size_t n)
{
    uint8_t adr = 0;
    gw_bal_cmd_t cmd = 0;
    gw_bal_err_t e = gw_bal_parse_request(b, n, &adr, &cmd);
    if (e != GW_BAL_OK) {
        return invalid(o, "request", b, n, gw_bal_strerror(e));
    }
    if (o->json) {
        printf("{\"kind\": \"request\", \"address\": %u, \"command\": \"%02d\", \"meaning\": \"%s\", "
               "\"hex\": \"%02X %02X %02X %02X\"}\n",
               (unsigned)adr, (int)cmd, gw_bal_cmd_name((int)cmd), b[0], b[1], b[2], b[3]);
    } else {
        printf("request: address %u, command %02d (%s)\n", (unsigned)adr, (int)cmd,
               gw_bal_cmd_name((int)cmd));
    }
    return BENCH_EXIT_OK;
}

/* The reply's trimmed text (the digits and sign the number came from). */
static void trimmed(const uint8_t *b, size_t n, size_t *from, size_t *to)
{
    size_t s = 0, e = n;
    while (s < e && (b[s] == ' ' || b[s] == '\t' || b[s] == '\r' || b[s] == '\n' || b[s] == '\v' ||
                     b[s] == '\f')) {
        s++;
    }
    while (e > s && (b[e - 1] == ' ' || b[e - 1] == '\t' || b[e - 1] == '\r' || b[e - 1] == '\n' ||
                     b[e - 1] == '\v' || b[e - 1] == '\f')) {
        e--;
    }
    *from = s;
    *to = e;
}

static void print_quantity(const opts_t *o, int32_t v)
{
    switch (o->command) {
    case GW_BAL_CMD_VOLTAGE:
        printf(o->json ? ", \"cell_voltage_v\": %d.%03d" : " -> cell voltage %d.%03d V", v / 1000,
               v % 1000);
        break;
    case GW_BAL_CMD_CELL_TEMP:
        printf(o->json ? ", \"cell_temperature_c\": %d" : " -> cell temperature %d degC", (int)v);
        break;
    case GW_BAL_CMD_RES_TEMP:
        printf(o->json ? ", \"resistor_temperature_c\": %d" : " -> resistor temperature %d degC",
               (int)v);
        break;
    case GW_BAL_CMD_UPTIME: {
        long s = (long)v;
        if (o->json) {
            printf(", \"uptime_s\": %ld, \"uptime\": \"%ldd %02ldh %02ldm %02lds\"", s, s / 86400,
                   s / 3600 % 24, s / 60 % 60, s % 60);
        } else {
            printf(" -> uptime %ldd %02ldh %02ldm %02lds", s / 86400, s / 3600 % 24, s / 60 % 60,
                   s % 60);
        }
        break;
    }
    case GW_BAL_CMD_VERSION:
        printf(o->json ? ", \"version\": %d" : " -> software version %d", (int)v);
        break;
    default:
        break;
    }
}

static int decode_reply(const opts_t *o, const uint8_t *b, size_t n)
{
    int32_t v = 0;
    gw_bal_err_t e = gw_bal_parse_reply(b, n, &v);
    if (e != GW_BAL_OK) {
        return invalid(o, "reply", b, n, gw_bal_strerror(e));
    }
    if (o->command != 0 && !gw_bal_value_plausible((gw_bal_cmd_t)o->command, v)) {
        char why[96];
        snprintf(why, sizeof why, "implausible %s %d", gw_bal_cmd_name(o->command), (int)v);
        return invalid(o, "reply", b, n, why);
    }
    size_t s, t;
    trimmed(b, n, &s, &t);
    if (o->json) {
        printf("{\"kind\": \"reply\", \"value\": %d, \"text\": ", (int)v);
        print_json_bytes(b + s, t - s);
        if (o->command != 0) {
            printf(", \"command\": \"%02d\", \"meaning\": \"%s\"", o->command,
                   gw_bal_cmd_name(o->command));
        }
        print_quantity(o, v);
        printf("}\n");
    } else {
        printf("reply: %d", (int)v);
        print_quantity(o, v);
        printf("\n");
    }
    return BENCH_EXIT_OK;
}

static bool looks_like_request(const uint8_t *b, size_t n)
{
    return gw_bal_parse_request(b, n, NULL, NULL) == GW_BAL_OK;
}

int decode_balancer_main(int argc, char **argv)
{
    static const struct option long_opts[] = {
        { "json", no_argument, NULL, 'j' },         { "hex", no_argument, NULL, 'x' },
        { "command", required_argument, NULL, 'c' }, { "request", no_argument, NULL, 'q' },
        { "reply", no_argument, NULL, 'r' },        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    opts_t o = { .json = false, .hex = false, .mode = MODE_AUTO, .command = 0 };
    /* Split options from TEXTs first: a reply such as "-5" must not be taken
     * for an option, and options may come in any order. */
    char *opt_argv[argc + 1];
    char *texts[argc + 1];
    int opt_argc = 0, ntexts = 0;
    opt_argv[opt_argc++] = argv[0];
    bool only_texts = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_texts || a[0] != '-' || a[1] == '\0' || (a[1] >= '0' && a[1] <= '9')) {
            texts[ntexts++] = argv[i];
        } else if (strcmp(a, "--") == 0) {
            only_texts = true;
        } else {
            opt_argv[opt_argc++] = argv[i];
            if ((strcmp(a, "-c") == 0 || strcmp(a, "--command") == 0) && i + 1 < argc) {
                opt_argv[opt_argc++] = argv[++i];
            }
        }
    }
    opt_argv[opt_argc] = NULL;
    optind = 0;
    opterr = 0;
    for (;;) {
        int c = getopt_long(opt_argc, opt_argv, "jxc:qrh", long_opts, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 'j':
            o.json = true;
            break;
        case 'x':
            o.hex = true;
            break;
        case 'c': {
            const char *a = optarg;
            if (!(strlen(a) >= 1 && strlen(a) <= 2 && a[0] >= '0' && a[0] <= '9' &&
                  (a[1] == '\0' || (a[1] >= '0' && a[1] <= '9')))) {
                return usage_error("--command wants 02..06, got '%s'", a);
            }
            int v = a[1] == '\0' ? a[0] - '0' : (a[0] - '0') * 10 + (a[1] - '0');
            if (v < GW_BAL_CMD_CELL_TEMP || v > GW_BAL_CMD_VERSION) {
                return usage_error("--command wants 02..06, got '%s'", a);
            }
            o.command = v;
            break;
        }
        case 'q':
            o.mode = MODE_REQUEST;
            break;
        case 'r':
            o.mode = MODE_REPLY;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return BENCH_EXIT_OK;
        default:
            if (optopt == 'c') {
                return usage_error("--command needs a value");
            }
            return usage_error("unknown option '%s'", opt_argv[optind - 1]);
        }
    }
    if (o.mode == MODE_REQUEST && o.command != 0) {
        return usage_error("--command describes a reply; it cannot go with --request");
    }
    if (ntexts == 0) {
        return usage_error("no TEXT to decode");
    }
    if (o.hex) {
        /* Hex bytes are one item however the shell split them. */
        static char joined[4 * BD_MAX_BYTES];
        size_t used = 0;
        for (int i = 0; i < ntexts; i++) {
            size_t l = strlen(texts[i]);
            if (used + l + 2 > sizeof joined) {
                return usage_error("input longer than %d bytes", BD_MAX_BYTES);
            }
            memcpy(joined + used, texts[i], l);
            used += l;
            joined[used++] = ' ';
        }
        joined[used] = '\0';
        texts[0] = joined;
        ntexts = 1;
    }
    int rc = BENCH_EXIT_OK;
    for (int i = 0; i < ntexts; i++) {
        uint8_t buf[BD_MAX_BYTES];
        size_t n = 0;
        int u = to_bytes(texts[i], o.hex, buf, sizeof buf, &n);
        if (u != 0) {
            return u;
        }
        bool request = o.mode == MODE_REQUEST ||
                       (o.mode == MODE_AUTO && o.command == 0 && looks_like_request(buf, n));
        int r = request ? decode_request(&o, buf, n) : decode_reply(&o, buf, n);
        if (r != BENCH_EXIT_OK) {
            rc = r;
        }
    }
    return rc;
}
