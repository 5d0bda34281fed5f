/* SPDX-License-Identifier: MIT */
/* The recorder: streams every bus, the BMS serial line and the key signals of
 * one run to files in a folder (layout and formats: docs/recordings.md). */
#include "harness/recorder.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/logfmt_write.h"
#include "harness/signals.h"

/* Absolute time of sim t = 0 in candump logs and pcaps (2023-11-14 22:13:20
 * UTC): fixed, so the same seed gives byte-identical recordings. */
#define REC_EPOCH_S 1700000000u
#define REC_EPOCH_US ((uint64_t)REC_EPOCH_S * 1000000u)
#define REC_FILE_BUF (64 * 1024)
#define REC_MAX_COLUMNS 64

/* The serial rates of the runner's lines (runner.c), for the idle-gap rule. */
#define REC_TOPBAND_BAUD 9600u
#define REC_TINYBMS_BAUD 115200u
#define REC_BALANCER_BAUD 300u
#define REC_BITS_PER_CHAR 10u
#define REC_TOPBAND_EOF 0x0D /* a Topband frame ends with CR */

typedef struct rec_file {
    FILE *f;
    char name[24];
} rec_file_t;

typedef struct rec_bus {
    bool open;
    bool tried; /* opened (or failed) once: do not retry per frame */
    const char *ifname;
    rec_file_t log, asc, pcap;
} rec_bus_t;

struct bench_recorder {
    char dir[PATH_MAX];
    bench_taps_t taps;
    rec_bus_t bus[2];
    /* serial capture: the frame being collected */
    rec_file_t serial;
    bool serial_on;
    bool topband_framing;
    uint64_t char_us;
    uint8_t sbuf[BENCH_SERIAL_LINE_BYTES];
    size_t slen;
    bool stx, scont;
    uint64_t st0_us, slast_us;
    /* signals */
    rec_file_t csv;
    int col[REC_MAX_COLUMNS];
    int ncol;
    /* malformed input dropped (bad bus, bad frame, time out of range) */
    uint64_t dropped;
    /* the first write error, reported at close */
    bool failed;
    char err_msg[PATH_MAX + 64];
};

/* The columns of signals.csv after t, in order; names a build does not know
 * are left out. The alarm and warning pairs follow. */
static const char *const csv_signals[] = {
    "cvl_v",          "ccl_a",           "dcl_a",          "dvl_v",           "soc_pct",
    "voltage_v",      "current_a",       "temperature_c",  "bank_voltage_v",  "bank_current_a",
    "bank_soc_pct",   "cell_max_v",      "cell_min_v",     "cell_temp_min_c", "cell_temp_max_c",
    "modules_online", "modules_offline", "charger_active", "charge_enable",   "discharge_enable",
    "cvl_state",
};

static void note_error(bench_recorder_t *r, const rec_file_t *rf, int err_no)
{
    if (!r->failed) {
        r->failed = true;
        snprintf(r->err_msg, sizeof r->err_msg, "%s/%s: %s", r->dir, rf->name,
                 strerror(err_no != 0 ? err_no : EIO));
    }
}

static void rec_write(bench_recorder_t *r, rec_file_t *rf, const void *p, size_t n)
{
    if (rf->f == NULL || n == 0) {
        return;
    }
    if (fwrite(p, 1, n, rf->f) != n) {
        note_error(r, rf, errno);
    }
}

static void rec_puts(bench_recorder_t *r, rec_file_t *rf, const char *s)
{
    rec_write(r, rf, s, strlen(s));
}

static int rec_fopen(bench_recorder_t *r, rec_file_t *rf, const char *name, char *err,
                     size_t errcap)
{
    char path[PATH_MAX + 32];
    snprintf(rf->name, sizeof rf->name, "%s", name);
    snprintf(path, sizeof path, "%s/%s", r->dir, name);
    rf->f = fopen(path, "wb");
    if (rf->f == NULL) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* A full buffer per file keeps a long run to a few large writes. */
    setvbuf(rf->f, NULL, _IOFBF, REC_FILE_BUF);
    return 0;
}

static void rec_fclose(bench_recorder_t *r, rec_file_t *rf)
{
    if (rf->f == NULL) {
        return;
    }
    if (ferror(rf->f)) {
        note_error(r, rf, EIO);
    }
    if (fclose(rf->f) != 0) {
        note_error(r, rf, errno);
    }
    rf->f = NULL;
}

static int bus_open(bench_recorder_t *r, int bus, char *err, size_t errcap)
{
    static const char *const base[2] = {"victron", "bms"};
    static const char *const ifname[2] = {"can0", "can1"};
    rec_bus_t *b = &r->bus[bus];
    char name[24];
    b->tried = true;
    b->ifname = ifname[bus];
    snprintf(name, sizeof name, "%s.log", base[bus]);
    if (rec_fopen(r, &b->log, name, err, errcap) != 0) {
        return -1;
    }
    snprintf(name, sizeof name, "%s.asc", base[bus]);
    if (rec_fopen(r, &b->asc, name, err, errcap) != 0) {
        return -1;
    }
    snprintf(name, sizeof name, "%s.pcap", base[bus]);
    if (rec_fopen(r, &b->pcap, name, err, errcap) != 0) {
        return -1;
    }
    b->open = true;
    char hdr[BENCH_LOGFMT_ASC_HEADER_MAX];
    if (bench_logfmt_asc_header(hdr, sizeof hdr, REC_EPOCH_S) > 0) {
        rec_puts(r, &b->asc, hdr);
    }
    uint8_t ph[BENCH_PCAP_HEADER_LEN];
    bench_logfmt_pcap_header(ph);
    rec_write(r, &b->pcap, ph, sizeof ph);
    return 0;
}

static void bus_close(bench_recorder_t *r, rec_bus_t *b)
{
    if (b->open) {
        char tr[32];
        if (bench_logfmt_asc_trailer(tr, sizeof tr) > 0) {
            rec_puts(r, &b->asc, tr);
        }
    }
    rec_fclose(r, &b->log);
    rec_fclose(r, &b->asc);
    rec_fclose(r, &b->pcap);
    b->open = false;
}

static void tap_can(void *ctx, int bus, bool from_gateway, const sim_can_frame_t *f, uint64_t t_us)
{
    bench_recorder_t *r = ctx;
    if (bus < 0 || bus > 1 || !bench_logfmt_frame_ok(f) ||
        t_us > (uint64_t)UINT32_MAX * 1000000u - REC_EPOCH_US) {
        r->dropped++;
        return;
    }
    rec_bus_t *b = &r->bus[bus];
    if (!b->open && !b->tried) {
        /* A bus the scenario did not announce gets its files on its first
         * frame; a failure to open them is reported at close. */
        char err[PATH_MAX + 64];
        if (bus_open(r, bus, err, sizeof err) != 0 && !r->failed) {
            r->failed = true;
            snprintf(r->err_msg, sizeof r->err_msg, "%s", err);
        }
    }
    if (!b->open) {
        r->dropped++;
        return;
    }
    char line[BENCH_LOGFMT_CANDUMP_MAX];
    int n = bench_logfmt_candump_line(line, sizeof line, REC_EPOCH_US + t_us, b->ifname, f);
    if (n > 0) {
        rec_write(r, &b->log, line, (size_t)n);
    }
    n = bench_logfmt_asc_line(line, sizeof line, t_us, 1, from_gateway, f);
    if (n > 0) {
        rec_write(r, &b->asc, line, (size_t)n);
    }
    uint8_t rec[BENCH_PCAP_RECORD_LEN];
    if (bench_logfmt_pcap_record(rec, REC_EPOCH_US + t_us, f) == 0) {
        rec_write(r, &b->pcap, rec, sizeof rec);
    }
}

static void serial_flush(bench_recorder_t *r)
{
    if (r->slen == 0) {
        return;
    }
    char line[BENCH_LOGFMT_SERIAL_LINE_MAX];
    int n =
        bench_logfmt_serial_line(line, sizeof line, r->st0_us, r->stx, r->scont, r->sbuf, r->slen);
    if (n > 0) {
        rec_write(r, &r->serial, line, (size_t)n);
    }
    r->slen = 0;
}

/* A character starts a new frame when the direction changes or the line was
 * idle for more than 2 character times (start to start: more than 3). */
static void tap_serial(void *ctx, bool from_gateway, uint64_t t_us, uint8_t byte)
{
    bench_recorder_t *r = ctx;
    if (!r->serial_on) {
        r->dropped++;
        return;
    }
    bool gap = t_us < r->slast_us || t_us - r->slast_us > 3 * r->char_us;
    if (r->slen > 0 && (from_gateway != r->stx || gap)) {
        serial_flush(r);
    }
    if (r->slen == 0) {
        /* A full line continues the same frame unless this byte starts one. */
        r->scont = r->scont && from_gateway == r->stx && !gap;
        r->stx = from_gateway;
        r->st0_us = t_us;
    }
    r->sbuf[r->slen++] = byte;
    r->slast_us = t_us;
    if (r->topband_framing && byte == REC_TOPBAND_EOF) {
        serial_flush(r);
        r->scont = false;
    } else if (r->slen == sizeof r->sbuf) {
        serial_flush(r);
        r->scont = true;
    }
}

static void tap_sample(void *ctx, double t_s, const double *signals)
{
    bench_recorder_t *r = ctx;
    if (r->csv.f == NULL || signals == NULL) {
        return;
    }
    char row[REC_MAX_COLUMNS * 24 + 32];
    size_t pos = 0;
    int n = snprintf(row, sizeof row, "%.6f", t_s);
    pos = n > 0 ? (size_t)n : 0;
    for (int i = 0; i < r->ncol && pos + 26 < sizeof row; i++) {
        row[pos++] = ',';
        n = bench_logfmt_csv_number(&row[pos], sizeof row - pos, signals[r->col[i]]);
        pos += n > 0 ? (size_t)n : 0;
    }
    row[pos++] = '\n';
    rec_write(r, &r->csv, row, pos);
}

/* Signal columns: the named ones, then every alarm_ and warning_ signal. */
static void csv_columns(bench_recorder_t *r)
{
    int count = bench_signal_count();
    r->ncol = 0;
    for (size_t k = 0; k < sizeof csv_signals / sizeof csv_signals[0]; k++) {
        for (int i = 0; i < count && r->ncol < REC_MAX_COLUMNS; i++) {
            if (strcmp(bench_signal_names[i], csv_signals[k]) == 0) {
                r->col[r->ncol++] = i;
                break;
            }
        }
    }
    static const char *const prefixes[] = {"alarm_", "warning_"};
    for (size_t k = 0; k < 2; k++) {
        for (int i = 0; i < count && r->ncol < REC_MAX_COLUMNS; i++) {
            if (strncmp(bench_signal_names[i], prefixes[k], strlen(prefixes[k])) == 0) {
                r->col[r->ncol++] = i;
            }
        }
    }
}

static void csv_header(bench_recorder_t *r)
{
    rec_puts(r, &r->csv, "t");
    for (int i = 0; i < r->ncol; i++) {
        rec_puts(r, &r->csv, ",");
        rec_puts(r, &r->csv, bench_signal_names[r->col[i]]);
    }
    rec_puts(r, &r->csv, "\n");
}

static void serial_header(bench_recorder_t *r, const bench_scenario_t *sc, uint32_t baud)
{
    char line[160];
    snprintf(line, sizeof line,
             "# bmsbench serial capture v1: %s line, %" PRIu32 " Bd 8N1; "
             "<sec>.<usec> <tx|rx>[+] <hex bytes>; tx = sent by the gateway\n",
             sc->bank.family, baud);
    rec_puts(r, &r->serial, line);
}

/* mkdir that accepts an existing folder. */
static int make_dir(const char *path, char *err, size_t errcap)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errcap, "%s: not a folder", path);
        return -1;
    }
    return 0;
}

/* The scenario name as one path component: [A-Za-z0-9._-], no leading dot. */
static void folder_name(char *out, size_t cap, const char *name, size_t name_max)
{
    size_t n = 0;
    for (size_t i = 0; i < name_max && name[i] != '\0' && n + 1 < cap; i++) {
        char c = name[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || (c == '.' && n > 0);
        out[n++] = ok ? c : '_';
    }
    if (n == 0) {
        snprintf(out, cap, "scenario");
        return;
    }
    out[n] = '\0';
}

/* Every file closed and r freed; the result of the first error. */
static int finish(bench_recorder_t *r, char *err, size_t errcap)
{
    if (r->serial_on) {
        serial_flush(r);
    }
    bus_close(r, &r->bus[0]);
    bus_close(r, &r->bus[1]);
    rec_fclose(r, &r->serial);
    rec_fclose(r, &r->csv);
    int rc = 0;
    if (r->failed) {
        if (err != NULL && errcap > 0) {
            snprintf(err, errcap, "%s", r->err_msg);
        }
        rc = -1;
    }
    free(r);
    return rc;
}

bench_recorder_t *bench_recorder_open(const char *dir, const bench_scenario_t *sc, char *err,
                                      size_t errcap)
{
    char sub[sizeof sc->name + 1];
    if (dir == NULL || dir[0] == '\0' || sc == NULL) {
        snprintf(err, errcap, "no folder or scenario to record");
        return NULL;
    }
    folder_name(sub, sizeof sub, sc->name, sizeof sc->name);
    bench_recorder_t *r = calloc(1, sizeof *r);
    if (r == NULL) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    if ((size_t)snprintf(r->dir, sizeof r->dir, "%s/%s", dir, sub) >= sizeof r->dir) {
        snprintf(err, errcap, "%s: path too long", dir);
        free(r);
        return NULL;
    }
    if (make_dir(dir, err, errcap) != 0 || make_dir(r->dir, err, errcap) != 0) {
        free(r);
        return NULL;
    }
    int rc = bus_open(r, 0, err, errcap);
    if (rc == 0 && sc->bank.kind == BENCH_FAM_SUPERB) {
        rc = bus_open(r, 1, err, errcap);
    }
    uint32_t baud = 0;
    switch (sc->bank.kind) {
    case BENCH_FAM_TOPBAND:
        baud = REC_TOPBAND_BAUD;
        break;
    case BENCH_FAM_TINYBMS:
        baud = REC_TINYBMS_BAUD;
        break;
    case BENCH_FAM_BALANCER:
        baud = REC_BALANCER_BAUD;
        break;
    case BENCH_FAM_SUPERB:
        break;
    }
    if (rc == 0 && baud != 0) {
        rc = rec_fopen(r, &r->serial, "bms-serial.txt", err, errcap);
        r->serial_on = rc == 0;
        r->topband_framing = sc->bank.kind == BENCH_FAM_TOPBAND;
        r->char_us = (REC_BITS_PER_CHAR * 1000000u + baud - 1) / baud;
        if (rc == 0) {
            serial_header(r, sc, baud);
        }
    }
    if (rc == 0) {
        rc = rec_fopen(r, &r->csv, "signals.csv", err, errcap);
    }
    if (rc != 0) {
        (void)finish(r, NULL, 0);
        return NULL;
    }
    csv_columns(r);
    csv_header(r);
    r->taps = (bench_taps_t){.ctx = r, .can = tap_can, .serial = tap_serial, .sample = tap_sample};
    return r;
}

const bench_taps_t *bench_recorder_taps(bench_recorder_t *r)
{
    return r != NULL ? &r->taps : NULL;
}

const char *bench_recorder_dir(const bench_recorder_t *r)
{
    return r != NULL ? r->dir : NULL;
}

int bench_recorder_close(bench_recorder_t *r, char *err, size_t errcap)
{
    if (r == NULL) {
        return 0;
    }
    return finish(r, err, errcap);
}

uint64_t bench_recorder_dropped(const bench_recorder_t *r)
{
    return r != NULL ? r->dropped : 0;
}
