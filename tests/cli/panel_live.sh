#!/bin/sh
# SPDX-License-Identifier: MIT
# bmsbench panel --live, headless: bms-gateway on PTYs (as live_gateway.sh),
# a PNG at 10 s of wall time showing the CVL the gateway sent, the exit
# summary saying 0x351 was seen; live-only option errors exit 2.
# usage: panel_live.sh BMSBENCH BMS_GATEWAY SOURCE_DIR OUT_DIR   (77 = skipped)
set -u
B=$1 G=$2 SRC=$3 OUT=$4
if [ ! -x "$G" ]; then
    echo "SKIP: $G not built"
    exit 77
fi
rm -rf "$OUT" && mkdir -p "$OUT" || exit 1
cd "$SRC" || exit 1
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }
unset DISPLAY WAYLAND_DISPLAY
SC=scenarios/live/superb_three_live.yaml   # the shortest live scenario (30 s)
GW="$G --family {family} --bms-port {bms_port} --victron-can {victron_can} --bms-can {bms_can} {settings}"

t0=$(date +%s)
"$B" panel --live --gateway "$GW" "$SC" --snapshot "$OUT/live.png" --at 10s \
    >"$OUT/out.txt" 2>"$OUT/err.txt"
rc=$?
t1=$(date +%s)
cat "$OUT/out.txt" "$OUT/err.txt"
check "live snapshot exits 0" "[ $rc -eq 0 ]"
# Wall time, not simulated: it takes the 10 s, and stops there (not at 30 s).
check "ran 10 s of wall time, no more" "[ $((t1 - t0)) -ge 9 ] && [ $((t1 - t0)) -le 20 ]"
check "snapshot written at 10 s" "grep -q 'live.png at 1[01]\.[0-9] s' '$OUT/out.txt'"
check "summary: the gateway's 0x351 was seen" \
    "grep -Eq '^panel: live .*seen_351=yes can_frames=[1-9][0-9]* .*live_failures=0' '$OUT/out.txt'"
# The CVL strip chart (plot area right of the bank, top chart) has its line
# drawn in the CVL colour: only there when 0x351 frames reached the GX view.
python3 - "$OUT/live.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
w, h, depth, ctype = struct.unpack('>IIBB', data[16:26])
assert (w, h) == (1280, 720), f'size {w}x{h}'
bpp = {2: 3, 6: 4}[ctype]
idat, pos = b'', 8
while pos < len(data):
    n, = struct.unpack('>I', data[pos:pos + 4])
    if data[pos + 4:pos + 8] == b'IDAT':
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
stride = w * bpp
rows, prev = [], bytearray(stride)
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line
cvl = 0
for y in range(140, 260):
    for x in range(575, 915):
        px = rows[y][x * bpp:x * bpp + 3]
        cvl += bytes(px) == bytes([0xF0, 0xDC, 0x50])
assert cvl >= 3, f'no CVL line in the chart ({cvl} pixels)'
print(f'png ok, CVL line pixels {cvl}')
PY
check "PNG 1280x720 with the CVL line" "[ $? -eq 0 ]"

"$B" panel --live --gateway "$GW" scenarios/topband/pack_silent.yaml --snapshot "$OUT/x.png" \
    >/dev/null 2>"$OUT/simonly.txt"
check "sim-only scenario exits 2" "[ $? -eq 2 ] && grep -q 'sim-only' '$OUT/simonly.txt'"
"$B" panel --live --gateway "$GW" --speed 10 "$SC" >/dev/null 2>"$OUT/speed.txt"
check "--speed with --live exits 2" "[ $? -eq 2 ] && grep -q 'sim-only' '$OUT/speed.txt'"
"$B" panel --gateway "$GW" "$SC" >/dev/null 2>"$OUT/nolive.txt"
check "--gateway without --live exits 2" "[ $? -eq 2 ] && grep -q 'need --live' '$OUT/nolive.txt'"
exit $fail
