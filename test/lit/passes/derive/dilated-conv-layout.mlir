// OLLIE showcase: a dilated conv re-expressed by a layout change. Replayed
// rule by rule: dilation-to-batch on h then on w (space-to-batch layout
// stages), then guided matching finds a plain (dilation 1) conv over a 4x
// larger batch. The search (second part) also removes the dilation on its
// own and goes further, to a matmul.

// RUN: tessera-opt %s --convert-tessera-to-texpr \
// RUN:   --tessera-derive-rule='rule=dilation-to-batch args=2,2' \
// RUN:   --tessera-derive-rule='rule=dilation-to-batch path=0 args=4,2' \
// RUN:   --tessera-derive-rule='rule=match' -o %t.replay.mlir
// RUN: FileCheck %s --check-prefix=REPLAY < %t.replay.mlir
// RUN: %python %S/Inputs/compare_programs.py %s %t.replay.mlir --shape 1x64x56x56 --shape 64x64x3x3 | FileCheck %s --check-prefix=RUNS
// RUN: tessera-opt %s --tessera-derive='target=cuda' -o %t.search.mlir
// RUN: FileCheck %s --check-prefix=SEARCH < %t.search.mlir
// RUN: %python %S/Inputs/compare_programs.py %s %t.search.mlir --shape 1x64x56x56 --shape 64x64x3x3 | FileCheck %s --check-prefix=RUNS

// REPLAY-LABEL: func.func @main
// REPLAY: texpr.scope(%arg0) {layout
// REPLAY: texpr.scope(%{{.*}}) {layout
// REPLAY: tessera.reshape %{{.*}} : tensor<1x2x2x64x30x30xf32> -> tensor<4x64x30x30xf32>
// REPLAY: tessera.conv %{{.*}}, %arg1 {dilations = array<i64: 1, 1>, groups = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<4x64x30x30xf32>, tensor<64x64x3x3xf32>) -> tensor<4x64x28x28xf32>
// REPLAY: texpr.scope
// SEARCH-LABEL: func.func @main
// SEARCH: texpr.scope(%arg0) {layout
// SEARCH: tessera.matmul
// SEARCH-NOT: tessera.conv
// RUNS: MATCH
func.func @main(%x: tensor<1x64x56x56xf32>, %w: tensor<64x64x3x3xf32>) -> tensor<1x64x56x56xf32> {
  %0 = tessera.conv %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 2, 2>, pads = array<i64: 2, 2, 2, 2>, groups = 1 : i64} : (tensor<1x64x56x56xf32>, tensor<64x64x3x3xf32>) -> tensor<1x64x56x56xf32>
  return %0 : tensor<1x64x56x56xf32>
}
