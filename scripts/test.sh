#!/usr/bin/env bash
# The README's second command: set up what is missing, build, run the whole test suite via ctest.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
build_dir="${FACEFORGE_BUILD_DIR:-build}"
cd "$build_dir"
ctest --output-on-failure -j 1 "$@"
