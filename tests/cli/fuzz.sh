#!/bin/sh
# SPDX-License-Identifier: MIT
# CLI tests of `bmsbench fuzz`: a correct gateway is clean, an unsafe one is
# caught, a written failure reproduces with `bmsbench run`, runs are
# deterministic, usage errors exit 2.
# usage: fuzz.sh BMSBENCH WORKDIR
set -u
B=$1
W=$2
rm -rf "$W" && mkdir -p "$W" || exit 1
fails=0
check() { # name, want, got
    if [ "$2" != "$3" ]; then
        echo "FAIL $1: want '$2', got '$3'"
        fails=$((fails + 1))
    else
        echo "ok   $1"
    fi
}

"$B" fuzz --count 20 --seed 1 --family topband --out "$W/clean" > "$W/clean.txt" 2>&1
check "clean gateway: exit" 0 $?
check "clean gateway: no failure files" 0 "$(ls "$W/clean" 2>/dev/null | wc -l)"
check "clean gateway: summary" "fuzz: 20 runs, 0 failed" \
    "$(grep -o '^fuzz: 20 runs, [0-9]* failed' "$W/clean.txt")"

# Cut-off moved to 4.5 V per cell, the engine's CVL target to 4.4 V, its cell curve and
# imbalance hold off (the baseline's taper too): cells at cut-off with CCL > 0 must be seen.
"$B" fuzz --count 20 --seed 1 --family topband --set cell_ov_mv=4500 --set taper_cell_mv=4500 \
    --set cvl_cell_mv=4400 --set charge_cell_curve=0 --set imbalance_hold_mv=2000 \
    --out "$W/bad" > "$W/bad.txt" 2>&1
check "unsafe gateway: exit" 1 $?
nbad=$(grep -c '^FAIL' "$W/bad.txt")
[ "$nbad" -gt 0 ] || { echo "FAIL unsafe gateway: no violations"; fails=$((fails + 1)); }
check "unsafe gateway: one file per failure" "$nbad" "$(ls "$W/bad" | wc -l)"
first=$(grep '^FAIL' "$W/bad.txt" | head -n 1)
seed=$(echo "$first" | awk '{print $4}')
inv=$(echo "$first" | sed 's/.*events: //')
check "failure names an invariant" "invariant" "$(echo "$inv" | cut -d' ' -f1)"

# The written YAML carries the seed and the --set values: a plain run reproduces it.
"$B" run "$W/bad/$seed.yaml" > "$W/rerun.txt" 2>&1
check "written scenario re-runs: exit" 1 $?
grep -F -q "$inv" "$W/rerun.txt"
check "written scenario re-runs: same failure" 0 $?

# Same seed, same runs (wall times aside).
"$B" fuzz --count 6 --seed 7 --out "$W/d1" | sed 's/ in [0-9.]* s wall//' > "$W/d1.txt"
"$B" fuzz --count 6 --seed 7 --out "$W/d2" | sed 's/ in [0-9.]* s wall//' > "$W/d2.txt"
cmp -s "$W/d1.txt" "$W/d2.txt"
check "deterministic" 0 $?
"$B" fuzz --count 6 --seed 8 --out "$W/d3" | sed 's/ in [0-9.]* s wall//' > "$W/d3.txt"
cmp -s "$W/d1.txt" "$W/d3.txt"
check "another seed, other runs" 1 $?

"$B" fuzz --family lead_acid > /dev/null 2>&1
check "unknown family: exit" 2 $?
"$B" fuzz --count 0 > /dev/null 2>&1
check "count 0: exit" 2 $?
"$B" fuzz --count 1 --set no_such_setting=1 --out "$W/x" > /dev/null 2>&1
check "unknown setting: exit" 2 $?
"$B" fuzz --help > /dev/null 2>&1
check "help: exit" 0 $?

[ "$fails" -eq 0 ]
