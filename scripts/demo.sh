#!/usr/bin/env bash
# The main job on a bundled example: set up, build, export ResNet-18 (random
# weights, fixed seed) to ONNX, compile it to an artifact, run it on a sample
# input and print the outputs and timings.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
"$ROOT/scripts/setup.sh" --no-test-deps; "$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh"
BIN="$ROOT/build/bin"
WORK="$ROOT/build/demo"
mkdir -p "$WORK"
MODEL="${TESSERA_DEMO_MODEL:-resnet18}"
/usr/bin/python3 "$ROOT/test/e2e/models.py" --out "$WORK" "$MODEL"
CASE="$WORK/$MODEL"
"$BIN/tessera-compile" "$CASE/model.onnx" -o "$WORK/$MODEL.tsr"
args=()
for f in "$CASE"/inputs/*.npy; do
  name="$(basename "$f" .npy)"
  args+=(--input "$name=$f")
done
"$BIN/tessera-run" "$WORK/$MODEL.tsr" "${args[@]}" --output-dir "$WORK/out" --bench 5
