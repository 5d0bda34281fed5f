/* SPDX-License-Identifier: MIT */
/* SocketCAN and SLCAN endpoints for live mode (see can_io.h). */
#include "harness/live/can_io.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libsocketcan.h>
#include <linux/can.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness/live/serial_io.h"

#define SLCAN_SERIAL_BAUD 115200
#define ARPHRD_CAN_TYPE 280

static const unsigned slcan_rates[9] = {10000,  20000,  50000,  100000, 125000,
                                        250000, 500000, 800000, 1000000};

int bench_slcan_code_of(unsigned bitrate)
{
    for (int i = 0; i < 9; i++) {
        if (slcan_rates[i] == bitrate) {
            return i;
        }
    }
    return -1;
}

unsigned bench_slcan_bitrate_of(int code)
{
    return code >= 0 && code < 9 ? slcan_rates[code] : 0;
}

/* ---- codec ---- */

static const char hexdig[] = "0123456789ABCDEF";

static void put_hex(char *out, uint32_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--) {
        out[i] = hexdig[v & 0xFu];
        v >>= 4;
    }
}

size_t bench_slcan_encode(const sim_can_frame_t *f, char *out, size_t cap)
{
    bool ext = (f->id & SIM_CAN_EFF_FLAG) != 0;
    bool rtr = (f->id & BENCH_CAN_RTR_FLAG) != 0;
    uint32_t id = f->id & (ext ? 0x1FFFFFFFu : 0xFFFFFFFFu) & ~BENCH_CAN_RTR_FLAG;
    if (f->dlc > 8 || (!ext && id > 0x7FFu)) {
        return 0;
    }
    int id_digits = ext ? 8 : 3;
    size_t need = 1u + (size_t)id_digits + 1u + (rtr ? 0u : 2u * f->dlc) + 1u;
    if (cap < need + 1) { /* room for a NUL too, so it prints */
        return 0;
    }
    size_t n = 0;
    out[n++] = rtr ? (ext ? 'R' : 'r') : (ext ? 'T' : 't');
    put_hex(out + n, id, id_digits);
    n += (size_t)id_digits;
    out[n++] = (char)('0' + f->dlc);
    for (unsigned i = 0; !rtr && i < f->dlc; i++) {
        put_hex(out + n, f->data[i], 2);
        n += 2;
    }
    out[n++] = '\r';
    out[n] = '\0';
    return n;
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (char)toupper((unsigned char)c);
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* digits hex characters at p into *v; -1 on any non-hex character. */
static int get_hex(const char *p, int digits, uint32_t *v)
{
    uint32_t x = 0;
    for (int i = 0; i < digits; i++) {
        int d = hex_val(p[i]);
        if (d < 0) {
            return -1;
        }
        x = (x << 4) | (uint32_t)d;
    }
    *v = x;
    return 0;
}

int bench_slcan_parse(const char *line, size_t len, sim_can_frame_t *f)
{
    if (len < 1) {
        return -1;
    }
    char k = line[0];
    bool ext = k == 'T' || k == 'R';
    bool rtr = k == 'r' || k == 'R';
    if (k != 't' && k != 'T' && k != 'r' && k != 'R') {
        return -1;
    }
    size_t id_digits = ext ? 8 : 3;
    if (len < 1 + id_digits + 1) {
        return -1;
    }
    uint32_t id, dlc;
    if (get_hex(line + 1, (int)id_digits, &id) != 0 ||
        get_hex(line + 1 + id_digits, 1, &dlc) != 0 || dlc > 8) {
        return -1;
    }
    if ((ext && id > 0x1FFFFFFFu) || (!ext && id > 0x7FFu)) {
        return -1;
    }
    size_t data_chars = rtr ? 0 : 2u * dlc;
    size_t base = 1 + id_digits + 1 + data_chars;
    if (len != base && len != base + 4) { /* optional timestamp */
        return -1;
    }
    memset(f, 0, sizeof *f);
    for (uint32_t i = 0; !rtr && i < dlc; i++) {
        uint32_t b;
        if (get_hex(line + 1 + id_digits + 1 + 2 * i, 2, &b) != 0) {
            return -1;
        }
        f->data[i] = (uint8_t)b;
    }
    if (len == base + 4) {
        uint32_t stamp;
        if (get_hex(line + base, 4, &stamp) != 0) {
            return -1;
        }
    }
    f->id = id | (ext ? SIM_CAN_EFF_FLAG : 0) | (rtr ? BENCH_CAN_RTR_FLAG : 0);
    f->dlc = (uint8_t)dlc;
    return 0;
}

/* ---- protocol state ---- */

void bench_slcan_init(bench_slcan_t *s, bench_slcan_role_t role, bench_slcan_frame_fn fn,
                      void *ctx)
{
    memset(s, 0, sizeof *s);
    s->role = role;
    s->on_frame = fn;
    s->ctx = ctx;
    s->bitrate_code = -1;
}

static void reply(bench_slcan_t *s, const char *text)
{
    size_t n = strlen(text);
    if (s->reply_len + n <= sizeof s->reply) {
        memcpy(s->reply + s->reply_len, text, n);
        s->reply_len += n;
    }
}

/* One complete command line from a host, as an adapter answers it. */
static void adapter_line(bench_slcan_t *s, const char *line, size_t len)
{
    if (len == 0) {
        reply(s, "\r"); /* an empty line is how hosts flush the adapter's parser */
        return;
    }
    s->commands++;
    sim_can_frame_t f;
    switch (line[0]) {
    case 't': case 'T': case 'r': case 'R':
        if (!s->open) {
            s->closed_tx++;
            reply(s, "\a");
        } else if (bench_slcan_parse(line, len, &f) != 0) {
            s->malformed++;
            reply(s, "\a");
        } else {
            s->frames++;
            reply(s, line[0] == 't' || line[0] == 'r' ? "z\r" : "Z\r");
            if (s->on_frame != NULL) {
                s->on_frame(s->ctx, &f);
            }
        }
        break;
    case 'S':
        /* The bitrate may only change while the channel is closed. */
        if (len == 2 && line[1] >= '0' && line[1] <= '8' && !s->open) {
            s->bitrate_code = line[1] - '0';
            reply(s, "\r");
        } else {
            s->errors++;
            reply(s, "\a");
        }
        break;
    case 'O': case 'L':
        if (len == 1 && !s->open) {
            s->open = true;
            reply(s, "\r");
        } else {
            s->errors++;
            reply(s, "\a");
        }
        break;
    case 'C':
        s->open = false;
        reply(s, "\r");
        break;
    case 'V': reply(s, "V1013\r"); break;
    case 'v': reply(s, "vSTM32\r"); break;
    case 'N': reply(s, "NBNCH\r"); break;
    case 'F': reply(s, "F00\r"); break;
    case 's': case 'Z': case 'X': case 'W': case 'M': case 'm': case 'Q': reply(s, "\r"); break;
    default:
        s->errors++;
        reply(s, "\a");
        break;
    }
}

/* One line from a real adapter, as its host reads it. */
static void host_line(bench_slcan_t *s, const char *line, size_t len)
{
    sim_can_frame_t f;
    if (len == 0) {
        s->acks++;
        return;
    }
    if ((line[0] == 'z' || line[0] == 'Z') && len == 1) {
        s->acks++;
        return;
    }
    if (bench_slcan_parse(line, len, &f) == 0) {
        s->frames++;
        if (s->on_frame != NULL) {
            s->on_frame(s->ctx, &f);
        }
        return;
    }
    if (line[0] == 'V' || line[0] == 'N' || line[0] == 'F' || line[0] == 'v') {
        return; /* version, serial number, status flags: nothing to do */
    }
    s->malformed++;
}

void bench_slcan_feed(bench_slcan_t *s, const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = buf[i];
        if (b == '\a') {
            /* BEL is a whole reply; to an adapter it is just a bad byte. */
            s->errors++;
            s->len = 0;
            s->overflow = false;
            continue;
        }
        if (b == '\n') {
            continue; /* some hosts end lines with CR LF */
        }
        if (b != '\r') {
            if (s->len < sizeof s->line) {
                s->line[s->len++] = (char)b;
            } else {
                s->overflow = true;
            }
            continue;
        }
        if (s->overflow) {
            s->malformed++;
            if (s->role == BENCH_SLCAN_ADAPTER) {
                reply(s, "\a");
            }
        } else if (s->role == BENCH_SLCAN_ADAPTER) {
            adapter_line(s, s->line, s->len);
        } else {
            host_line(s, s->line, s->len);
        }
        s->len = 0;
        s->overflow = false;
    }
}

/* ---- endpoints ---- */

static void queue_frame(void *ctx, const sim_can_frame_t *f)
{
    bench_can_io_t *c = ctx;
    if (c->rx_count == BENCH_CAN_RXQ) {
        c->rx_dropped++;
        return;
    }
    c->rxq[(c->rx_head + c->rx_count) % BENCH_CAN_RXQ] = *f;
    c->rx_count++;
}

int bench_can_open_socketcan(bench_can_io_t *c, const char *iface, char *err, size_t errcap)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    snprintf(c->name, sizeof c->name, "%s", iface);
    if (strlen(iface) >= IFNAMSIZ) {
        snprintf(err, errcap, "%s: interface name too long", iface);
        return -1;
    }
    int fd = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
    if (fd < 0) {
        if (errno == EAFNOSUPPORT) {
            snprintf(err, errcap,
                     "%s: this kernel has no SocketCAN (CONFIG_CAN); use an SLCAN adapter "
                     "(slcan:/dev/ttyACM0) instead",
                     iface);
        } else {
            snprintf(err, errcap, "%s: socket(PF_CAN): %s", iface, strerror(errno));
        }
        return -1;
    }
    unsigned idx = if_nametoindex(iface);
    if (idx == 0) {
        snprintf(err, errcap, "%s: no such CAN interface", iface);
        close(fd);
        return -1;
    }
    struct sockaddr_can addr;
    memset(&addr, 0, sizeof addr);
    addr.can_family = AF_CAN;
    addr.can_ifindex = (int)idx;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        snprintf(err, errcap, "%s: bind: %s", iface, strerror(errno));
        close(fd);
        return -1;
    }
    c->kind = BENCH_CAN_SOCKETCAN;
    c->fd = fd;
    c->owns_fd = true;
    return 0;
}

int bench_can_open_slcan_host(bench_can_io_t *c, const char *path, unsigned bitrate, char *err,
                              size_t errcap)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    int code = bench_slcan_code_of(bitrate);
    if (code < 0) {
        snprintf(err, errcap, "slcan:%s: %u bit/s has no SLCAN code (S0..S8)", path, bitrate);
        return -1;
    }
    int fd = bench_serial_open(path, SLCAN_SERIAL_BAUD, err, errcap);
    if (fd < 0) {
        return -1;
    }
    char setup[16];
    snprintf(setup, sizeof setup, "\rC\rS%d\rO\r", code);
    if (bench_fd_write_all(fd, (const uint8_t *)setup, strlen(setup), 500) != 0) {
        snprintf(err, errcap, "slcan:%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    c->kind = BENCH_CAN_SLCAN;
    c->fd = fd;
    c->owns_fd = true;
    snprintf(c->name, sizeof c->name, "slcan:%s", path);
    bench_slcan_init(&c->slcan, BENCH_SLCAN_HOST, queue_frame, c);
    return 0;
}

void bench_can_attach_slcan_adapter(bench_can_io_t *c, int fd, const char *name)
{
    memset(c, 0, sizeof *c);
    c->kind = BENCH_CAN_SLCAN;
    c->fd = fd;
    c->owns_fd = false;
    snprintf(c->name, sizeof c->name, "%s", name);
    bench_slcan_init(&c->slcan, BENCH_SLCAN_ADAPTER, queue_frame, c);
}

static int slcan_pump(bench_can_io_t *c)
{
    int fd = c->fd;
    uint8_t buf[512];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            bench_slcan_feed(&c->slcan, buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }
        /* EIO on a PTY master: nobody has the slave open (yet, or any more).
         * That is the peer's business, not a lost device. */
        if (n < 0 && errno == EIO && c->slcan.role == BENCH_SLCAN_ADAPTER) {
            break;
        }
        if (n == 0) {
            errno = ENODEV;
        }
        return -1;
    }
    if (c->slcan.reply_len > 0) {
        int rc = bench_fd_write_all(fd, (const uint8_t *)c->slcan.reply, c->slcan.reply_len, 200);
        c->slcan.reply_len = 0;
        if (rc != 0 && c->slcan.role == BENCH_SLCAN_HOST) {
            return -1;
        }
    }
    return 0;
}

static int socketcan_pump(bench_can_io_t *c)
{
    for (;;) {
        struct can_frame cf;
        ssize_t n = read(c->fd, &cf, sizeof cf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        }
        if (n < 0) {
            return -1;
        }
        if ((size_t)n != sizeof cf || cf.can_dlc > 8) {
            continue; /* CAN FD or short read: not a classic frame */
        }
        sim_can_frame_t f;
        memset(&f, 0, sizeof f);
        f.id = cf.can_id & (CAN_EFF_FLAG | CAN_RTR_FLAG | CAN_ERR_FLAG | CAN_EFF_MASK);
        f.id = (f.id & CAN_EFF_FLAG ? SIM_CAN_EFF_FLAG | (f.id & CAN_EFF_MASK) : (f.id & CAN_SFF_MASK)) |
               (cf.can_id & CAN_RTR_FLAG ? BENCH_CAN_RTR_FLAG : 0) |
               (cf.can_id & CAN_ERR_FLAG ? 0x20000000u : 0);
        f.dlc = cf.can_dlc;
        memcpy(f.data, cf.data, 8);
        queue_frame(c, &f);
    }
}

int bench_can_read(bench_can_io_t *c, sim_can_frame_t *out, int cap)
{
    int rc = c->kind == BENCH_CAN_SOCKETCAN ? socketcan_pump(c) : slcan_pump(c);
    int n = 0;
    while (n < cap && c->rx_count > 0) {
        out[n++] = c->rxq[c->rx_head];
        c->rx_head = (c->rx_head + 1) % BENCH_CAN_RXQ;
        c->rx_count--;
    }
    c->rx_frames += (uint64_t)n;
    return rc != 0 && n == 0 ? -1 : n;
}

int bench_can_send(bench_can_io_t *c, const sim_can_frame_t *f)
{
    if (c->kind == BENCH_CAN_SOCKETCAN) {
        struct can_frame cf;
        memset(&cf, 0, sizeof cf);
        bool ext = (f->id & SIM_CAN_EFF_FLAG) != 0;
        cf.can_id = (ext ? (f->id & CAN_EFF_MASK) | CAN_EFF_FLAG : (f->id & CAN_SFF_MASK)) |
                    ((f->id & BENCH_CAN_RTR_FLAG) ? CAN_RTR_FLAG : 0);
        cf.can_dlc = f->dlc > 8 ? 8 : f->dlc;
        memcpy(cf.data, f->data, 8);
        if (write(c->fd, &cf, sizeof cf) != (ssize_t)sizeof cf) {
            return -1;
        }
    } else {
        char line[BENCH_SLCAN_LINE_MAX];
        size_t n = bench_slcan_encode(f, line, sizeof line);
        if (n == 0) {
            errno = EINVAL;
            return -1;
        }
        if (bench_fd_write_all(c->fd, (const uint8_t *)line, n, 200) != 0) {
            return -1;
        }
    }
    c->tx_frames++;
    return 0;
}

void bench_can_close(bench_can_io_t *c)
{
    if (c->fd >= 0 && c->owns_fd) {
        if (c->kind == BENCH_CAN_SLCAN) {
            (void)bench_fd_write_all(c->fd, (const uint8_t *)"C\r", 2, 100);
        }
        close(c->fd);
    }
    c->fd = -1;
}

/* ---- interface facts ---- */

static bool read_sys(const char *iface, const char *leaf, char *buf, size_t cap)
{
    char path[160];
    snprintf(path, sizeof path, "/sys/class/net/%s/%s", iface, leaf);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return false;
    }
    bool ok = fgets(buf, (int)cap, f) != NULL;
    fclose(f);
    if (ok) {
        buf[strcspn(buf, "\n")] = '\0';
    }
    return ok;
}

static int cmp_iface(const void *a, const void *b)
{
    return strcmp(((const bench_can_iface_t *)a)->name, ((const bench_can_iface_t *)b)->name);
}

int bench_can_ifaces(bench_can_iface_t *out, int cap)
{
    DIR *d = opendir("/sys/class/net");
    if (d == NULL) {
        return 0;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < cap) {
        char buf[64];
        if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof out[n].name ||
            !read_sys(e->d_name, "type", buf, sizeof buf) || atoi(buf) != ARPHRD_CAN_TYPE) {
            continue;
        }
        bench_can_iface_t *it = &out[n++];
        memset(it, 0, sizeof *it);
        snprintf(it->name, sizeof it->name, "%s", e->d_name);
        it->up = read_sys(e->d_name, "operstate", buf, sizeof buf) &&
                 (strcmp(buf, "up") == 0 || strcmp(buf, "unknown") == 0);
        it->is_virtual = strncmp(it->name, "vcan", 4) == 0 || strncmp(it->name, "vxcan", 5) == 0;
        snprintf(it->state, sizeof it->state, "-");
        static const char *const states[] = {"ERROR-ACTIVE", "ERROR-WARNING", "ERROR-PASSIVE",
                                             "BUS-OFF", "STOPPED", "SLEEPING"};
        int st;
        if (!it->is_virtual && can_get_state(it->name, &st) == 0 && st >= 0 && st < 6) {
            snprintf(it->state, sizeof it->state, "%s", states[st]);
        }
        struct can_bittiming bt;
        if (!it->is_virtual && can_get_bittiming(it->name, &bt) == 0) {
            it->bitrate = bt.bitrate;
        }
    }
    closedir(d);
    qsort(out, (size_t)n, sizeof *out, cmp_iface);
    return n;
}
