#!/usr/bin/env bash
# The one prepared GPU check (issue 9): build with scripts/device/build.sh, then the training-step
# benchmark on the GPU against the same step in the machine's pip PyTorch, alternately: r50 at
# batch 128 with fp16 autocast and loss scaling (the target: >= 1.0x), and mbf for scale. Writes
# everything under OUT (default ./gpu-results). H200 peak dense fp16 tensor throughput: 989 TFLOP/s.
# Usage (on the GPU machine, from the repository root, .device carried):
#   scripts/device/gpu_bench.sh [ROUNDS]
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-gpu-results}
rounds=${1:-2}
peak=${PEAK_TFLOPS:-989}
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/gpu.txt" 2>&1
scripts/device/build.sh > "$out/build.log" 2>&1 || { tail -n 40 "$out/build.log"; exit 1; }
tail -n 3 "$out/build.log"
ff=build-device/faceforge
for b in r50 mbf; do
  for r in $(seq "$rounds"); do
    "$ff" bench train --device cuda --backbone "$b" --batch 128 --steps 30 --warmup 5 --set model.autocast=fp16 \
      --peak-tflops "$peak" --json "$out/bench_train.jsonl" 2>&1 | head -n 2
    python3 scripts/bench/reference_train.py --device cuda --fp16 --backbone "$b" --batch 128 --steps 30 --warmup 5 \
      2>/dev/null | tee -a "$out/reference_train.jsonl"
  done
done
