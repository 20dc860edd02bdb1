#!/usr/bin/env bash
# The README's first command: set up, build, render the synthetic identities, train the demo
# config, evaluate it on held-out identities, store the results and print a summary.
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
  --pair-identities 200 --pairs 600 --out "$data"
$ff train configs/demo_synthetic.yaml --output "$out"
end=$(date +%s)
echo
echo "demo: synthesis + training + evaluation took $((end - start)) s"
$ff results list --db "$out/results.db"
