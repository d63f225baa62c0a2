#!/usr/bin/env bash
# Installs every Debian package Tessera's build and tests need. Idempotent.
# Usage: scripts/setup.sh [--no-test-deps]
set -euo pipefail

BUILD_PKGS=(
  cmake ninja-build ccache pkg-config
  clang-22 lld-22
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools
  libz3-dev nlohmann-json3-dev coinor-cbc
  libonnx-dev libprotobuf-dev protobuf-compiler
  libopenmpi-dev openmpi-bin
  libgtest-dev
  libclang-rt-22-dev
)
TEST_PKGS=(
  python3 python3-numpy python3-torch python3-torchvision python3-onnx
  libopenblas0-pthread
)

want=("${BUILD_PKGS[@]}")
if [[ "${1:-}" != "--no-test-deps" ]]; then want+=("${TEST_PKGS[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "[setup] installing: ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "[setup] all packages present"
fi
