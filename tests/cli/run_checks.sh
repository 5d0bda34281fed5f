#!/bin/sh
# CLI tests of `bmsbench run/list/bench`: exit codes, messages, determinism,
# and proof that the checks can fail on a deliberately broken gateway.
# usage: run_checks.sh BMSBENCH SOURCE_DIR WORK_DIR
set -u
B=$1 SRC=$2 WORK=$3
mkdir -p "$WORK"
fails=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
expect_rc() { # name want_rc cmd...
    name=$1 want=$2; shift 2
    "$@" >"$WORK/out" 2>"$WORK/err"; rc=$?
    if [ "$rc" -eq "$want" ]; then pass "$name"; else
        fail "$name (exit $rc, want $want)"; sed 's/^/    /' "$WORK/out" "$WORK/err" | tail -20; fi
}
S=$SRC/scenarios/topband

expect_rc "top-level --help exits 0" 0 "$B" --help
grep -q "usage: bmsbench" "$WORK/out" || fail "--help prints usage"
expect_rc "--version exits 0" 0 "$B" --version
expect_rc "unknown command exits 2" 2 "$B" frobnicate
expect_rc "run --help exits 0" 0 "$B" run --help
expect_rc "run with a bad option exits 2" 2 "$B" run --no-such-option
expect_rc "run on a missing file exits 2" 2 "$B" run "$WORK/does-not-exist.yaml"
grep -q "does-not-exist.yaml" "$WORK/err" || fail "missing file is named"

# A malformed scenario names file:line:column.
cat >"$WORK/bad.yaml" <<'YAML'
name: bad
description: a scenario with a misspelt key
duration: 10m
bank:
  family: topband
  packs: 1
  tempreture: 20
expect:
  - always: "ccl_a >= 0"
YAML
expect_rc "malformed scenario exits 2" 2 "$B" run "$WORK/bad.yaml"
grep -q "bad.yaml:7:3:" "$WORK/err" || { fail "error names file:line:col"; cat "$WORK/err"; }

cat >"$WORK/badexpr.yaml" <<'YAML'
name: badexpr
description: an expression with an unknown signal
duration: 10m
bank:
  family: topband
  packs: 1
expect:
  - always: "ccl_amps >= 0"
YAML
expect_rc "unknown signal exits 2" 2 "$B" run "$WORK/badexpr.yaml"
grep -q "badexpr.yaml:8:" "$WORK/err" || { fail "expression error names its line"; cat "$WORK/err"; }

expect_rc "unknown --set key exits 2" 2 "$B" run --set no_such_key=1 "$S/pack_silent.yaml"

# A failing expectation exits 1 and names it.
cat >"$WORK/impossible.yaml" <<'YAML'
name: impossible
description: expects a charge limit no gateway sends
duration: 2m
bank:
  family: topband
  packs: 1
expect:
  - eventually: "ccl_a > 1000"
    by: 1m
YAML
expect_rc "failing expectation exits 1" 1 "$B" run "$WORK/impossible.yaml"
grep -q "eventually ccl_a > 1000" "$WORK/out" || { fail "failure names the expectation"; cat "$WORK/out"; }

# The checks can fail: a gateway whose cell cut-off is disabled lets a cell
# run away, and the suite must notice (scenario expectations and invariants).
# UNSAFE_OV breaks both DVCCs: the baseline's cut-off and taper, and the
# engine's cut-off, CVL target, cell-voltage curve and imbalance hold.
UNSAFE_OV="--set cell_ov_mv=4500 --set taper_cell_mv=4500 --set cvl_cell_mv=4400"
UNSAFE_OV="$UNSAFE_OV --set charge_cell_curve=0 --set imbalance_hold_mv=2000"
# shellcheck disable=SC2086
expect_rc "broken cut-off fails the runaway scenario" 1 \
    "$B" run --verbose $UNSAFE_OV "$S/single_cell_runaway.yaml"
grep -q "ccl_zero_at_cell_cutoff\|no_cell_at_pack_hardware_cutoff" "$WORK/out" "$WORK/err" ||
    { fail "the broken cut-off is caught by an invariant"; cat "$WORK/out"; }
# shellcheck disable=SC2086
expect_rc "broken cut-off fails on the seed baseline too" 1 \
    "$B" run $UNSAFE_OV --set dvcc_engine=0 "$S/single_cell_runaway.yaml"
# The engine also needs its charge temperature curve off (0 A at 0 degC) and a
# discharge window that still encloses the charge window (else the profile is rejected).
UNSAFE_COLD="--set charge_min_dc=-300 --set discharge_min_dc=-400 --set charge_temp_curve=0"
# shellcheck disable=SC2086
expect_rc "broken low-temperature limit fails" 1 \
    "$B" run --verbose $UNSAFE_COLD "$S/low_temp_charge_block.yaml"
grep -q "no_charging_below_0c" "$WORK/out" || { fail "cold charging caught by the invariant"; cat "$WORK/out"; }
expect_rc "broken under-voltage limit fails" 1 \
    "$B" run --verbose --set cell_uv_mv=2000 --set cell_uv_release_mv=2100 --set discharge_cell_curve=0 \
    "$S/discharge_to_cutoff.yaml"
grep -q "no_cell_below_absolute_minimum" "$WORK/out" ||
    { fail "a cell below 2.30 V caught by the invariant"; cat "$WORK/out"; }
# A CVL above cells x the absolute cell maximum (the baseline told to aim at 3.70 V per cell).
expect_rc "CVL above cells x cell maximum fails" 1 \
    "$B" run --verbose --set dvcc_engine=0 --set cvl_cell_mv=3700 "$S/pack_silent.yaml"
grep -q "invariant cvl_within_cells_x_cell_max" "$WORK/out" ||
    { fail "CVL above cells x cell maximum caught by the invariant"; cat "$WORK/out"; }

# The TinyBMS and SuperB checks bite too.
T=$SRC/scenarios/tinybms
SB=$SRC/scenarios/superb
expect_rc "tinybms: a gateway without charge states fails" 1 \
    "$B" run --set cvl_states=0 "$T/charge_states.yaml"
expect_rc "tinybms: too little hysteresis flaps" 1 \
    "$B" run --set cvl_soc_hysteresis_pct=1 "$T/no_flapping.yaml"
expect_rc "tinybms: no imbalance hold fails" 1 \
    "$B" run --set cvl_imbalance_hold_mv=2000 "$T/imbalance_hold.yaml"
expect_rc "superb: ignoring heartbeat loss fails" 1 \
    "$B" run --set sb_heartbeat_misses=100 "$SB/no_heartbeat_only.yaml"
# shellcheck disable=SC2086
expect_rc "superb: charging a cold battery fails" 1 \
    "$B" run --verbose $UNSAFE_COLD "$SB/cold_battery.yaml"
grep -q "no_charging_below_0c" "$WORK/out" || { fail "cold SuperB charging caught by the invariant"; cat "$WORK/out"; }

# The balancer controller's checks bite: a relay that releases too early, or
# trips too late, is caught.
BL=$SRC/scenarios/balancer
expect_rc "balancer: a release above the trip point fails" 1 \
    "$B" run --set bal_chg_on_mv=3600 "$BL/end_of_charge.yaml"
expect_rc "balancer: a relay that trips too late fails" 1 \
    "$B" run --set bal_chg_off_mv=4000 "$BL/runaway_50_modules.yaml"

# Same seed, same run: the gateway's log and the trace hash over every CAN
# frame and RS485 byte are identical twice; another seed changes the trace.
"$B" run --verbose --log "$WORK/log1" "$S/pack_silent.yaml" >"$WORK/v1" 2>&1
"$B" run --verbose --log "$WORK/log2" "$S/pack_silent.yaml" >"$WORK/v2" 2>&1
"$B" run --verbose --seed 99 "$S/pack_silent.yaml" >"$WORK/v3" 2>&1
h1=$(sed -n 's/.*trace \([0-9a-f]*\).*/\1/p' "$WORK/v1")
h2=$(sed -n 's/.*trace \([0-9a-f]*\).*/\1/p' "$WORK/v2")
h3=$(sed -n 's/.*trace \([0-9a-f]*\).*/\1/p' "$WORK/v3")
if [ -s "$WORK/log1" ] && cmp -s "$WORK/log1" "$WORK/log2"; then pass "deterministic log"; else fail "deterministic log"; fi
if [ -n "$h1" ] && [ "$h1" = "$h2" ]; then pass "deterministic trace ($h1)"; else fail "deterministic trace ($h1 vs $h2)"; fi
if [ -n "$h3" ] && [ "$h3" != "$h1" ]; then pass "--seed changes the run"; else fail "--seed changes the run ($h3)"; fi

# JUnit XML is written and parses.
expect_rc "junit run exits 0" 0 "$B" run --junit "$WORK/sub/junit.xml" "$S/pack_silent.yaml"
python3 - "$WORK/sub/junit.xml" <<'PY' && pass "junit parses" || fail "junit parses"
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
cases = r.findall(".//testcase")
assert len(cases) == 1 and cases[0].get("name") == "pack_silent", cases
PY

expect_rc "list exits 0" 0 "$B" list "$S"
grep -q "charge_to_full" "$WORK/out" || fail "list shows scenarios"
expect_rc "list --signals exits 0" 0 "$B" list --signals
grep -q "^ccl_a " "$WORK/out" || fail "list --signals shows ccl_a"
expect_rc "bench --help exits 0" 0 "$B" bench --help
expect_rc "bench short run exits 0" 0 "$B" bench --hours 0.2
grep -q "^speed-up: [0-9]*x real time" "$WORK/out" || { fail "bench prints speed-up"; cat "$WORK/out"; }

echo "run_checks: $fails failed"
[ "$fails" -eq 0 ]
