#!/usr/bin/env bash
# The README's first command: set up, build, render the synthetic identities, train the demo
# config, evaluate it on held-out identities (pairs, RFW-style, IJB-style), store the results and
# print a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
ff=build/faceforge
data=data/demo_synthetic
out=runs

start=$(date +%s)
rm -rf "$data"   # rendering takes seconds; never mix in leftovers of other settings
$ff data synth --identities 200 --images-per-identity 24 --seed 7 --variation 0.4 \
  --pair-identities 200 --pairs 600 --rfw --ijb --out "$data"
$ff train configs/demo_synthetic.yaml --output "$out"
end=$(date +%s)
echo
echo "demo: synthesis + training + evaluation took $((end - start)) s"
# Every protocol on the synthetic RFW- and IJB-style trees, with FRUITS latency.
run_dir=$(ls -td "$out"/demo_synthetic-* | head -n 1)
$ff eval --checkpoint "$run_dir" --suite configs/eval/synthetic.yaml
$ff results list --db "$out/results.db"
