/* SPDX-License-Identifier: MIT */
/* SLCAN codec and adapter state machine (see slcan.h). */
#include "slcan.h"

#include <string.h>

static const uint32_t bitrates[] = {10000,  20000,  50000,  100000, 125000,
                                    250000, 500000, 800000, 1000000};

int slcan_bitrate_code(uint32_t bitrate)
{
    for (unsigned i = 0; i < sizeof bitrates / sizeof bitrates[0]; i++) {
        if (bitrates[i] == bitrate) {
            return (int)i;
        }
    }
    return -1;
}

static int hex_val(char c)
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

/* n hex digits at s into *v; false on a non-hex character. */
static bool hex_field(const char *s, size_t n, uint32_t *v)
{
    uint32_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        int d = hex_val(s[i]);
        if (d < 0) {
            return false;
        }
        acc = (acc << 4) | (uint32_t)d;
    }
    *v = acc;
    return true;
}

static slcan_event_t decode_frame(const char *line, size_t len, plat_can_frame_t *f)
{
    bool ext = line[0] == 'T' || line[0] == 'R';
    bool rtr = line[0] == 'r' || line[0] == 'R';
    size_t id_len = ext ? 8u : 3u;
    uint32_t id, dlc;
    if (len < 1u + id_len + 1u || !hex_field(line + 1, id_len, &id) ||
        !hex_field(line + 1 + id_len, 1, &dlc) || dlc > 8u) {
        return SLCAN_EV_BAD;
    }
    if ((ext && id > 0x1FFFFFFFu) || (!ext && id > 0x7FFu)) {
        return SLCAN_EV_BAD;
    }
    size_t data_at = 2u + id_len;
    size_t data_len = rtr ? 0u : 2u * dlc;
    size_t rest = len - data_at;
    /* Adapters with timestamps on (Z1) append four hex digits after the data. */
    if (rest != data_len && rest != data_len + 4u) {
        return SLCAN_EV_BAD;
    }
    uint8_t data[8] = {0};
    for (uint32_t i = 0; i < (rtr ? 0u : dlc); i++) {
        uint32_t byte;
        if (!hex_field(line + data_at + 2u * i, 2, &byte)) {
            return SLCAN_EV_BAD;
        }
        data[i] = (uint8_t)byte;
    }
    if (rest == data_len + 4u) {
        uint32_t ts;
        if (!hex_field(line + data_at + data_len, 4, &ts)) {
            return SLCAN_EV_BAD;
        }
    }
    if (rtr) {
        return SLCAN_EV_RTR;
    }
    f->id = ext ? (id | PLAT_CAN_EFF_FLAG) : id;
    f->dlc = (uint8_t)dlc;
    memcpy(f->data, data, sizeof f->data);
    return SLCAN_EV_FRAME;
}

slcan_event_t slcan_decode_line(const char *line, size_t len, plat_can_frame_t *f)
{
    if (len == 0) {
        return SLCAN_EV_OK;
    }
    switch (line[0]) {
    case 't':
    case 'T':
    case 'r':
    case 'R':
        return decode_frame(line, len, f);
    case 'z':
    case 'Z':
        return len == 1 ? SLCAN_EV_TX_ACK : SLCAN_EV_BAD;
    case 'V':
    case 'v':
    case 'N':
    case 'F':
        return SLCAN_EV_INFO;
    default:
        return SLCAN_EV_BAD;
    }
}

slcan_event_t slcan_rx_byte(slcan_rx_t *rx, uint8_t b, plat_can_frame_t *f)
{
    if (b == '\a') {
        /* BEL stands alone: it ends whatever partial line came before it. */
        bool partial = rx->len > 0 || rx->overflow;
        rx->len = 0;
        rx->overflow = false;
        return partial ? SLCAN_EV_BAD : SLCAN_EV_ERROR;
    }
    if (b == '\n') {
        return SLCAN_EV_NONE; /* some adapters end lines with CR LF */
    }
    if (b != '\r') {
        if (rx->len < SLCAN_LINE_MAX - 1u) {
            rx->line[rx->len++] = (char)b;
        } else {
            rx->overflow = true;
        }
        return SLCAN_EV_NONE;
    }
    size_t len = rx->len;
    bool overflow = rx->overflow;
    rx->len = 0;
    rx->overflow = false;
    if (overflow) {
        return SLCAN_EV_BAD;
    }
    return slcan_decode_line(rx->line, len, f);
}

static const char hex_digits[] = "0123456789ABCDEF";

static void put_hex(char *out, uint32_t v, size_t digits)
{
    for (size_t i = 0; i < digits; i++) {
        out[digits - 1u - i] = hex_digits[v & 0xFu];
        v >>= 4;
    }
}

size_t slcan_encode_frame(const plat_can_frame_t *f, char *out, size_t cap)
{
    bool ext = (f->id & PLAT_CAN_EFF_FLAG) != 0;
    uint32_t id = f->id & ~PLAT_CAN_EFF_FLAG;
    size_t id_len = ext ? 8u : 3u;
    if (f->dlc > 8u || id > (ext ? 0x1FFFFFFFu : 0x7FFu)) {
        return 0;
    }
    size_t len = 1u + id_len + 1u + 2u * f->dlc + 1u;
    if (cap < len) {
        return 0;
    }
    out[0] = ext ? 'T' : 't';
    put_hex(out + 1, id, id_len);
    out[1u + id_len] = hex_digits[f->dlc];
    for (unsigned i = 0; i < f->dlc; i++) {
        put_hex(out + 2u + id_len + 2u * i, f->data[i], 2);
    }
    out[len - 1u] = '\r';
    return len;
}

/* ---- state machine ---- */

void slcan_init(slcan_t *s, slcan_write_fn write, void *ctx)
{
    memset(s, 0, sizeof *s);
    s->write = write;
    s->write_ctx = ctx;
}

static bool put_cmd(slcan_t *s, const char *cmd)
{
    size_t n = strlen(cmd);
    return s->write(s->write_ctx, (const uint8_t *)cmd, n) == n;
}

static void fail(slcan_t *s, const char *why, const char *what)
{
    s->state = SLCAN_FAILED;
    size_t n = 0;
    for (const char *p = why; *p != '\0' && n + 1u < sizeof s->error; p++) {
        s->error[n++] = *p;
    }
    for (const char *p = what; *p != '\0' && n + 1u < sizeof s->error; p++) {
        s->error[n++] = *p;
    }
    s->error[n] = '\0';
}

static const char *step_name(const slcan_t *s, char *buf)
{
    switch (s->step) {
    case 0:
        return "C (close)";
    case 1:
        buf[0] = 'S';
        buf[1] = (char)('0' + s->code);
        buf[2] = '\0';
        return buf;
    default:
        return "O (open)";
    }
}

/* Sends the setup command of the current step. */
static void send_step(slcan_t *s, uint64_t now_ms)
{
    char cmd[4];
    switch (s->step) {
    case 0:
        memcpy(cmd, "C\r", 3);
        break;
    case 1:
        cmd[0] = 'S';
        cmd[1] = (char)('0' + s->code);
        cmd[2] = '\r';
        cmd[3] = '\0';
        break;
    default:
        memcpy(cmd, "O\r", 3);
        break;
    }
    if (!put_cmd(s, cmd)) {
        char b[4];
        fail(s, "could not write command ", step_name(s, b));
        return;
    }
    s->deadline_ms = now_ms + SLCAN_REPLY_TIMEOUT_MS;
}

int slcan_open(slcan_t *s, uint32_t bitrate, uint64_t now_ms)
{
    int code = slcan_bitrate_code(bitrate);
    if (code < 0) {
        fail(s, "no SLCAN bitrate code for this bitrate", "");
        return -1;
    }
    s->code = code;
    s->step = 0;
    s->error[0] = '\0';
    s->rx.len = 0;
    s->rx.overflow = false;
    s->rxq_len = 0;
    s->state = SLCAN_OPENING;
    send_step(s, now_ms);
    return 0;
}

/* A reply (CR or BEL) to the pending setup command. */
static void setup_reply(slcan_t *s, bool ok, uint64_t now_ms)
{
    char b[4];
    /* Closing a channel that is already closed is refused by Lawicel
     * adapters: that BEL is expected, so step 0 takes either answer. */
    if (!ok && s->step != 0) {
        fail(s, s->step == 1 ? "adapter refused bitrate " : "adapter refused ", step_name(s, b));
        return;
    }
    if (s->step == 2) {
        s->state = SLCAN_OPEN;
        return;
    }
    s->step++;
    send_step(s, now_ms);
}

static void queue_frame(slcan_t *s, const plat_can_frame_t *f)
{
    if (s->rxq_len == SLCAN_RXQ) {
        s->rx_dropped++;
        return;
    }
    s->rxq[(s->rxq_head + s->rxq_len) % SLCAN_RXQ] = *f;
    s->rxq_len++;
    s->rx_frames++;
}

void slcan_feed(slcan_t *s, const uint8_t *buf, size_t n, uint64_t now_ms)
{
    for (size_t i = 0; i < n; i++) {
        plat_can_frame_t f;
        slcan_event_t ev = slcan_rx_byte(&s->rx, buf[i], &f);
        switch (ev) {
        case SLCAN_EV_OK:
        case SLCAN_EV_ERROR:
            if (ev == SLCAN_EV_ERROR) {
                s->bells++;
            }
            if (s->state == SLCAN_OPENING) {
                setup_reply(s, ev == SLCAN_EV_OK, now_ms);
            }
            break;
        case SLCAN_EV_FRAME:
            if (s->state == SLCAN_OPEN) {
                queue_frame(s, &f);
            }
            break;
        case SLCAN_EV_TX_ACK:
            s->tx_acks++;
            break;
        case SLCAN_EV_BAD:
            s->bad_lines++;
            break;
        case SLCAN_EV_RTR:
            s->rtr_dropped++;
            break;
        case SLCAN_EV_NONE:
        case SLCAN_EV_INFO:
            break;
        }
    }
}

void slcan_poll(slcan_t *s, uint64_t now_ms)
{
    if (s->state == SLCAN_OPENING && now_ms >= s->deadline_ms) {
        char b[4];
        fail(s, "no answer from the adapter to ", step_name(s, b));
    }
}

uint64_t slcan_deadline(const slcan_t *s)
{
    return s->state == SLCAN_OPENING ? s->deadline_ms : UINT64_MAX;
}

int slcan_send(slcan_t *s, const plat_can_frame_t *f)
{
    char text[SLCAN_FRAME_TEXT_MAX];
    size_t n = slcan_encode_frame(f, text, sizeof text);
    if (n == 0 || s->state == SLCAN_FAILED) {
        return PLAT_E_IO;
    }
    if (s->state != SLCAN_OPEN) {
        return PLAT_E_BUSY;
    }
    size_t put = s->write(s->write_ctx, (const uint8_t *)text, n);
    if (put == 0) {
        return PLAT_E_BUSY;
    }
    if (put != n) {
        /* Half a command on the line: the adapter will refuse it and resync at the CR. */
        return PLAT_E_IO;
    }
    s->tx_frames++;
    return PLAT_OK;
}

int slcan_recv(slcan_t *s, plat_can_frame_t *f)
{
    if (s->rxq_len == 0) {
        return 0;
    }
    *f = s->rxq[s->rxq_head];
    s->rxq_head = (s->rxq_head + 1u) % SLCAN_RXQ;
    s->rxq_len--;
    return 1;
}

void slcan_close(slcan_t *s)
{
    if (s->state == SLCAN_OPEN || s->state == SLCAN_OPENING) {
        (void)put_cmd(s, "C\r");
    }
    s->state = SLCAN_CLOSED;
    s->rxq_len = 0;
}
