#!/usr/bin/env bash
# The one prepared GPU check (issue 9): build with scripts/device/build.sh; the trainer on the GPU
# (train.device cuda, fp16 with loss scaling, on rendered identities: 3 steps, then a resume to 6);
# then the training-step benchmark on the GPU against the same step in the machine's pip PyTorch,
# alternately: r50 at batch 128 with fp16 autocast and loss scaling (the target: >= 1.0x), and mbf
# for scale. Writes everything under OUT (default ./gpu-results). H200 peak dense fp16 tensor
# throughput: 989 TFLOP/s.
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
cat > "$out/gpu_train.yaml" <<YAML
name: gpu_smoke
output: $out/runs
data: {sources: [{format: synthetic, synthetic: {identities: 64, images_per_identity: 8}}], workers: 4}
model: {backbone: r50, autocast: fp16}
train: {batch_size: 64, epochs: 1, log_every: 1, device: cuda}
eval: {targets: []}
YAML
"$ff" train "$out/gpu_train.yaml" --set train.max_steps=3 > "$out/train.log" 2>&1; echo "train rc $?"
run_dir=$(ls -d "$out"/runs/gpu_smoke-* | head -n 1)
"$ff" train "$out/gpu_train.yaml" --set train.max_steps=6 --set train.resume="$run_dir" >> "$out/train.log" 2>&1
echo "resume rc $?"; tail -n 4 "$out/train.log"
grep -E '"event":"(start|resume|end)"|"step":6,' "$run_dir/train.jsonl" | head -n 6
for b in r50 mbf; do
  for r in $(seq "$rounds"); do
    "$ff" bench train --device cuda --backbone "$b" --batch 128 --steps 30 --warmup 5 --set model.autocast=fp16 \
      --peak-tflops "$peak" --json "$out/bench_train.jsonl" 2>&1 | head -n 2
    python3 scripts/bench/reference_train.py --device cuda --fp16 --backbone "$b" --batch 128 --steps 30 --warmup 5 \
      2>/dev/null | tee -a "$out/reference_train.jsonl"
  done
done
