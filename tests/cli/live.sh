#!/bin/sh
# SPDX-License-Identifier: MIT
# Live mode's bad inputs end fast with a clear message, and `bmsbench ports` runs.
# usage: live.sh BMSBENCH SOURCE_DIR
set -u
B=$1
S=$2
cd "$S" || exit 1
fail=0
check() { # name expected_rc actual_rc output pattern
    if [ "$3" -ne "$2" ] || ! printf '%s' "$4" | grep -q -- "$5"; then
        echo "FAIL $1: exit $3 (want $2), output lacks '$5':"; printf '%s\n' "$4"; fail=1
    else
        echo "ok   $1"
    fi
}
out=$("$B" run --live --bms-port /dev/bmsbench-no-such-port --can slcan:/dev/bmsbench-no-such-can \
      scenarios/live/cell_high_live.yaml 2>&1); rc=$?
check missing_device 2 $rc "$out" "/dev/bmsbench-no-such-port: No such file or directory"

start=$(date +%s)
out=$("$B" run --live --gateway 'echo gateway says bye; exit 3' scenarios/live/cell_high_live.yaml 2>&1); rc=$?
check gateway_exits_at_once 1 $rc "$out" "gateway process exited with status 3; its last output: 'gateway says bye'"
[ $(( $(date +%s) - start )) -le 5 ] || { echo "FAIL gateway_exits_at_once: took too long (a hang)"; fail=1; }

out=$("$B" run --live --gateway 'kill -SEGV $$' scenarios/live/cell_high_live.yaml 2>&1); rc=$?
check gateway_crashes 1 $rc "$out" "killed by signal 11"

out=$("$B" run --live --gateway true scenarios/topband/pack_silent.yaml 2>&1); rc=$?
check sim_only_refused 2 $rc "$out" "sim-only scenario"

out=$("$B" run --live scenarios/live/cell_high_live.yaml 2>&1); rc=$?
check board_needs_ports 2 $rc "$out" "--bms-port DEV and --can"

out=$("$B" run --gateway x scenarios/live/cell_high_live.yaml 2>&1); rc=$?
check gateway_needs_live 2 $rc "$out" "need --live"

out=$("$B" run --live --bms-port /dev/null --can slcan:/dev/null scenarios/live/superb_three_live.yaml 2>&1); rc=$?
check superb_board_refused 2 $rc "$out" "superb live needs --gateway"

out=$("$B" ports 2>&1); rc=$?
check ports_header 0 $rc "$out" "^SERIAL PORTS"
check ports_can_header 0 $rc "$out" "CAN INTERFACES"
exit $fail
