#!/bin/sh
# SPDX-License-Identifier: MIT
# CLI test of `bmsbench emulate topband --stdio`: reply shape, checksums
# recomputed here with awk (independent of the C codec), and exit codes.
# Usage: emulate_topband.sh /path/to/bmsbench
set -u
BIN=${1:?usage: emulate_topband.sh /path/to/bmsbench}
if [ ! -x "$BIN" ]; then
    echo "FAIL: $BIN is not an executable (is bmsbench built?)" >&2
    exit 1
fi
CR=$(printf '\r')
fails=0

fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

# check_frame FRAME: FRAME is one reply without its CR. Prints nothing and
# succeeds when LENGTH (LCHKSUM + LENID) and CHKSUM are right; else says why.
check_frame() {
    printf '%s\n' "$1" | awk '
    function hex(s,    i, v, d) {
        v = 0
        for (i = 1; i <= length(s); i++) {
            d = index("0123456789ABCDEF", toupper(substr(s, i, 1)))
            if (d == 0) return -1
            v = v * 16 + d - 1
        }
        return v
    }
    BEGIN { for (i = 32; i < 127; i++) ord[sprintf("%c", i)] = i }
    {
        f = $0
        if (substr(f, 1, 1) != "~") { print "no SOI"; exit 1 }
        len = hex(substr(f, 10, 4))
        lenid = len % 4096
        lchk = int(len / 4096)
        nib = (lenid % 16) + (int(lenid / 16) % 16) + int(lenid / 256)
        if (lchk != (16 - nib % 16) % 16) { print "bad LCHKSUM " lchk; exit 1 }
        if (length(f) != 17 + lenid) { print "length " length(f) " but LENID " lenid; exit 1 }
        sum = 0
        for (i = 2; i <= length(f) - 4; i++) sum += ord[substr(f, i, 1)]
        want = (65536 - sum % 65536) % 65536
        got = hex(substr(f, length(f) - 3, 4))
        if (got != want) { printf "CHKSUM %04X want %04X\n", got, want; exit 1 }
    }'
}

# run_emu INPUT ARGS...: feeds INPUT (printf format) to the emulator, sets
# $out (raw stdout, CRs kept) and $rc.
run_emu() {
    input=$1
    shift
    out=$(printf "$input" | "$BIN" emulate "$@"; echo "rc=$?")
    rc=${out##*rc=}
    out=${out%rc=*}
}

# 1. A 0x42 poll of pack 1 on a two-pack bus: one EET 16-cell reply.
run_emu '~21014642E00201FD34\r' topband --stdio --packs 2
[ "$rc" = 0 ] || fail "poll: exit $rc, want 0"
case "$out" in
    "~21014600"*"$CR") ;;
    *) fail "poll: reply '$out' does not start with ~21014600 and end with CR" ;;
esac
frame=${out%"$CR"}
# 16 cells, 7 temperatures, P = 4: INFO 64 bytes -> LENID 128 -> 145 chars + CR.
[ ${#frame} -eq 145 ] || fail "poll: reply is ${#frame} chars without CR, want 145"
why=$(check_frame "$frame") || fail "poll: $why"
case "$frame" in
    "~210146008080011"*) ;;
    *) fail "poll: header/echo/cells wrong in '$frame'" ;;
esac

# 2. Bad CHKSUM: the pack answers RTN 02 with no INFO.
run_emu '~21014642E00201FD35\r' topband --stdio --packs 2
[ "$rc" = 0 ] || fail "bad checksum: exit $rc, want 0"
frame=${out%"$CR"}
case "$frame" in
    "~210146020000"????) ;;
    *) fail "bad checksum: reply '$frame', want ~210146020000xxxx" ;;
esac
why=$(check_frame "$frame") || fail "bad checksum reply: $why"

# 3. Two requests in one chunk, one to an absent address: exactly one reply (ADR 0).
run_emu '~21054642E00205FD2C\r~21004642E00200FD36\r' topband --stdio --packs 2 --family topbms --cells 15
n=$(printf '%s' "$out" | tr -cd '~' | wc -c)
[ "$n" -eq 1 ] || fail "absent address: $n replies, want 1"
case "$out" in
    "~52004600808000"*) ;;
    *) fail "topbms: reply '$out' does not start with ~52004600808000" ;;
esac
why=$(check_frame "${out%"$CR"}") || fail "topbms reply: $why"

# 4. Exit codes.
"$BIN" emulate --help >/dev/null 2>&1 || fail "--help: exit $?, want 0"
"$BIN" emulate --help 2>/dev/null | grep -q '^Usage: bmsbench emulate' || fail "--help: no usage on stdout"
"$BIN" emulate topband --stdio --bogus </dev/null >/dev/null 2>&1
rc=$?; [ "$rc" = 2 ] || fail "bad option: exit $rc, want 2"
"$BIN" emulate --stdio </dev/null >/dev/null 2>&1
rc=$?; [ "$rc" = 2 ] || fail "no family: exit $rc, want 2"
"$BIN" emulate pylontech --stdio </dev/null >/dev/null 2>&1
rc=$?; [ "$rc" = 2 ] || fail "unknown family: exit $rc, want 2"
"$BIN" emulate topband --port /dev/null </dev/null >/dev/null 2>&1
rc=$?; [ "$rc" = 2 ] || fail "--port: exit $rc, want 2"

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed" >&2
    exit 1
fi
echo "ok"
