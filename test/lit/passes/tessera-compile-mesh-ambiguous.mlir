// A spec name two tensors answer to (an input and a weight) is an error.
// RUN: not tessera-compile -q %s --mesh=data=2 --shard-spec=%S/Inputs/mesh-spec-ambiguous.json --emit=spmd -o - 2>&1 | FileCheck %s
// CHECK: error: --shard-spec: 'w' names 2 tensors (inputs and weights); it cannot say which to shard
func.func @main(%x: tensor<8x16xf32> {tessera.name = "w"}) -> (tensor<8x16xf32> {tessera.name = "y"}) {
  %w = tessera.constant dense<0.5> : tensor<16x16xf32> loc("w")
  %y = tessera.matmul %x, %w : tensor<8x16xf32>, tensor<16x16xf32> -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}
