#!/usr/bin/env bash
# Builds FaceForge on a GPU machine that has a pip PyTorch (with CUDA), CMake, Ninja and a compiler
# but no Debian packages, from the archive scripts/device/bundle.sh made on a Debian 12 machine.
# The build links the pip PyTorch's LibTorch, reads no image files (no OpenCV imgcodecs) and has no
# test suite: it is for `faceforge bench train --device cuda` and work on in-memory tensors.
# Usage: scripts/device/build.sh [ARCHIVE] [BUILD_DIR] [extra cmake arguments...]
#        (defaults .device/bundle.tar.xz and build-device; PYTHON picks the interpreter with torch,
#        TORCH_PREFIX overrides its cmake_prefix_path)
set -euo pipefail
cd "$(dirname "$0")/../.."
archive=${1:-.device/bundle.tar.xz}
build=${2:-build-device}
python=${PYTHON:-python3}
[ -f "$archive" ] || { echo "build.sh: $archive not found: run scripts/device/bundle.sh on the Debian machine and carry .device" >&2; exit 1; }
mkdir -p "$build/bundle"
tar -C "$build/bundle" -xJf "$archive"
torch_prefix=${TORCH_PREFIX:-$("$python" -c "import torch; print(torch.utils.cmake_prefix_path)")}
# pip's NCCL wheel keeps nccl.h beside its package; without it the build has no NCCL process group.
nccl=$("$python" -c 'import nvidia.nccl as m; print(list(m.__path__)[0] + "/include")' 2>/dev/null || true)
cuda=()
[ -x /usr/local/cuda/bin/nvcc ] && cuda=(-DCUDAToolkit_ROOT=/usr/local/cuda)
# FF_WITH_OPENMP=OFF: the wheel's LibTorch brings its own libgomp; our few CPU kernels run serially
# there rather than under a second OpenMP runtime (the GPU path does not use them).
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$torch_prefix" \
  -DFF_BUNDLE_DIR="$(pwd)/$build/bundle" -DFF_WITH_IMGCODECS=OFF -DFF_WITH_OPENMP=OFF -DBUILD_TESTING=OFF \
  ${nccl:+-DFF_NCCL_INCLUDE_DIR="$nccl"} "${cuda[@]}" "${@:3}"
cmake --build "$build" --target faceforge
"$build/faceforge" --version
