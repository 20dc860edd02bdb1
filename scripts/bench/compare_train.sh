#!/usr/bin/env bash
# FaceForge's training step against the same step in Python PyTorch (scripts/bench/reference_train.py),
# run alternately in one invocation so both see the same machine state; prints each run and the
# ratio of the median images/s. Usage:
#   scripts/bench/compare_train.sh [--rounds 3] [--steps 10] [--batch 64] [BACKBONE ...]   (default: mbf r18)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=3 steps=10 batch=64 backbones=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    -*) echo "compare_train.sh: unknown option $1" >&2; exit 2 ;;
    *) backbones+=("$1"); shift ;;
  esac
done
[ ${#backbones[@]} -gt 0 ] || backbones=(mbf r18)
ff=${FACEFORGE:-build/faceforge}
python=${PYTHON:-/usr/bin/python3}
# The reference runs with FaceForge's huge-page setting (src/util/allocator.h; FF_HUGE_PAGES=0: neither).
if [ "${FF_HUGE_PAGES:-1}" != 0 ] && [[ ${GLIBC_TUNABLES:-} != *glibc.malloc.hugetlb* ]]; then
  export GLIBC_TUNABLES=${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}glibc.malloc.hugetlb=1
fi
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
for b in "${backbones[@]}"; do
  ours=() theirs=()
  for r in $(seq "$rounds"); do
    o=$("$ff" bench train --backbone "$b" --batch "$batch" --steps "$steps" | tail -n 1 |
        "$python" -c 'import json,sys; print(json.load(sys.stdin)["images_per_s"])')
    t=$("$python" scripts/bench/reference_train.py --backbone "$b" --batch "$batch" --steps "$steps" |
        "$python" -c 'import json,sys; print(json.load(sys.stdin)["images_per_s"])')
    echo "$b round $r: FaceForge $o images/s, PyTorch $t images/s"
    ours+=("$o") theirs+=("$t")
  done
  mo=$(printf '%s\n' "${ours[@]}" | median)
  mt=$(printf '%s\n' "${theirs[@]}" | median)
  echo "$b batch $batch: FaceForge median $mo images/s, PyTorch median $mt images/s, ratio x$(awk -v a="$mo" -v b="$mt" 'BEGIN {printf "%.2f", a / b}')"
done
