// RUN: tessera-opt %s --tessera-pipeline-split="stages=2 stage=0" | FileCheck %s --check-prefix=S0
// RUN: tessera-opt %s --tessera-pipeline-split="stages=2 stage=1" | FileCheck %s --check-prefix=S1
// RUN: not tessera-opt %s --tessera-pipeline-split="stages=2 stage=2" 2>&1 | FileCheck %s --check-prefix=RANGE
// RUN: not tessera-opt %s --tessera-pipeline-split="stages=5 stage=0" 2>&1 | FileCheck %s --check-prefix=FEW

// Two matmul layers with a skip connection, cut into two stages of two
// compute ops each: the first layer's output and its relu both cross the
// cut (the skip connection needs the former); the transposed weight is
// computed from a constant alone, so each stage computes it instead of
// receiving it.
// S0-LABEL: func.func @main(%arg0: tensor<4x8xf32> {tessera.name = "x"})
// S0-SAME: -> (tensor<4x8xf32> {tessera.name = "stage0.0"}, tensor<4x8xf32> {tessera.name = "stage0.1"})
// S0-SAME: tessera.pipeline_stage = 0
// S0: tessera.constant
// S0: %[[T:.*]] = tessera.transpose
// S0: %[[A:.*]] = tessera.matmul %arg0, %[[T]]
// S0: %[[B:.*]] = tessera.relu %[[A]]
// S0-NOT: tessera.add
// S0: return %[[A]], %[[B]]
// S1-LABEL: func.func @main(%arg0: tensor<4x8xf32> {tessera.name = "stage0.1"}, %arg1: tensor<4x8xf32> {tessera.name = "stage0.0"})
// S1-SAME: -> (tensor<4x8xf32> {tessera.name = "y"})
// S1-SAME: tessera.pipeline_stage = 1
// S1: tessera.constant
// S1: %[[T:.*]] = tessera.transpose
// S1: %[[C:.*]] = tessera.matmul %arg0, %[[T]]
// S1: %[[D:.*]] = tessera.add %[[C]], %arg1
// S1: return %[[D]]
// RANGE: error: tessera-pipeline-split: stage 2 of 2 stages is out of range
// FEW: error: tessera-pipeline-split: @main has 4 ops, fewer than the 5 stages
func.func @main(%x: tensor<4x8xf32> {tessera.name = "x"}) -> (tensor<4x8xf32> {tessera.name = "y"}) {
  %w = tessera.constant dense<0.5> : tensor<8x8xf32>
  %wt = tessera.transpose %w {perm = array<i64: 1, 0>} : tensor<8x8xf32> -> tensor<8x8xf32>
  %a = tessera.matmul %x, %wt : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %b = tessera.relu %a : tensor<4x8xf32>
  %c = tessera.matmul %b, %wt : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %d = tessera.add %c, %a : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %d : tensor<4x8xf32>
}
