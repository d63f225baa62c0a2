#!/usr/bin/env bash
# Sets up, builds and runs every test: CTest runs the lit suite, the runtime
# and C API unit tests, the fuzzers (bounded time) and the end-to-end model
# and op tests against torch/numpy references.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh"
cd "$ROOT/build"
ctest --output-on-failure -j1 --timeout 1800
