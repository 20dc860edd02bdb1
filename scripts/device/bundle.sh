#!/usr/bin/env bash
# Packs what a FaceForge build needs beyond a pip PyTorch, taken from this machine's Debian 12
# packages, into one archive for a GPU machine without package access (scripts/device/build.sh
# unpacks and builds there): the headers of yaml-cpp, CLI11, SQLite, fmt, nlohmann-json, OpenSSL
# and OpenCV, and the shared libraries of yaml-cpp, SQLite, fmt, libcrypto and OpenCV core/imgproc
# with every library they load that glibc and libstdc++ do not provide. OpenCV's imgcodecs is left
# out (it loads over a hundred codec libraries, ~200 MB): that build reads no image files.
# BLAS/LAPACK (loaded by OpenCV core only) are Debian's small reference builds.
# Usage: scripts/device/bundle.sh [ARCHIVE]     (default .device/bundle.tar.xz; .device/ is ignored by git)
set -euo pipefail
cd "$(dirname "$0")/../.."
archive=${1:-.device/bundle.tar.xz}
arch=x86_64-linux-gnu
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/include" "$stage/lib"

need() { [ -e "$1" ] || { echo "bundle.sh: $1 is missing; install $2 (scripts/setup.sh does)" >&2; exit 1; }; }
need /usr/include/yaml-cpp/yaml.h libyaml-cpp-dev
need /usr/include/CLI/CLI.hpp libcli11-dev
need /usr/include/sqlite3.h libsqlite3-dev
need /usr/include/fmt/format.h libfmt-dev
need /usr/include/nlohmann/json.hpp nlohmann-json3-dev
need /usr/include/openssl/sha.h libssl-dev
need /usr/include/opencv4/opencv2/core.hpp libopencv-dev
need /usr/lib/$arch/blas/libblas.so.3 libblas3
need /usr/lib/$arch/lapack/liblapack.so.3 liblapack3

cp -r /usr/include/yaml-cpp /usr/include/CLI /usr/include/fmt /usr/include/nlohmann /usr/include/openssl "$stage/include/"
cp /usr/include/sqlite3.h /usr/include/sqlite3ext.h "$stage/include/"
cp /usr/include/$arch/openssl/*.h "$stage/include/openssl/"  # opensslconf.h, configuration.h
cp -r /usr/include/opencv4 "$stage/include/"

# The reference BLAS/LAPACK first, so the closure below resolves to them rather than OpenBLAS.
cp -L /usr/lib/$arch/blas/libblas.so.3 /usr/lib/$arch/lapack/liblapack.so.3 "$stage/lib/"
roots=(libyaml-cpp.so.0.7 libsqlite3.so.0 libfmt.so.9 libcrypto.so.3 libopencv_core.so.406 libopencv_imgproc.so.406)
for r in "${roots[@]}"; do need "/usr/lib/$arch/$r" "its -dev package"; cp -L "/usr/lib/$arch/$r" "$stage/lib/"; done
# Provided by every Linux the pip PyTorch runs on (glibc, libstdc++, libgcc).
base='^(linux-vdso|ld-linux|libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s)\.so'
added=1
while [ $added -gt 0 ]; do
  added=0
  for lib in "$stage"/lib/*.so*; do
    while read -r name path; do
      [ -n "$path" ] && [ ! -e "$stage/lib/$name" ] || continue
      [[ $name =~ $base ]] && continue
      cp -L "$path" "$stage/lib/$name"
      added=1
    done < <(LD_LIBRARY_PATH="$stage/lib" ldd "$lib" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}')
  done
done
LD_LIBRARY_PATH="$stage/lib" ldd "$stage"/lib/*.so* | grep -q "not found" && { echo "bundle.sh: unresolved libraries" >&2; exit 1; }

# Where each file came from, for third_party's where-from notes.
{
  echo "FaceForge device bundle, made $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(. /etc/os-release; echo "$PRETTY_NAME")"
  for f in "$stage"/lib/*; do
    real=$(readlink -f "/usr/lib/$arch/$(basename "$f")" 2>/dev/null || true)
    pkg=$(dpkg -S "/usr/lib/$arch/$(basename "$f")" 2>/dev/null | cut -d: -f1 | head -1 || true)
    [ -n "$pkg" ] || pkg=$(dpkg -S "$real" 2>/dev/null | cut -d: -f1 | head -1 || true)
    echo "lib/$(basename "$f") ${pkg:-?} $(dpkg-query -W -f='${Version}' "${pkg:-none}" 2>/dev/null || true)"
  done
} > "$stage/MANIFEST"
mkdir -p "$(dirname "$archive")"
tar -C "$stage" -cJf "$archive" .
echo "bundle: $archive, $(du -h "$archive" | cut -f1) ($(ls "$stage/lib" | wc -l) libraries, $(du -sh "$stage" | cut -f1) unpacked)"
