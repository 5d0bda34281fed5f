#!/bin/sh
# SPDX-License-Identifier: MIT
# run --live --record: what really crossed the wires is recorded like a sim
# run. A Topband and a SuperB live run (in parallel, about 40 s) against
# bms-gateway on PTYs; python3-can reads victron.log (a 0x351 inside), the
# interop checks of record_check.py pass on the Victron and the CANopen bus,
# and `replay --check` on the Topband victron.log is clean.
# usage: live_record.sh BMSBENCH BMS_GATEWAY SOURCE_DIR WORKDIR   (exit 77 = skipped)
set -u
B=$1
G=$2
S=$3
W=$4
if [ ! -x "$G" ]; then
    echo "SKIP: $G not built"
    exit 77
fi
PY=
for p in /usr/bin/python3 python3; do
    if "$p" -c "import can" 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "FAIL: no python3 can import can: install python3-can (sh ci/install-deps.sh)"; exit 1; }
rm -rf "$W" && mkdir -p "$W" || exit 1
cd "$S" || exit 1
GW="$G --family {family} --bms-port {bms_port} --victron-can {victron_can} {settings}"
"$B" run --live --gateway "$GW" --record "$W/rec" scenarios/live/cell_high_live.yaml \
    >"$W/topband.out" 2>&1 &
tb=$!
"$B" run --live --gateway "$GW --bms-can {bms_can}" --record "$W/rec" \
    scenarios/live/superb_three_live.yaml >"$W/superb.out" 2>&1
sb=$?
wait $tb
tb=$?
cat "$W/topband.out" "$W/superb.out"
[ $tb -eq 0 ] || { echo "FAIL: topband live run exit $tb"; exit 1; }
[ $sb -eq 0 ] || { echo "FAIL: superb live run exit $sb"; exit 1; }
T=$W/rec/cell_high_live
U=$W/rec/superb_three_live
for f in $T/victron.log $T/victron.asc $T/victron.pcap $T/bms-serial.txt $T/signals.csv \
         $U/victron.log $U/bms.log $U/bms.pcap; do
    [ -s "$f" ] || { echo "FAIL: $f missing or empty"; exit 1; }
done
"$PY" - "$T/victron.log" <<'PYEOF' || exit 1
import can, sys
ms = list(can.CanutilsLogReader(sys.argv[1]))
lim = [m for m in ms if m.arbitration_id == 0x351]
if not lim:
    sys.exit("FAIL: no 0x351 among %d frames of %s" % (len(ms), sys.argv[1]))
span = ms[-1].timestamp - ms[0].timestamp
# Wall-clock times: a 40 s run spans tens of seconds of frames.
if not 20 < span < 45:
    sys.exit("FAIL: frames span %.1f s, want the run's wall-clock 40 s" % span)
print("python-can: %d frames, %d x 0x351 over %.1f s" % (len(ms), len(lim), span))
PYEOF
"$PY" "$S/tests/cli/record_check.py" "$T" victron can0 --serial topband || exit 1
"$PY" "$S/tests/cli/record_check.py" "$U" bms can1 --sdo || exit 1
"$B" replay --check --cells 16 "$T/victron.log" >"$W/check.out" 2>&1
rc=$?
tail -n 3 "$W/check.out"
[ $rc -eq 0 ] || { echo "FAIL: replay --check on the live victron.log: exit $rc"; exit 1; }
grep -q "no violations" "$W/check.out" || { echo "FAIL: replay --check not clean"; exit 1; }
echo "live record: ok"
