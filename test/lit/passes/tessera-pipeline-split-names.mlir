// RUN: tessera-opt %s --tessera-pipeline-split="stages=2 stage=1" | FileCheck %s

// A value returned under two names is a stage output under each.
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (tensor<4x8xf32> {tessera.name = "y"}, tensor<4x8xf32> {tessera.name = "z"})
// CHECK: %[[D:.*]] = tessera.add
// CHECK: return %[[D]], %[[D]]
func.func @main(%x: tensor<4x8xf32> {tessera.name = "x"}) -> (tensor<4x8xf32> {tessera.name = "y"}, tensor<4x8xf32> {tessera.name = "z"}) {
  %w = tessera.constant dense<0.5> : tensor<8x8xf32>
  %a = tessera.matmul %x, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %b = tessera.relu %a : tensor<4x8xf32>
  %c = tessera.matmul %b, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %d = tessera.add %c, %a : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %d, %d : tensor<4x8xf32>, tensor<4x8xf32>
}
