#!/usr/bin/env bash
# Configures (once) and builds FaceForge with Ninja in build/ (Release). At most 2 jobs: a torch
# translation unit needs 1.1-1.8 GB and this project targets 2-core machines.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${FACEFORGE_BUILD_DIR:-build}"
jobs="${FACEFORGE_JOBS:-2}"
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$build_dir" -j "$jobs"
