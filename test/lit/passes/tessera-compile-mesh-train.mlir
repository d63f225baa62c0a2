// A training step sharded: data parallel over `data`, Megatron over `model`.
// The spec names the trainable weights, which autodiff has turned into
// arguments by the time the shard stage runs.
// RUN: tessera-compile -q %s --train --loss=mse --optimizer=sgd --mesh=data=2,model=2 --shard-spec=%S/Inputs/mesh-spec.json --emit=spmd -o - | FileCheck %s

// CHECK: @main(%arg0: tensor<4x4xf32> {tessera.name = "x", tessera.sharding = "[{data}, {}]"}
// CHECK-SAME: tensor<4x4xf32> {tessera.name = "w1", tessera.sharding = "[{}, {model}]"}
// CHECK-SAME: tensor<4x4xf32> {tessera.name = "w2", tessera.sharding = "[{model}, {}]"}
// The forward partial sum over `model`, then the loss and both weight
// gradients summed over `data`:
// CHECK-COUNT-4: shard.all_reduce
// CHECK-NOT: shard.all_gather
func.func @main(%x: tensor<8x4xf32> {tessera.name = "x"}) -> (tensor<8x4xf32> {tessera.name = "y"}) {
  %w1 = tessera.constant dense<[[-0.52, 0.09, -0.26, 0.21, 0.25, -0.87, -0.97, 0.67], [-0.48, -0.53, 0.99, -0.06, 0.67, -0.05, 0.28, -0.70], [0.27, 0.74, 0.05, 0.48, 0.34, -0.87, 0.52, 0.18], [-0.40, -0.94, 0.73, -0.05, 0.44, 0.76, 0.43, 0.84]]> : tensor<4x8xf32> loc("w1")
  %w2 = tessera.constant dense<[[-0.21, 0.60, -0.11, 0.87], [0.76, -0.81, -0.73, -0.57], [0.93, -0.13, 0.25, -0.40], [0.01, -0.23, -0.30, 0.17], [0.17, 0.81, 0.36, 0.86], [0.71, 0.98, 0.34, -0.67], [0.72, 0.93, 0.81, 0.14], [0.43, -0.58, 0.66, 0.15]]> : tensor<8x4xf32> loc("w2")
  %h = tessera.matmul %x, %w1 : tensor<8x4xf32>, tensor<4x8xf32> -> tensor<8x8xf32>
  %a = tessera.relu %h : tensor<8x8xf32>
  %y = tessera.matmul %a, %w2 : tensor<8x8xf32>, tensor<8x4xf32> -> tensor<8x4xf32>
  return %y : tensor<8x4xf32>
}
