#!/bin/sh
# SPDX-License-Identifier: MIT
# The DVCC scenario library passes as written, and each scenario fails (exit 1)
# when the engine behaviour it is about is switched off or moved with --set.
# usage: dvcc_checks.sh BMSBENCH SOURCE_DIR WORK_DIR
set -u
B=$1 SRC=$2 WORK=$3
mkdir -p "$WORK"
D=$SRC/scenarios/dvcc
fails=0
report() { # name want rc
    if [ "$3" -eq "$2" ]; then echo "ok   $1"; else
        echo "FAIL $1 (exit $3, want $2)"; sed 's/^/    /' "$WORK/out" "$WORK/err" | tail -12
        fails=$((fails + 1)); fi
}
# broken NAME SCENARIO --set ...: the scenario must fail with these settings
broken() {
    name=$1 scen=$2; shift 2
    "$B" run "$@" "$D/$scen.yaml" >"$WORK/out" 2>"$WORK/err"
    report "$scen fails: $name" 1 $?
}

"$B" run "$D" >"$WORK/out" 2>"$WORK/err"
report "every scenario in scenarios/dvcc passes" 0 $?

broken "charge cell-voltage curve off" derate_cell_charge --set charge_cell_curve=0
broken "discharge cell-voltage curve off" derate_cell_discharge --set discharge_cell_curve=0
broken "charge temperature curve off" derate_temp_charge --set charge_temp_curve=0
broken "discharge temperature curve off" derate_temp_discharge --set discharge_temp_curve=0
broken "SOC charge curve off" derate_soc_charge --set charge_soc_curve=0
broken "SOC discharge curve off" derate_soc_discharge --set discharge_soc_curve=0
broken "float never reached (converged wait 1 h)" charge_bulk_absorption_float \
    --set float_after_converged_ms=3600000
broken "no re-bulk on SOC" rebulk_on_soc_drop --set rebulk_soc_pct=0
broken "no re-bulk on a cell-voltage drop" rebulk_on_cell_drop --set rebulk_cell_mv=2000
broken "imbalance hold never entered" imbalance_hold --set imbalance_hold_mv=2000
broken "imbalance hold never released" imbalance_hold --set imbalance_release_mv=0
# 60 s readings of a cell at the curve point +/-5 mV: without hysteresis CCL follows it
broken "dither with no input hysteresis and no rise interval" dither_no_flap \
    --set rise_interval_ms=0 --set hyst_cell_mv=0
broken "dither with no input hysteresis" dither_no_flap --set hyst_cell_mv=0
broken "charging below 0 degC allowed" cold_morning_pv --set charge_min_dc=-150 \
    --set charge_temp_curve=0
broken "no temperature derating" hot_afternoon --set charge_temp_curve=0
# the comparison pair: the seed model stops overcharging on the engine, and
# the engine's day overcharges on the seed-like baseline
broken "seed model run on the engine" seed_model_overcharges --set dvcc_engine=1
broken "engine day run on the baseline without cell checks" engine_same_day \
    --set dvcc_engine=0 --set cell_ov_mv=4500 --set taper_cell_mv=4500
# invariants: false really switches them off: the seed model with them on fails
sed '/^invariants:/d' "$D/seed_model_overcharges.yaml" >"$WORK/seed_with_invariants.yaml"
"$B" run "$WORK/seed_with_invariants.yaml" >"$WORK/out" 2>"$WORK/err"
report "seed model fails with the invariants on" 1 $?
grep -q "invariant" "$WORK/out" || { echo "FAIL the seed model's failure names an invariant";
    fails=$((fails + 1)); }

echo "$fails failed"
[ "$fails" -eq 0 ]
