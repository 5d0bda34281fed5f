#!/bin/sh
# SPDX-License-Identifier: MIT
# End to end with no kernel CAN: bmsbench run --live starts bms-gateway on a
# BMS PTY and an SLCAN PTY and checks the short live scenarios on the wire;
# superb gets a second SLCAN PTY for the batteries' CANopen bus ({bms_can}).
# usage: live_gateway.sh BMSBENCH BMS_GATEWAY SOURCE_DIR   (exit 77 = skipped)
set -u
B=$1
G=$2
cd "$3" || exit 1
if [ ! -x "$G" ]; then
    echo "SKIP: $G not built"
    exit 77
fi
serial=$(ls scenarios/live/*.yaml | grep -v superb)
# shellcheck disable=SC2086 # one word per scenario file
"$B" run --live --gateway "$G --family {family} --bms-port {bms_port} --victron-can {victron_can} {settings}" \
    --verbose $serial || exit 1
"$B" run --live \
    --gateway "$G --family {family} --bms-port {bms_port} --victron-can {victron_can} --bms-can {bms_can} {settings}" \
    --verbose scenarios/live/superb_*.yaml
