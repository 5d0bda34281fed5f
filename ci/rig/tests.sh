#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside the rig VM (busybox sh): the live scenario subset over SJA1000 +
# FTDI adapters, over vcan0 and over an SLCAN PTY pair, in parallel; prints
# each test's verdict and log between @@RIG@@ markers on the console.
#
# Tests (rig.tests=a,b on the kernel command line picks some; rig.serial=1
# runs them one after the other):
#   sja1000_ftdi  bms-gateway on can1 (kvaser_pci SJA1000, can1@500000 through
#                 libsocketcan) and usb:0403:6001:BOARD01; the bench on can0
#                 (bitrate by rig-canup, libsocketcan) and the adapter whose
#                 serial number `bmsbench ports` shows as BENCH01. The two FTDI
#                 adapters are joined on the host by socat, can0/can1 share
#                 one QEMU can-bus.
#   vcan          run --live --gateway bms-gateway --can vcan0 (BMS over a PTY)
#   slcan_pty     run --live --gateway bms-gateway: the Victron side is SLCAN,
#                 the gateway the host end, the bench the adapter end of a PTY
#                 pair. (The kernel slcan driver is not used: it never answers
#                 the Lawicel set-up commands S6/O with CR as an adapter does,
#                 so a gateway opening the bus would wait for the adapter.)
set -u

BIN=${RIG_BIN:-/bin}
SC=${RIG_SCENARIOS:-/scenarios/live}
OUT=${RIG_OUT:-/tmp/rig}
VID_PID=0403:6001

# One scenario per transport keeps boot plus subset near 90 s (RIG_SC_* overrides).
SC_SJA=${RIG_SC_SJA:-$SC/pack_silent_live.yaml}
SC_VCAN=${RIG_SC_VCAN:-$SC/cell_high_live.yaml}
SC_SLCAN=${RIG_SC_SLCAN:-$SC/all_packs_silent_live.yaml}

cmdline_value() { # KEY -> value of KEY=... on the kernel command line
    for w in $(cat /proc/cmdline 2>/dev/null); do
        case "$w" in "$1"=*) echo "${w#*=}"; return 0 ;; esac
    done
    return 1
}

# The serial port `bmsbench ports` lists for VID:PID and serial number, as a
# user would pick a real adapter (the bench's --bms-port takes a path).
port_by_serial() {
    "$BIN/bmsbench" ports 2>/dev/null | awk -v vp="$1" -v sn="$2" \
        '$3 == vp && $4 == sn { print $1; found = 1; exit } END { exit !found }'
}

can_bitrate() { # IFACE -> the bitrate column of `bmsbench ports`
    "$BIN/bmsbench" ports 2>/dev/null | awk -v i="$1" '$1 == i { print $4; exit }'
}

# Frame and error counters: QEMU's can-bus delivers a burst at once, where a
# real bus spaces it out, so a receiving SJA1000's FIFO can overrun.
can_stats() {
    for i in "$@"; do
        d=/sys/class/net/$i/statistics
        echo "$i: tx $(cat "$d/tx_packets") rx $(cat "$d/rx_packets") rx_over_errors" \
             "$(cat "$d/rx_over_errors") rx_errors $(cat "$d/rx_errors") rx_dropped $(cat "$d/rx_dropped")"
    done
}

# A process still running? (a zombie counts as gone)
alive() {
    kill -0 "$1" 2>/dev/null || return 1
    ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

test_sja1000_ftdi() {
    for i in can0 can1; do
        [ -d "/sys/class/net/$i" ] || { echo "FAIL: no $i (kvaser_pci / sja1000 not loaded?)"; return 1; }
    done
    echo "bmsbench ports:"
    "$BIN/bmsbench" ports
    bench_port=$(port_by_serial "$VID_PID" BENCH01) ||
        { echo "FAIL: no USB serial adapter $VID_PID serial BENCH01 in bmsbench ports"; return 1; }
    port_by_serial "$VID_PID" BOARD01 >/dev/null ||
        { echo "FAIL: no USB serial adapter $VID_PID serial BOARD01 in bmsbench ports"; return 1; }
    echo "bench BMS port: $bench_port (usb:$VID_PID:BENCH01)"
    "$BIN/rig-canup" can0 500000 || { echo "FAIL: cannot bring can0 up at 500000 bit/s"; return 1; }

    # The bench first, as a powered test rack would be: a gateway started
    # earlier scans the bus while no pack answers and waits for its next scan.
    timeout 120 "$BIN/bmsbench" run --live --bms-port "$bench_port" --can can0 "$SC_SJA" \
        >"$OUT/sja1000_ftdi.bench.log" 2>&1 &
    bench=$!
    sleep 1
    "$BIN/bms-gateway" --bms-port "usb:$VID_PID:BOARD01" --victron-can can1@500000 \
        >"$OUT/sja1000_ftdi.gw.log" 2>&1 &
    gw=$!
    rc=0
    sleep 2
    br=$(can_bitrate can1)
    if [ "$br" != 500000 ]; then
        echo "FAIL: can1 runs at '$br' bit/s after bms-gateway set can1@500000"
        rc=1
    fi
    wait "$bench" || rc=1
    cat "$OUT/sja1000_ftdi.bench.log"
    if ! alive "$gw"; then
        wait "$gw"
        echo "FAIL: bms-gateway ended during the run with status $?"
        rc=1
    else
        kill -TERM "$gw"
        wait "$gw"
    fi
    can_stats can1 can0
    over=$(cat /sys/class/net/can0/statistics/rx_over_errors)
    [ "$over" = 0 ] || echo "note: can0 lost frames to $over FIFO overruns (QEMU -smp > 1?)"
    echo "bms-gateway log:"
    cat "$OUT/sja1000_ftdi.gw.log"
    return "$rc"
}

test_vcan() {
    [ -d /sys/class/net/vcan0 ] || { echo "FAIL: no vcan0 (vcan not loaded?)"; return 1; }
    timeout 120 "$BIN/bmsbench" run --live --gateway "$BIN/bms-gateway" --can vcan0 "$SC_VCAN"
}

test_slcan_pty() {
    timeout 120 "$BIN/bmsbench" run --live --gateway "$BIN/bms-gateway" "$SC_SLCAN"
}

run_one() { # NAME: log to $OUT/NAME.log, "rc seconds" to $OUT/NAME.rc
    t0=$(date +%s)
    "test_$1" >"$OUT/$1.log" 2>&1
    rc=$?
    echo "$rc $(($(date +%s) - t0))" >"$OUT/$1.rc"
}

main() {
    mkdir -p "$OUT"
    tests=$(cmdline_value rig.tests | tr ',' ' ')
    [ -n "$tests" ] || tests="sja1000_ftdi vcan slcan_pty"
    for t in $tests; do
        case "$t" in
        sja1000_ftdi | vcan | slcan_pty) ;;
        *) echo "unknown rig test '$t'" >"$OUT/$t.log"; echo "2 0" >"$OUT/$t.rc"; continue ;;
        esac
        if [ "$(cmdline_value rig.serial)" = 1 ]; then
            run_one "$t"
        else
            run_one "$t" &
        fi
    done
    wait

    echo "@@RIG@@ BEGIN"
    for t in $tests; do
        set -- $(cat "$OUT/$t.rc" 2>/dev/null || echo "1 0")
        verdict=pass
        [ "$1" = 0 ] || verdict=fail
        echo "@@RIG@@ TEST $t $verdict $2"
        sed 's/^/@@RIG@@ | /' "$OUT/$t.log"
    done
    echo "@@RIG@@ END"
}

main "$@"
