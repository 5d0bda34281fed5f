#!/bin/sh
# SPDX-License-Identifier: MIT
# bmsbench panel --snapshot: valid PNGs of the asked size at two times, usage
# errors exit 2, --live is refused with its message.
set -u
BIN=$1 SRC=$2 OUT=$3
SC=$SRC/scenarios/topband/pack_silent.yaml
rm -rf "$OUT" && mkdir -p "$OUT" || exit 1
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }

unset DISPLAY WAYLAND_DISPLAY
"$BIN" panel "$SC" --snapshot "$OUT/shot.png" --at 90s --at 12min >"$OUT/out.txt" 2>"$OUT/err.txt"
check "snapshot exits 0 without a display" "[ $? -eq 0 ]"
check "one file per time" "[ -f '$OUT/shot-90s.png' ] && [ -f '$OUT/shot-720s.png' ]"
# PNG signature, IHDR size, and the two moments differ (the picture follows the run).
python3 - "$OUT/shot-90s.png" "$OUT/shot-720s.png" <<'PY'
import struct, sys, zlib
imgs = []
for path in sys.argv[1:]:
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', f'{path}: not a PNG signature'
    assert data[12:16] == b'IHDR', f'{path}: first chunk is not IHDR'
    w, h = struct.unpack('>II', data[16:24])
    assert (w, h) == (1280, 720), f'{path}: size {w}x{h}'
    assert data[-8:-4] == b'IEND', f'{path}: no IEND at the end'
    idat = b''
    pos = 8
    while pos < len(data):
        n, = struct.unpack('>I', data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        if kind == b'IDAT':
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    imgs.append(zlib.decompress(idat))
assert imgs[0] != imgs[1], 'the two snapshots are identical'
print('png ok')
PY
check "PNGs valid, 1280x720, different" "[ $? -eq 0 ]"

"$BIN" panel "$SC" --snapshot "$OUT/small.png" --at 1min --size 640x360 >/dev/null 2>&1
check "--size 640x360" "python3 -c \"import struct;d=open('$OUT/small.png','rb').read();assert struct.unpack('>II',d[16:24])==(640,360)\""

"$BIN" panel "$SC" --snapshot "$OUT/x.png" --at 10h >/dev/null 2>"$OUT/late.txt"
check "--at after the end exits 2" "[ $? -eq 2 ]"
"$BIN" panel "$SC" --snapshot "$OUT/x.png" --at banana >/dev/null 2>&1
check "bad --at exits 2" "[ $? -eq 2 ]"
"$BIN" panel --live --port /dev/null >/dev/null 2>"$OUT/live.txt"
check "--live with an unknown option exits 2" "[ $? -eq 2 ]"
check "--live names the unknown option" "grep -q \"unrecognized option '--port'\" '$OUT/live.txt'"
"$BIN" panel --live "$SC" >/dev/null 2>"$OUT/live2.txt"
check "--live refuses a sim-only scenario" "[ $? -eq 2 ]"
"$BIN" panel "$SC" --snapshot "$OUT/x.png" --font /nonexistent/font.ttf >/dev/null 2>"$OUT/font.txt"
check "missing font exits 1" "[ $? -eq 1 ]"
check "missing font message" "grep -q \"font '/nonexistent/font.ttf' not found\" '$OUT/font.txt'"
"$BIN" panel --help >"$OUT/help.txt" 2>&1
check "--help lists the keys" "grep -q 'silence the selected pack' '$OUT/help.txt'"
exit $fail
