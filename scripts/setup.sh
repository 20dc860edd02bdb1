#!/usr/bin/env bash
# Installs FaceForge's build and test dependencies from Debian 12 packages. Idempotent and
# non-interactive: installs only what is missing, runs `apt-get update` at most once.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libgloo-dev libopencv-dev libyaml-cpp-dev libcli11-dev catch2 libsqlite3-dev
  nlohmann-json3-dev libfmt-dev
  libssl-dev                    # libcrypto's SHA-256 for feature-file provenance
  libopenblas0-pthread          # multithreaded BLAS for LibTorch's linear layers (via alternatives)
  python3-numpy                 # tests only: Python writes the reference pickles (.bin packs, numpy arrays)
  python3-opencv                # tests only: Python encodes the RecordIO fixtures' images
  python3-torch                 # tests and scripts/bench only: reference backbones, torch.save files, the Python reference step
  chromium                      # tests only: renders `faceforge report` headless (screenshot and DOM)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
