/* SPDX-License-Identifier: MIT */
/* Recording format writers; the grammar of each is in logfmt_write.h. */
#include "harness/logfmt_write.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define US_PER_S 1000000u
#define CAN_SFF_MASK 0x7FFu
#define CAN_EFF_MASK 0x1FFFFFFFu

/* snprintf wrapper: the length, or -1 when it did not fit. */
static int fit(int n, size_t cap)
{
    if (n < 0 || (size_t)n >= cap) {
        return -1;
    }
    return n;
}

bool bench_logfmt_frame_ok(const sim_can_frame_t *f)
{
    if (f == NULL || f->dlc > 8) {
        return false;
    }
    if ((f->id & SIM_CAN_EFF_FLAG) != 0) {
        return (f->id & ~SIM_CAN_EFF_FLAG) <= CAN_EFF_MASK;
    }
    return f->id <= CAN_SFF_MASK;
}

/* Upper-case hex of the data bytes, with sep between pairs ("" or " "). */
static int put_hex(char *out, size_t cap, const uint8_t *data, size_t n, const char *sep)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t seplen = strlen(sep);
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        size_t need = 2 + (i > 0 ? seplen : 0);
        if (pos + need >= cap) {
            return -1;
        }
        if (i > 0) {
            memcpy(&out[pos], sep, seplen);
            pos += seplen;
        }
        out[pos++] = digits[data[i] >> 4];
        out[pos++] = digits[data[i] & 0x0F];
    }
    if (pos >= cap) {
        return -1;
    }
    out[pos] = '\0';
    return (int)pos;
}

int bench_logfmt_candump_line(char *out, size_t cap, uint64_t t_us, const char *ifname,
                              const sim_can_frame_t *f)
{
    if (out == NULL || cap == 0 || ifname == NULL || !bench_logfmt_frame_ok(f)) {
        return -1;
    }
    size_t iflen = strnlen(ifname, BENCH_LOGFMT_IFNAME_MAX);
    if (iflen == 0 || iflen >= BENCH_LOGFMT_IFNAME_MAX) {
        return -1;
    }
    bool eff = (f->id & SIM_CAN_EFF_FLAG) != 0;
    uint32_t id = f->id & CAN_EFF_MASK;
    int n = fit(snprintf(out, cap, "(%010" PRIu64 ".%06" PRIu64 ") %.*s %0*" PRIX32 "#",
                         t_us / US_PER_S, t_us % US_PER_S, (int)iflen, ifname, eff ? 8 : 3, id),
                cap);
    if (n < 0) {
        return -1;
    }
    int h = put_hex(&out[n], cap - (size_t)n, f->data, f->dlc, "");
    if (h < 0) {
        return -1;
    }
    n += h;
    return fit(n + snprintf(&out[n], cap - (size_t)n, "\n"), cap);
}

/* Civil date from days since 1970-01-01 (H. Hinnant's days_from_civil
 * inverse), so the header does not depend on the host's time zone or libc. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

/* "Www Mmm dd hh:mm:ss.000 yyyy" for an epoch second (UTC). */
static int asc_date(char *out, size_t cap, int64_t epoch_s)
{
    static const char *const wday[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (epoch_s < 0 || epoch_s > INT64_C(253402300799)) { /* 9999-12-31 23:59:59 */
        return -1;
    }
    int64_t days = epoch_s / 86400;
    int64_t sod = epoch_s % 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    return fit(snprintf(out, cap, "%s %s %02u %02u:%02u:%02u.000 %04" PRId64, wday[days % 7],
                        mon[m - 1], d, (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60),
                        (unsigned)(sod % 60), y),
               cap);
}

int bench_logfmt_asc_header(char *out, size_t cap, int64_t epoch_s)
{
    char date[48];
    if (out == NULL || cap == 0 || asc_date(date, sizeof date, epoch_s) < 0) {
        return -1;
    }
    return fit(snprintf(out, cap,
                        "date %s\n"
                        "base hex  timestamps absolute\n"
                        "internal events logged\n"
                        "Begin Triggerblock %s\n"
                        "   0.000000 Start of measurement\n",
                        date, date),
               cap);
}

int bench_logfmt_asc_line(char *out, size_t cap, uint64_t rel_us, int channel, bool tx,
                          const sim_can_frame_t *f)
{
    if (out == NULL || cap == 0 || channel < 1 || !bench_logfmt_frame_ok(f)) {
        return -1;
    }
    char id[16];
    if ((f->id & SIM_CAN_EFF_FLAG) != 0) {
        snprintf(id, sizeof id, "%" PRIX32 "x", f->id & CAN_EFF_MASK);
    } else {
        snprintf(id, sizeof id, "%" PRIX32, f->id);
    }
    int n =
        fit(snprintf(out, cap, "%4" PRIu64 ".%06" PRIu64 " %d  %-15s %-4s d %X", rel_us / US_PER_S,
                     rel_us % US_PER_S, channel, id, tx ? "Tx" : "Rx", (unsigned)f->dlc),
            cap);
    if (n < 0) {
        return -1;
    }
    if (f->dlc > 0) {
        n = fit(n + snprintf(&out[n], cap - (size_t)n, " "), cap);
        if (n < 0) {
            return -1;
        }
        int h = put_hex(&out[n], cap - (size_t)n, f->data, f->dlc, " ");
        if (h < 0) {
            return -1;
        }
        n += h;
    }
    return fit(n + snprintf(&out[n], cap - (size_t)n, "\n"), cap);
}

int bench_logfmt_asc_trailer(char *out, size_t cap)
{
    if (out == NULL || cap == 0) {
        return -1;
    }
    return fit(snprintf(out, cap, "End TriggerBlock\n"), cap);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void bench_logfmt_pcap_header(uint8_t out[BENCH_PCAP_HEADER_LEN])
{
    put_le32(&out[0], 0xA1B2C3D4u); /* microsecond timestamps, written little-endian */
    put_le16(&out[4], 2);           /* version 2.4 */
    put_le16(&out[6], 4);
    put_le32(&out[8], 0);      /* thiszone: timestamps are UTC */
    put_le32(&out[12], 0);     /* sigfigs */
    put_le32(&out[16], 65535); /* snaplen */
    put_le32(&out[20], BENCH_PCAP_LINKTYPE_CAN_SOCKETCAN);
}

int bench_logfmt_pcap_record(uint8_t out[BENCH_PCAP_RECORD_LEN], uint64_t t_us,
                             const sim_can_frame_t *f)
{
    if (!bench_logfmt_frame_ok(f) || t_us / US_PER_S > UINT32_MAX) {
        return -1;
    }
    put_le32(&out[0], (uint32_t)(t_us / US_PER_S));
    put_le32(&out[4], (uint32_t)(t_us % US_PER_S));
    put_le32(&out[8], 16);
    put_le32(&out[12], 16);
    /* LINKTYPE_CAN_SOCKETCAN stores can_id in network byte order, unlike the
     * host-order struct can_frame a socket returns. */
    uint32_t can_id =
        (f->id & SIM_CAN_EFF_FLAG) != 0 ? (f->id & CAN_EFF_MASK) | BENCH_SOCKETCAN_EFF_FLAG : f->id;
    put_be32(&out[16], can_id);
    out[20] = f->dlc;
    out[21] = 0; /* pad / CAN FD flags */
    out[22] = 0; /* reserved */
    out[23] = 0; /* reserved (len8_dlc) */
    memset(&out[24], 0, 8);
    memcpy(&out[24], f->data, f->dlc);
    return 0;
}

int bench_logfmt_serial_line(char *out, size_t cap, uint64_t t_us, bool tx, bool cont,
                             const uint8_t *bytes, size_t n)
{
    if (out == NULL || cap == 0 || bytes == NULL || n == 0 || n > BENCH_SERIAL_LINE_BYTES) {
        return -1;
    }
    int len = fit(snprintf(out, cap, "%" PRIu64 ".%06" PRIu64 " %s%s ", t_us / US_PER_S,
                           t_us % US_PER_S, tx ? "tx" : "rx", cont ? "+" : ""),
                  cap);
    if (len < 0) {
        return -1;
    }
    int h = put_hex(&out[len], cap - (size_t)len, bytes, n, " ");
    if (h < 0) {
        return -1;
    }
    len += h;
    return fit(len + snprintf(&out[len], cap - (size_t)len, "\n"), cap);
}

int bench_logfmt_csv_number(char *out, size_t cap, double v)
{
    if (out == NULL || cap == 0) {
        return -1;
    }
    if (!isfinite(v)) {
        out[0] = '\0';
        return 0;
    }
    return fit(snprintf(out, cap, "%.7g", v), cap);
}
