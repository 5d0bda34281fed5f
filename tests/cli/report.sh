#!/bin/sh
# CLI test of `bmsbench run --report DIR`: index.html with one section per
# scenario, inline SVG with polylines of at most 2000 points, links to the
# recording, nothing fetched from the network, and a page that parses as XML.
# usage: report.sh BMSBENCH SOURCE_DIR WORK_DIR
set -u
B=$1 SRC=$2 WORK=$3
rm -rf "$WORK"
mkdir -p "$WORK"
fails=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
S=$SRC/scenarios/topband

# Exit 0 or 1 (a scenario may fail while the tree is being worked on); 2 is an error.
"$B" run --record "$WORK/rep/rec" --report "$WORK/rep" "$S/pack_silent.yaml" \
    "$S/charge_to_full.yaml" >"$WORK/out" 2>"$WORK/err"
rc=$?
if [ "$rc" -le 1 ]; then pass "run --report exits 0 or 1 ($rc)"; else
    fail "run --report exits $rc"; cat "$WORK/err"; fi
[ -f "$WORK/rep/index.html" ] && pass "index.html written" || fail "index.html written"
grep -q "report: $WORK/rep/index.html" "$WORK/err" && pass "path printed" || fail "path printed"
if grep -Eq 'https?://' "$WORK/rep/index.html"; then fail "no network resources"; else
    pass "no network resources"; fi

python3 - "$WORK/rep/index.html" "$WORK/rep" <<'PY' || fails=$((fails + 1))
import os, sys, html.parser, xml.etree.ElementTree as ET
path, base = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
bad = 0
def check(ok, what):
    global bad
    print(("ok   " if ok else "FAIL ") + what)
    bad += 0 if ok else 1

root = ET.fromstring(text.split("\n", 1)[1])  # past <!DOCTYPE html>
sections = [e for e in root.iter("section") if e.get("class") == "scenario"]
check(len(sections) == 2, "one section per scenario (%d)" % len(sections))
names = [s.find("h2").text.strip() for s in sections]
check(names == ["pack_silent", "charge_to_full"], "sections in run order: %s" % names)
for s in sections:
    svgs = list(s.iter("svg"))
    polys = [p for p in s.iter("polyline")]
    counts = [len(p.get("points").split()) for p in polys]
    check(len(svgs) == 3, "%s: 3 charts (%d)" % (s.get("id"), len(svgs)))
    check(len(polys) >= 3 and all(0 < c <= 2000 for c in counts),
          "%s: polylines of 1..2000 points %s" % (s.get("id"), counts))
    for p in polys:
        for xy in p.get("points").split():
            x, y = map(float, xy.split(","))
            if not (0 <= x <= 900 and 0 <= y <= 240):
                check(False, "point %s inside the chart" % xy)
                break
    links = [a.get("href") for a in s.iter("a")]
    check(any(h.endswith("/signals.csv") for h in links), "%s links its recording" % s.get("id"))
    for h in links:
        if not os.path.exists(os.path.join(base, h)):
            check(False, "link %s resolves" % h)
rows = [tr for tr in root.iter("tr") if tr.find("td") is not None and tr.find("td/a") is not None]
check(len(rows) == 2, "summary table has 2 rows")
# The 3 h run is decimated: far fewer points than its 108000 samples.
long_counts = [len(p.get("points").split()) for p in sections[1].iter("polyline")]
check(max(long_counts) <= 2000, "3 h run decimated (max %d points)" % max(long_counts))

class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs = []
    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href") and v and "://" in v:
                self.srcs.append(v)
p = P()
p.feed(text)
check(not p.srcs, "html.parser: no external src/href %s" % p.srcs[:3])
sys.exit(1 if bad else 0)
PY

# A deliberately broken gateway: the failure is explained and marked.
"$B" run --set cell_ov_mv=4000 --report "$WORK/broken" "$S/pack_overvoltage.yaml" \
    >"$WORK/out2" 2>"$WORK/err2"
rc=$?
if [ "$rc" -eq 1 ]; then pass "broken gateway fails (exit 1)"; else fail "broken gateway exit $rc"; fi
grep -q 'class="first-failure"' "$WORK/broken/index.html" && pass "first failure explained" ||
    fail "first failure explained"
grep -q 'It requires:' "$WORK/broken/index.html" && pass "the demand is spelled out" ||
    fail "the demand is spelled out"
grep -q 'class="mark fail"' "$WORK/broken/index.html" && pass "failure marked on the charts" ||
    fail "failure marked on the charts"

# An unwritable report folder is a usage error (exit 2), named.
touch "$WORK/file"
"$B" run --report "$WORK/file/sub" "$S/pack_silent.yaml" >"$WORK/out3" 2>"$WORK/err3"
rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--report" "$WORK/err3" && pass "unwritable folder exits 2" ||
    fail "unwritable folder exits 2 (exit $rc)"

[ "$fails" -eq 0 ] && echo "all report checks passed" || echo "$fails report checks failed"
[ "$fails" -eq 0 ]
