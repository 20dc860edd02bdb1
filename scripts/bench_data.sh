#!/usr/bin/env bash
# Data-loading benchmark: FaceForge's loader against PyTorch's DataLoader (benchmarks/data_reference.py)
# on the same RecordIO pack, in one invocation; prints both images/s and the ratio.
#   scripts/bench_data.sh [PACK] [THREADS] [IMAGES]
# Without PACK, renders 400 synthetic identities x 25 images and packs them into data/bench_pack.
set -euo pipefail
cd "$(dirname "$0")/.."
ff=build/faceforge
pack=${1:-}
threads=${2:-2}
images=${3:-8000}
if [[ -z "$pack" ]]; then
  pack=data/bench_pack
  if [[ ! -f "$pack/train.rec" ]]; then
    rm -rf data/bench_synth
    $ff data synth --identities 400 --images-per-identity 25 --seed 5 --pair-identities 20 --pairs 40 \
      --out data/bench_synth
    $ff data pack data/bench_synth --out "$pack"
  fi
fi
mkdir -p runs
$ff bench data --source "$pack" --threads "$threads" --batch 128 --images "$images" \
  --reference-python /usr/bin/python3 --json runs/bench_data.jsonl
