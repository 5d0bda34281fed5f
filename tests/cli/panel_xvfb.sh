#!/bin/sh
# SPDX-License-Identifier: MIT
# The interactive panel under Xvfb: xdotool presses 's' (silence the selected
# pack, pack 1 by default); the recorded session must hold the fault and the
# run must have seen the pack go offline (0x372 modules_offline = 1).
set -u
BIN=$1 SRC=$2 OUT=$3
SC=$SRC/scenarios/topband/pack_silent.yaml
rm -rf "$OUT" && mkdir -p "$OUT" || exit 1
cd "$OUT" || exit 1
cat >drive.sh <<DRIVE
#!/bin/sh
"$BIN" panel "$SC" --speed 5 --exit-after 60s --record-events "$OUT/session.yaml" >"$OUT/panel.txt" 2>"$OUT/panel.err" &
pid=\$!
win=\$(xdotool search --sync --name 'bmsbench panel' | head -n 1)
sleep 0.5
xdotool windowfocus --sync "\$win" 2>/dev/null
xdotool key --window "\$win" s
wait \$pid
echo "panel exit \$?" >>"$OUT/panel.txt"
DRIVE
timeout 150 xvfb-run -a -s "-screen 0 1280x800x24" sh drive.sh
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }
cat "$OUT/panel.txt" "$OUT/panel.err"
check "panel exited 0" "grep -q 'panel exit 0' '$OUT/panel.txt'"
check "one event injected" "grep -q 'injected=1' '$OUT/panel.txt'"
check "the run saw the pack offline" "grep -q 'modules_offline=1' '$OUT/panel.txt'"
check "session holds the silent fault" "grep -q 'silent' '$OUT/session.yaml'"
# The saved session loads and replays the fault (the pack stays silent to the end).
"$BIN" run "$OUT/session.yaml" >"$OUT/replay.txt" 2>&1
check "saved session loads" "! grep -q 'error' '$OUT/replay.txt'"
exit $fail
