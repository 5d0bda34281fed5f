/* SPDX-License-Identifier: MIT */
/* Device spec parsing (see dev_spec.h). */
#include "dev_spec.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Splits a trailing "@digits" off text[0..*len): the rate, or 0 when there
 * is none. -1 when the digits overflow or are missing after '@'. */
static int split_rate(const char *text, size_t *len, uint32_t *rate)
{
    *rate = 0;
    const char *at = strrchr(text, '@');
    if (at == NULL) {
        return 0;
    }
    const char *d = at + 1;
    uint64_t v = 0;
    if (*d == '\0') {
        return -1;
    }
    for (; *d != '\0'; d++) {
        if (*d < '0' || *d > '9') {
            return 0; /* not a rate: the '@' belongs to the name */
        }
        v = v * 10u + (uint64_t)(*d - '0');
        if (v > 100000000u) {
            return -1;
        }
    }
    if (v == 0) {
        return -1;
    }
    *rate = (uint32_t)v;
    *len = (size_t)(at - text);
    return 0;
}

/* Copies text[0..len) to dst (cap bytes incl. NUL); false when it does not fit or is empty. */
static bool copy_part(char *dst, size_t cap, const char *text, size_t len)
{
    if (len == 0 || len >= cap) {
        return false;
    }
    memcpy(dst, text, len);
    dst[len] = '\0';
    return true;
}

/* 1..4 hex digits in text[0..len) into *v. */
static bool parse_hex16(const char *text, size_t len, uint16_t *v)
{
    if (len == 0 || len > 4) {
        return false;
    }
    uint16_t acc = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) {
            return false;
        }
        acc = (uint16_t)((acc << 4) | (uint16_t)d);
    }
    *v = acc;
    return true;
}

static int parse_usb(const char *body, size_t len, serial_spec_t *out)
{
    const char *end = body + len;
    const char *c1 = memchr(body, ':', len);
    if (c1 == NULL) {
        return -1;
    }
    const char *pid = c1 + 1;
    const char *c2 = memchr(pid, ':', (size_t)(end - pid));
    const char *pid_end = c2 != NULL ? c2 : end;
    if (!parse_hex16(body, (size_t)(c1 - body), &out->vid) ||
        !parse_hex16(pid, (size_t)(pid_end - pid), &out->pid)) {
        return -1;
    }
    if (c2 != NULL && !copy_part(out->serial, sizeof out->serial, c2 + 1, (size_t)(end - c2 - 1))) {
        return -1;
    }
    out->kind = SERIAL_SPEC_USB;
    return 0;
}

int serial_spec_parse(const char *text, serial_spec_t *out, char *err, size_t cap)
{
    memset(out, 0, sizeof *out);
    size_t len = strlen(text);
    if (split_rate(text, &len, &out->baud) != 0) {
        snprintf(err, cap, "%s: expected a baud rate after '@' (1..100000000)", text);
        return -1;
    }
    if (starts_with(text, "usb:")) {
        if (parse_usb(text + 4, len - 4, out) != 0) {
            snprintf(err, cap, "%s: expected usb:VID:PID[:SERIAL] with 4-digit hex VID and PID",
                     text);
            return -1;
        }
        return 0;
    }
    if (starts_with(text, "desc:")) {
        if (!copy_part(out->desc, sizeof out->desc, text + 5, len - 5)) {
            snprintf(err, cap, "%s: expected desc:TEXT (1..%u characters)", text,
                     (unsigned)sizeof out->desc - 1u);
            return -1;
        }
        out->kind = SERIAL_SPEC_DESC;
        return 0;
    }
    if (!copy_part(out->path, sizeof out->path, text, len)) {
        snprintf(err, cap, "'%s': expected a device path, usb:VID:PID[:SERIAL] or desc:TEXT",
                 text);
        return -1;
    }
    out->kind = SERIAL_SPEC_PATH;
    return 0;
}

int can_spec_parse(const char *text, can_spec_t *out, char *err, size_t cap)
{
    memset(out, 0, sizeof *out);
    size_t len = strlen(text);
    if (split_rate(text, &len, &out->bitrate) != 0) {
        snprintf(err, cap, "%s: expected a bitrate after '@' (bit/s)", text);
        return -1;
    }
    if (starts_with(text, "slcan:")) {
        char dev[DEV_SPEC_TEXT_MAX];
        if (!copy_part(dev, sizeof dev, text + 6, len - 6)) {
            snprintf(err, cap, "%s: expected slcan:DEVICE[@BITRATE]", text);
            return -1;
        }
        if (serial_spec_parse(dev, &out->serial, err, cap) != 0) {
            return -1;
        }
        out->kind = CAN_SPEC_SLCAN;
        return 0;
    }
    if (!copy_part(out->ifname, sizeof out->ifname, text, len) ||
        strchr(out->ifname, '/') != NULL || strchr(out->ifname, ':') != NULL) {
        snprintf(err, cap,
                 "'%s': expected a CAN interface name (up to 15 characters, e.g. can0) or "
                 "slcan:DEVICE",
                 text);
        return -1;
    }
    out->kind = CAN_SPEC_SOCKETCAN;
    return 0;
}

void serial_spec_format(const serial_spec_t *s, char *out, size_t cap)
{
    switch (s->kind) {
    case SERIAL_SPEC_USB:
        snprintf(out, cap, "usb:%04x:%04x%s%s", s->vid, s->pid, s->serial[0] ? ":" : "",
                 s->serial);
        break;
    case SERIAL_SPEC_DESC:
        snprintf(out, cap, "desc:%s", s->desc);
        break;
    default:
        snprintf(out, cap, "%s", s->path);
        break;
    }
}

void can_spec_format(const can_spec_t *s, char *out, size_t cap)
{
    if (s->kind == CAN_SPEC_SLCAN) {
        char dev[DEV_SPEC_TEXT_MAX + 32];
        serial_spec_format(&s->serial, dev, sizeof dev);
        snprintf(out, cap, "slcan:%s", dev);
        return;
    }
    snprintf(out, cap, "%s", s->ifname);
}
