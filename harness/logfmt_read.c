/* SPDX-License-Identifier: MIT */
/* CAN log and serial capture readers: grammar and contract in logfmt_read.h. */
#include "harness/logfmt_read.h"

#include <stdarg.h>
#include <string.h>

/* A cursor over one line: every read checks p < e, so no input can make
 * the parser step outside the line. */
typedef struct cur {
    const char *p, *e;
} cur_t;

/* Hex digit values, -1 for anything else: one load instead of three compares
 * on the hot path (a large capture is mostly hex digits). */
static const int8_t hex_lut[256] = {
    ['0'] = 0 + 1, ['1'] = 1 + 1, ['2'] = 2 + 1, ['3'] = 3 + 1, ['4'] = 4 + 1,
    ['5'] = 5 + 1, ['6'] = 6 + 1, ['7'] = 7 + 1, ['8'] = 8 + 1, ['9'] = 9 + 1,
    ['A'] = 10 + 1, ['B'] = 11 + 1, ['C'] = 12 + 1, ['D'] = 13 + 1, ['E'] = 14 + 1,
    ['F'] = 15 + 1, ['a'] = 10 + 1, ['b'] = 11 + 1, ['c'] = 12 + 1, ['d'] = 13 + 1,
    ['e'] = 14 + 1, ['f'] = 15 + 1,
};

static int hexval(char c)
{
    return hex_lut[(unsigned char)c] - 1; /* stored +1 so that 0 means "not hex" */
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Eight ASCII characters as a little-endian word: the first character in the
 * low byte (explicit, whatever the host's byte order). */
static uint64_t load8(const char *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 | (uint64_t)b[3] << 24 |
           (uint64_t)b[4] << 32 | (uint64_t)b[5] << 40 | (uint64_t)b[6] << 48 |
           (uint64_t)b[7] << 56; /* one load on a little-endian host */
}

/* All eight bytes of x in '0'..'9'? A byte's high nibble must be 3, and
 * adding 6 must not carry it to 4 (':'..'?'); a byte >= 0xFA that carries
 * into its neighbour already fails its own high-nibble test. */
static bool all_digits8(uint64_t x)
{
    uint64_t hi = x & 0xF0F0F0F0F0F0F0F0ull;
    uint64_t lo = ((x + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) >> 4;
    return (hi | lo) == 0x3333333333333333ull;
}

/* The value of eight checked decimal digits (first character most
 * significant): pairs, then quads, then the whole, three multiplies in all
 * instead of eight multiply-adds and eight branches. */
static uint64_t digits8(uint64_t x)
{
    x = ((x & 0x0F0F0F0F0F0F0F0Full) * 2561u) >> 8;
    x = ((x & 0x00FF00FF00FF00FFull) * 6553601u) >> 16;
    return ((x & 0x0000FFFF0000FFFFull) * 42949672960001ull) >> 32;
}

/* The line candump -L (and our recorder) writes almost always:
 * "(SSSSSSSSSS.UUUUUU) IFACE III#DD..DD" with an 11-bit id and up to 8 bytes.
 * Parsed at fixed positions; anything else returns 0 and the general parser
 * (which also produces the error messages) takes the line. */
static int parse_candump_l_fast(const char *l, size_t len, bench_logframe_t *f)
{
    if (len < 25 || l[0] != '(' || l[11] != '.' || l[18] != ')' || l[19] != ' ' ||
        !is_digit(l[1]) || !is_digit(l[2])) {
        return 0;
    }
    /* Seconds: two digits, then eight in one word. Microseconds: the word
     * l[10..17] is "S.UUUUUU"; its first two characters become "00". */
    uint64_t sw = load8(l + 3);
    uint64_t uw = (load8(l + 10) & ~0xFFFFull) | 0x3030u;
    if (!all_digits8(sw) || !all_digits8(uw)) {
        return 0;
    }
    uint64_t sec = (uint64_t)((l[1] - '0') * 10 + (l[2] - '0')) * 100000000u + digits8(sw);
    uint64_t usec = digits8(uw);
    const char *p = l + 20, *e = l + len;
    const char *sp = memchr(p, ' ', (size_t)(e - p));
    if (sp == NULL || sp == p || (size_t)(sp - p) > BENCH_LOG_IFACE_MAX) {
        return 0;
    }
    const char *fr = sp + 1;
    size_t rest = (size_t)(e - fr);
    if (rest < 4 || fr[3] != '#' || ((rest - 4) & 1u) != 0 || rest - 4 > 16) {
        return 0;
    }
    int h0 = hexval(fr[0]), h1 = hexval(fr[1]), h2 = hexval(fr[2]);
    if (h0 < 0 || h0 > 7 || h1 < 0 || h2 < 0) {
        return 0;
    }
    /* Data: no branch per character; a non-hex character (-1, all bits
     * set) is caught once after the loop through the OR of every value. */
    uint8_t n = (uint8_t)((rest - 4) / 2);
    int bad = 0;
    const char *d = fr + 4;
    for (uint8_t i = 0; i < n; i++) {
        int hi = hexval(d[2 * i]), lo = hexval(d[2 * i + 1]);
        bad |= hi | lo;
        f->data[i] = (uint8_t)(hi << 4 | lo);
    }
    if (bad < 0) {
        return 0;
    }
    size_t ifl = (size_t)(sp - p);
    memcpy(f->iface, p, ifl);
    f->iface[ifl] = '\0';
    f->t_us = sec * 1000000u + usec;
    f->has_time = true;
    f->id = (uint32_t)(h0 << 8 | h1 << 4 | h2);
    f->dlc = n;
    f->len = n;
    f->dir = 0;
    return 1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static void skip_spaces(cur_t *c)
{
    while (c->p < c->e && is_space(*c->p)) {
        c->p++;
    }
}

/* A token: the characters up to the next space. */
static size_t token(cur_t *c, const char **start)
{
    *start = c->p;
    while (c->p < c->e && !is_space(*c->p)) {
        c->p++;
    }
    return (size_t)(c->p - *start);
}

static bool tok_is(const char *t, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(t, word, n) == 0;
}

/* Seconds with a fraction ("1700000000.123456") into microseconds. Returns
 * the number of fractional digits, or -1. At most 12 integer digits, so
 * the result fits a uint64_t. */
static int parse_time(const char *t, size_t n, uint64_t *us)
{
    size_t i = 0;
    uint64_t sec = 0;
    while (i < n && t[i] >= '0' && t[i] <= '9') {
        if (i >= 12) {
            return -1;
        }
        sec = sec * 10u + (uint64_t)(t[i] - '0');
        i++;
    }
    if (i == 0 || i >= n || t[i] != '.') {
        return -1;
    }
    i++;
    int digits = 0;
    uint64_t frac = 0;
    while (i < n && t[i] >= '0' && t[i] <= '9') {
        if (digits < 6) {
            frac = frac * 10u + (uint64_t)(t[i] - '0');
        }
        if (++digits > 9) {
            return -1;
        }
        i++;
    }
    if (i != n || digits == 0) {
        return -1;
    }
    for (int d = digits; d < 6; d++) {
        frac *= 10u;
    }
    *us = sec * 1000000u + frac;
    return digits;
}

/* A hex CAN id of 1..8 digits. */
static bool parse_hex_id(const char *t, size_t n, uint32_t *id)
{
    if (n == 0 || n > 8) {
        return false;
    }
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int h = hexval(t[i]);
        if (h < 0) {
            return false;
        }
        v = (v << 4) | (uint32_t)h;
    }
    *id = v;
    return true;
}

static bool parse_dec(const char *t, size_t n, uint32_t max, uint32_t *out)
{
    if (n == 0 || n > 10) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] < '0' || t[i] > '9') {
            return false;
        }
        v = v * 10u + (uint64_t)(t[i] - '0');
    }
    if (v > max) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

static int fail(char *msg, size_t cap, const char *fmt, ...)
{
    if (msg != NULL && cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Quote at most 40 characters of a token for a message. */
#define TOKFMT "'%.*s'"
#define TOKARG(t, n) (int)((n) > 40 ? 40 : (n)), (t)

static bool valid_id(uint32_t id, bool eff)
{
    return eff ? id <= 0x1FFFFFFFu : id <= 0x7FFu;
}

/* ---- candump -L ---- */

static int parse_candump_l(cur_t *c, bench_logframe_t *f, char *msg, size_t cap)
{
    const char *t;
    size_t n;
    /* (SEC.FRAC) */
    const char *close = memchr(c->p, ')', (size_t)(c->e - c->p));
    if (close == NULL) {
        return fail(msg, cap, "timestamp: no closing ')'");
    }
    int digits = parse_time(c->p + 1, (size_t)(close - c->p - 1), &f->t_us);
    if (digits != 6 && digits != 9) {
        return fail(msg, cap, "timestamp " TOKFMT ": want (seconds.microseconds), 6 or 9 decimals",
                    TOKARG(c->p, (size_t)(close - c->p + 1)));
    }
    f->has_time = true;
    c->p = close + 1;
    skip_spaces(c);
    n = token(c, &t);
    if (n == 0) {
        return fail(msg, cap, "no interface name after the timestamp");
    }
    if (n > BENCH_LOG_IFACE_MAX) {
        return fail(msg, cap, "interface name longer than %d characters", BENCH_LOG_IFACE_MAX);
    }
    memcpy(f->iface, t, n);
    f->iface[n] = '\0';
    skip_spaces(c);
    n = token(c, &t);
    if (n == 0) {
        return fail(msg, cap, "no frame after the interface name");
    }
    const char *hash = memchr(t, '#', n);
    if (hash == NULL) {
        return fail(msg, cap, "frame " TOKFMT ": no '#' between id and data", TOKARG(t, n));
    }
    size_t idn = (size_t)(hash - t);
    if ((idn != 3 && idn != 8) || !parse_hex_id(t, idn, &f->id)) {
        return fail(msg, cap, "frame " TOKFMT ": id must be 3 or 8 hex digits", TOKARG(t, n));
    }
    bool eff = idn == 8;
    if (eff) {
        /* The error flag travels in the 8-digit id, as candump writes it. */
        uint32_t flags = f->id & BENCH_LOG_ERR;
        f->id &= 0x1FFFFFFFu;
        f->id |= flags != 0 ? BENCH_LOG_ERR : BENCH_LOG_EFF;
    }
    const char *d = hash + 1, *de = t + n;
    if (d < de && *d == '#') {
        return 0; /* CAN FD: not on a Victron BMS bus */
    }
    f->len = 0;
    if (d < de && (*d == 'R' || *d == 'r')) {
        f->id |= BENCH_LOG_RTR;
        d++;
        f->dlc = 0;
        if (d < de) {
            int h = hexval(*d);
            if (h < 0 || h > 8 || d + 1 != de) {
                return fail(msg, cap, "frame " TOKFMT ": remote length must be one digit 0..8",
                            TOKARG(t, n));
            }
            f->dlc = (uint8_t)h;
        }
    } else {
        while (d < de && *d != '_') {
            if (*d == '.') {
                d++;
                continue;
            }
            int hi = hexval(*d);
            int lo = d + 1 < de ? hexval(d[1]) : -1;
            if (hi < 0 || lo < 0) {
                return fail(msg, cap, "frame " TOKFMT ": data must be hex byte pairs", TOKARG(t, n));
            }
            if (f->len == 8) {
                return fail(msg, cap, "frame " TOKFMT ": more than 8 data bytes", TOKARG(t, n));
            }
            f->data[f->len++] = (uint8_t)(hi << 4 | lo);
            d += 2;
        }
        f->dlc = f->len;
        if (d < de) {
            int h = d + 1 < de ? hexval(d[1]) : -1;
            if (f->len != 8 || h < 9 || d + 2 != de) {
                return fail(msg, cap, "frame " TOKFMT ": raw DLC '_X' needs 8 bytes and X in 9..F",
                            TOKARG(t, n));
            }
            f->dlc = (uint8_t)h;
        }
    }
    if (!valid_id(f->id & 0x1FFFFFFFu, eff)) {
        return fail(msg, cap, "frame " TOKFMT ": id out of range", TOKARG(t, n));
    }
    skip_spaces(c);
    n = token(c, &t);
    if (n == 1 && (*t == 'R' || *t == 'T')) {
        f->dir = *t;
        skip_spaces(c);
        n = token(c, &t);
    }
    if (n != 0) {
        return fail(msg, cap, "unexpected " TOKFMT " after the frame", TOKARG(t, n));
    }
    return 1;
}

/* ---- candump default console output ---- */

static int parse_candump(cur_t *c, bench_logframe_t *f, char *msg, size_t cap)
{
    const char *t;
    size_t n;
    skip_spaces(c);
    if (c->p < c->e && *c->p == '(') {
        const char *close = memchr(c->p, ')', (size_t)(c->e - c->p));
        int digits = close == NULL ? -1 : parse_time(c->p + 1, (size_t)(close - c->p - 1), &f->t_us);
        if (digits != 6 && digits != 9) {
            return fail(msg, cap, "timestamp: want (seconds.microseconds)");
        }
        f->has_time = true;
        c->p = close + 1;
        skip_spaces(c);
    }
    n = token(c, &t);
    if (n == 0 || n > BENCH_LOG_IFACE_MAX) {
        return fail(msg, cap, "interface name missing or longer than %d characters",
                    BENCH_LOG_IFACE_MAX);
    }
    memcpy(f->iface, t, n);
    f->iface[n] = '\0';
    skip_spaces(c);
    n = token(c, &t);
    if ((n != 3 && n != 8) || !parse_hex_id(t, n, &f->id)) {
        return fail(msg, cap, "id " TOKFMT ": must be 3 or 8 hex digits", TOKARG(t, n));
    }
    bool eff = n == 8;
    if (!valid_id(f->id, eff)) {
        return fail(msg, cap, "id " TOKFMT ": out of range", TOKARG(t, n));
    }
    f->id |= eff ? BENCH_LOG_EFF : 0u;
    skip_spaces(c);
    n = token(c, &t);
    if (n < 3 || t[0] != '[' || t[n - 1] != ']') {
        return fail(msg, cap, "length " TOKFMT ": want [N]", TOKARG(t, n));
    }
    uint32_t dlc;
    if (!parse_dec(t + 1, n - 2, 15, &dlc)) {
        return fail(msg, cap, "length " TOKFMT ": want 0..15", TOKARG(t, n));
    }
    f->dlc = (uint8_t)dlc;
    skip_spaces(c);
    if ((size_t)(c->e - c->p) >= 14 && memcmp(c->p, "remote request", 14) == 0) {
        f->id |= BENCH_LOG_RTR;
        return 1;
    }
    unsigned want = dlc > 8 ? 8 : dlc;
    f->len = 0;
    for (;;) {
        skip_spaces(c);
        n = token(c, &t);
        if (n == 0 || (n == 1 && (*t == '\'' ))) {
            break;
        }
        if (*t == '\'') {
            break; /* -a: the ASCII column */
        }
        if (n != 2 || hexval(t[0]) < 0 || hexval(t[1]) < 0) {
            return fail(msg, cap, "data byte " TOKFMT ": want two hex digits", TOKARG(t, n));
        }
        if (f->len == 8) {
            return fail(msg, cap, "more than 8 data bytes");
        }
        f->data[f->len++] = (uint8_t)(hexval(t[0]) << 4 | hexval(t[1]));
    }
    if (f->len != want) {
        return fail(msg, cap, "[%u] announces %u data bytes, %u present", (unsigned)dlc, want,
                    (unsigned)f->len);
    }
    return 1;
}

/* ---- Vector ASC ---- */

static bool asc_header_word(const char *t, size_t n)
{
    static const char *const words[] = {"date", "base", "internal", "no", "Begin", "End",
                                        "//", "version"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (tok_is(t, n, words[i])) {
            return true;
        }
    }
    return n >= 2 && t[0] == '/' && t[1] == '/';
}

static int parse_asc(cur_t *c, bool dec, bench_logframe_t *f, char *msg, size_t cap)
{
    const char *t;
    size_t n;
    skip_spaces(c);
    n = token(c, &t);
    if (n == 0 || asc_header_word(t, n)) {
        return 0;
    }
    if (parse_time(t, n, &f->t_us) < 0) {
        return fail(msg, cap, "time " TOKFMT ": want seconds with decimals", TOKARG(t, n));
    }
    f->has_time = true;
    skip_spaces(c);
    n = token(c, &t);
    uint32_t chan;
    if (!parse_dec(t, n, 255, &chan)) {
        /* "Start of measurement", "CANFD ...", "CAN 1 Status:...": events, not classic frames. */
        return 0;
    }
    if (n > BENCH_LOG_IFACE_MAX) {
        return 0;
    }
    memcpy(f->iface, t, n);
    f->iface[n] = '\0';
    skip_spaces(c);
    n = token(c, &t);
    if (n == 0 || tok_is(t, n, "ErrorFrame") || tok_is(t, n, "Statistic:") ||
        tok_is(t, n, "Status:")) {
        return 0;
    }
    bool eff = t[n - 1] == 'x' || t[n - 1] == 'X';
    size_t idn = eff ? n - 1 : n;
    bool ok = dec ? parse_dec(t, idn, 0x1FFFFFFFu, &f->id) : parse_hex_id(t, idn, &f->id);
    if (!ok || !valid_id(f->id, eff)) {
        return fail(msg, cap, "id " TOKFMT ": want %s, 'x' suffix for 29-bit", TOKARG(t, n),
                    dec ? "a decimal number" : "hex");
    }
    f->id |= eff ? BENCH_LOG_EFF : 0u;
    skip_spaces(c);
    n = token(c, &t);
    if (tok_is(t, n, "Rx") || tok_is(t, n, "Tx")) {
        f->dir = t[0] == 'R' ? 'R' : 'T';
    } else {
        return fail(msg, cap, "direction " TOKFMT ": want Rx or Tx", TOKARG(t, n));
    }
    skip_spaces(c);
    n = token(c, &t);
    bool remote = tok_is(t, n, "r");
    if (!remote && !tok_is(t, n, "d")) {
        return fail(msg, cap, "frame type " TOKFMT ": want d or r", TOKARG(t, n));
    }
    skip_spaces(c);
    const char *save = c->p;
    n = token(c, &t);
    uint32_t dlc = 0;
    if (n == 1 && hexval(t[0]) >= 0) {
        dlc = (uint32_t)hexval(t[0]);
    } else if (remote) {
        c->p = save; /* before v8.5 a remote frame has no DLC */
    } else {
        return fail(msg, cap, "DLC " TOKFMT ": want one hex digit", TOKARG(t, n));
    }
    f->dlc = (uint8_t)dlc;
    f->len = 0;
    if (remote) {
        f->id |= BENCH_LOG_RTR;
        return 1;
    }
    unsigned want = dlc > 8 ? 8 : dlc;
    while (f->len < want) {
        skip_spaces(c);
        n = token(c, &t);
        if (n != 2 || hexval(t[0]) < 0 || hexval(t[1]) < 0) {
            return fail(msg, cap, "DLC %u but data byte %u is " TOKFMT, (unsigned)dlc,
                        (unsigned)f->len + 1, TOKARG(t, n));
        }
        f->data[f->len++] = (uint8_t)(hexval(t[0]) << 4 | hexval(t[1]));
    }
    /* CANoe appends "Length = ... BitCount = ... ID = ..."; anything else is damage. */
    skip_spaces(c);
    n = token(c, &t);
    if (n != 0 && !tok_is(t, n, "Length") && hexval(t[0]) >= 0 && n == 2) {
        return fail(msg, cap, "more data bytes than DLC %u", (unsigned)dlc);
    }
    return 1;
}

/* ---- serial capture ---- */

int bench_serialline_parse(const char *line, size_t len, bench_serialrec_t *s, char *msg,
                           size_t cap)
{
    cur_t c = {line, line + len};
    const char *t;
    size_t n;
    skip_spaces(&c);
    if (c.p == c.e || *c.p == '#') {
        return 0;
    }
    n = token(&c, &t);
    if (parse_time(t, n, &s->t_us) < 0) {
        return fail(msg, cap, "time " TOKFMT ": want seconds.microseconds", TOKARG(t, n));
    }
    skip_spaces(&c);
    n = token(&c, &t);
    /* "rx+"/"tx+": the line continues the previous line's frame (docs/recordings.md). */
    s->cont = n == 3 && t[2] == '+';
    if (s->cont) {
        n = 2;
    }
    if (tok_is(t, n, "rx") || tok_is(t, n, "to-gw") || tok_is(t, n, "<")) {
        s->to_gateway = true;
    } else if (tok_is(t, n, "tx") || tok_is(t, n, "from-gw") || tok_is(t, n, ">")) {
        s->to_gateway = false;
    } else {
        return fail(msg, cap, "direction " TOKFMT ": want rx or tx", TOKARG(t, n));
    }
    s->len = 0;
    while (c.p < c.e) {
        skip_spaces(&c);
        if (c.p == c.e || *c.p == '#') {
            break;
        }
        int hi = hexval(*c.p);
        int lo = c.p + 1 < c.e ? hexval(c.p[1]) : -1;
        if (hi < 0 || lo < 0) {
            return fail(msg, cap, "byte %u: want two hex digits", (unsigned)s->len + 1);
        }
        if (s->len == BENCH_LOG_SERIAL_MAX) {
            return fail(msg, cap, "more than %d bytes on one line", BENCH_LOG_SERIAL_MAX);
        }
        s->bytes[s->len++] = (uint8_t)(hi << 4 | lo);
        c.p += 2;
    }
    if (s->len == 0) {
        return fail(msg, cap, "no bytes");
    }
    return 1;
}

/* ---- one line, any format ---- */

bench_logfmt_t bench_logfmt_guess(const char *line, size_t len)
{
    cur_t c = {line, line + len};
    const char *t;
    skip_spaces(&c);
    if (c.p == c.e) {
        return BENCH_LOGFMT_AUTO;
    }
    if (*c.p == '(') {
        /* candump -L has ID#DATA as its third token; -t a console output has [N]. */
        const char *close = memchr(c.p, ')', (size_t)(c.e - c.p));
        if (close != NULL) {
            c.p = close + 1;
            skip_spaces(&c);
            (void)token(&c, &t);
            skip_spaces(&c);
            size_t n = token(&c, &t);
            if (memchr(t, '#', n) == NULL && c.p < c.e) {
                return BENCH_LOGFMT_CANDUMP;
            }
        }
        return BENCH_LOGFMT_CANDUMP_L;
    }
    size_t n = token(&c, &t);
    if (asc_header_word(t, n)) {
        return BENCH_LOGFMT_ASC;
    }
    if (n > 0 && t[0] >= '0' && t[0] <= '9') {
        skip_spaces(&c);
        size_t n2 = token(&c, &t);
        if (tok_is(t, n2, "rx") || tok_is(t, n2, "tx") || tok_is(t, n2, "rx+") ||
            tok_is(t, n2, "tx+") || tok_is(t, n2, "to-gw") ||
            tok_is(t, n2, "from-gw") || tok_is(t, n2, "<") || tok_is(t, n2, ">")) {
            return BENCH_LOGFMT_SERIAL;
        }
        return BENCH_LOGFMT_ASC;
    }
    if (n > 0 && t[0] == '#') {
        return BENCH_LOGFMT_AUTO; /* a comment in a serial capture or a candump -L log */
    }
    return BENCH_LOGFMT_CANDUMP;
}

int bench_logline_parse(bench_logfmt_t fmt, const char *line, size_t len, bool asc_dec,
                        bench_logframe_t *f, char *msg, size_t cap)
{
    /* The fast candump -L path fills every field itself; others start clean. */
    if (fmt != BENCH_LOGFMT_CANDUMP_L) {
        memset(f, 0, sizeof *f);
    }
    cur_t c = {line, line + len};
    switch (fmt) {
    case BENCH_LOGFMT_CANDUMP_L:
        /* As canplayer: a line not starting with '(' is a comment. */
        if (len == 0 || line[0] != '(') {
            return 0;
        }
        if (parse_candump_l_fast(line, len, f)) {
            return 1;
        }
        memset(f, 0, sizeof *f);
        return parse_candump_l(&c, f, msg, cap);
    case BENCH_LOGFMT_CANDUMP:
        skip_spaces(&c);
        if (c.p == c.e || *c.p == '#') {
            return 0;
        }
        return parse_candump(&c, f, msg, cap);
    case BENCH_LOGFMT_ASC:
        return parse_asc(&c, asc_dec, f, msg, cap);
    default:
        return fail(msg, cap, "not a CAN log format");
    }
}

const char *bench_logfmt_name(bench_logfmt_t fmt)
{
    switch (fmt) {
    case BENCH_LOGFMT_CANDUMP_L:
        return "candump-l";
    case BENCH_LOGFMT_CANDUMP:
        return "candump";
    case BENCH_LOGFMT_ASC:
        return "asc";
    case BENCH_LOGFMT_SERIAL:
        return "serial";
    default:
        return "auto";
    }
}

bool bench_logfmt_parse_name(const char *s, bench_logfmt_t *fmt)
{
    static const bench_logfmt_t all[] = {BENCH_LOGFMT_AUTO, BENCH_LOGFMT_CANDUMP_L,
                                         BENCH_LOGFMT_CANDUMP, BENCH_LOGFMT_ASC,
                                         BENCH_LOGFMT_SERIAL};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(s, bench_logfmt_name(all[i])) == 0) {
            *fmt = all[i];
            return true;
        }
    }
    return false;
}

/* ---- streaming ---- */

void bench_logreader_init(bench_logreader_t *r, FILE *in, const char *name, bench_logfmt_t fmt,
                          FILE *err)
{
    memset(r, 0, offsetof(bench_logreader_t, buf));
    r->in = in;
    snprintf(r->name, sizeof r->name, "%s", name != NULL ? name : "(input)");
    r->err = err;
    r->fmt = fmt;
}

static void report(bench_logreader_t *r, const char *what)
{
    r->malformed++;
    snprintf(r->last_error, sizeof r->last_error, "%s", what);
    if (r->err != NULL) {
        fprintf(r->err, "%s:%lu: %s\n", r->name, r->line, what);
    }
}

/* The next line (without its newline) in the buffer, or NULL at the end.
 * Over-long lines are reported and skipped here; a last line without a
 * newline is reported as truncated and dropped. */
static const char *next_line(bench_logreader_t *r, size_t *len)
{
    bool too_long = false;
    for (;;) {
        char *nl = r->start < r->end ? memchr(r->buf + r->start, '\n', r->end - r->start) : NULL;
        if (nl != NULL) {
            const char *l = r->buf + r->start;
            size_t n = (size_t)(nl - l);
            r->start += n + 1;
            r->line++;
            if (too_long || n > BENCH_LOG_LINE_MAX) {
                report(r, "line longer than 1024 characters");
                too_long = false;
                continue;
            }
            *len = n;
            return l;
        }
        if (r->eof) {
            if (r->start < r->end) {
                r->line++;
                r->truncated = true;
                r->start = r->end;
                report(r, "truncated line (no newline at the end of the file): dropped");
            }
            return NULL;
        }
        /* Move the partial line to the front, then fill. A partial line that
         * fills the whole buffer is far over the limit: drop what we have and
         * remember to drop the rest of that line. */
        size_t keep = r->end - r->start;
        if (keep == sizeof r->buf) {
            too_long = true;
            keep = 0;
        }
        memmove(r->buf, r->buf + r->start, keep);
        r->start = 0;
        r->end = keep;
        size_t got = r->in != NULL ? fread(r->buf + keep, 1, sizeof r->buf - keep, r->in) : 0;
        r->end += got;
        if (got == 0) {
            r->eof = true;
            if (too_long) {
                r->line++;
                r->truncated = true;
                report(r, "line longer than 1024 characters at the end of the file");
                return NULL;
            }
        }
    }
}

int bench_logreader_next(bench_logreader_t *r, bench_logframe_t *f)
{
    if (r->fmt == BENCH_LOGFMT_SERIAL) {
        return 0;
    }
    size_t len;
    const char *l;
    char msg[256];
    while ((l = next_line(r, &len)) != NULL) {
        if (r->fmt == BENCH_LOGFMT_AUTO) {
            r->fmt = bench_logfmt_guess(l, len);
            if (r->fmt == BENCH_LOGFMT_SERIAL) {
                return 0;
            }
            if (r->fmt == BENCH_LOGFMT_AUTO) {
                r->skipped++;
                continue;
            }
        }
        if (r->fmt == BENCH_LOGFMT_ASC && len >= 4 && memcmp(l, "base", 4) == 0) {
            r->asc_dec = memmem(l, len, "dec", 3) != NULL;
        }
        int rc = bench_logline_parse(r->fmt, l, len, r->asc_dec, f, msg, sizeof msg);
        if (rc > 0) {
            f->line = r->line;
            r->frames++;
            return 1;
        }
        if (rc == 0) {
            r->skipped++;
        } else {
            report(r, msg);
        }
    }
    return 0;
}

int bench_logreader_next_serial(bench_logreader_t *r, bench_serialrec_t *s)
{
    size_t len;
    const char *l;
    char msg[256];
    while ((l = next_line(r, &len)) != NULL) {
        int rc = bench_serialline_parse(l, len, s, msg, sizeof msg);
        if (rc > 0) {
            s->line = r->line;
            r->frames++;
            return 1;
        }
        if (rc == 0) {
            r->skipped++;
        } else {
            report(r, msg);
        }
    }
    return 0;
}
