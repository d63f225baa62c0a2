// RUN: tessera-opt %s -split-input-file --tessera-shard-propagate --tessera-shard-partition | FileCheck %s

// The partitioner follows propagation's decisions (user shardings first),
// not a recount: the contraction is split along `model` as the user's
// operand says, although the larger operand is split along `data`.
shard.grid @mesh(shape = 2x2) {tessera.axis_names = ["data", "model"]}
// CHECK-LABEL: func.func @user_first
// CHECK: %[[G:.*]] = shard.all_gather %{{.*}} on @mesh grid_axes = [0] gather_axis = 0 : tensor<4x64xf32> -> tensor<8x64xf32>
// CHECK: %[[S:.*]] = shard.all_slice %[[G]] on @mesh grid_axes = [1] slice_axis = 0 : tensor<8x64xf32> -> tensor<4x64xf32>
// CHECK: %[[C:.*]] = tessera.matmul %arg0, %[[S]] {{.*}} -> tensor<4x64xf32>
// CHECK: shard.all_reduce %[[C]] on @mesh grid_axes = [1]
func.func @user_first(%a: tensor<4x8xf32> {tessera.sharding = "[{}, {model}]"}, %x: tensor<8x64xf32> {tessera.sharding = "[{data}, {}]"}) -> tensor<4x64xf32> {
  %b = tessera.relu %x : tensor<8x64xf32>
  %c = tessera.matmul %a, %b : tensor<4x8xf32>, tensor<8x64xf32> -> tensor<4x64xf32>
  return %c : tensor<4x64xf32>
}

// -----

// A mean over a split batch down to a scalar: the 1/2 scale is a scalar.
shard.grid @mesh(shape = 2) {tessera.axis_names = ["data"]}
// CHECK-LABEL: func.func @scalar_mean
// CHECK: %[[M:.*]] = tessera.reduce_mean %arg0 {{.*}} -> tensor<f32>
// CHECK: %[[H:.*]] = tessera.constant dense<5.000000e-01> : tensor<f32>
// CHECK: %[[S:.*]] = tessera.mul %[[M]], %[[H]] {{.*}} -> tensor<f32>
// CHECK: shard.all_reduce %[[S]] on @mesh grid_axes = [0] : tensor<f32> -> tensor<f32>
func.func @scalar_mean(%x: tensor<8x4xf32> {tessera.sharding = "[{data}, {}]"}) -> tensor<f32> {
  %m = tessera.reduce_mean %x {axes = array<i64: 0, 1>, keepdims = false} : tensor<8x4xf32> -> tensor<f32>
  return %m : tensor<f32>
}

// -----

// A depthwise conv split by channels has half the groups on each device.
shard.grid @mesh(shape = 2) {tessera.axis_names = ["model"]}
// CHECK-LABEL: func.func @depthwise
// CHECK: tessera.conv %arg0, %arg1 {{{.*}}groups = 2 : i64{{.*}}} : (tensor<1x2x8x8xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x8x8xf32>
func.func @depthwise(%x: tensor<1x4x8x8xf32> {tessera.sharding = "[{}, {model}, {}, {}]"}, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x8x8xf32> {
  %c = tessera.conv %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, groups = 4 : i64} : (tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x8x8xf32>
  return %c : tensor<1x4x8x8xf32>
}

// -----

// An op without a rule (a gather along axis 1) computes whole values; the
// split its consumer gives the result is sliced from it. A reversed slice
// keeps its dim whole.
shard.grid @mesh(shape = 2) {tessera.axis_names = ["data"]}
// CHECK-LABEL: func.func @no_rule
// CHECK: %[[G:.*]] = tessera.gather {{.*}} -> tensor<8x4xf32>
// CHECK: %[[S:.*]] = shard.all_slice %[[G]] on @mesh grid_axes = [0] slice_axis = 0 : tensor<8x4xf32> -> tensor<4x4xf32>
// CHECK: tessera.add %[[S]], %arg2
// CHECK: %[[W:.*]] = shard.all_gather %arg2 on @mesh grid_axes = [0] gather_axis = 0 : tensor<4x4xf32> -> tensor<8x4xf32>
// CHECK: tessera.slice %[[W]] {starts = array<i64: 7, 0>, steps = array<i64: -1, 1>{{.*}}} : tensor<8x4xf32> -> tensor<8x4xf32>
func.func @no_rule(%t: tensor<8x16xf32>, %i: tensor<4xi64>, %x: tensor<8x4xf32> {tessera.sharding = "[{data}, {}]"}) -> (tensor<8x4xf32>, tensor<8x4xf32>) {
  %g = tessera.gather %t, %i {axis = 1 : i64} : (tensor<8x16xf32>, tensor<4xi64>) -> tensor<8x4xf32>
  %y = tessera.add %g, %x : tensor<8x4xf32>, tensor<8x4xf32> -> tensor<8x4xf32>
  %r = tessera.slice %x {starts = array<i64: 7, 0>, steps = array<i64: -1, 1>} : tensor<8x4xf32> -> tensor<8x4xf32>
  return %y, %r : tensor<8x4xf32>, tensor<8x4xf32>
}

// -----

// An annotation that differs from its (user-split) source reshards it.
shard.grid @mesh(shape = 2) {tessera.axis_names = ["data"]}
// CHECK-LABEL: func.func @annotated
// CHECK: %[[T:.*]] = shard.all_to_all %arg0 on @mesh grid_axes = [0] split_axis = 1 concat_axis = 0 : tensor<4x8xf32> -> tensor<8x4xf32>
// CHECK: return %[[T]]
func.func @annotated(%x: tensor<8x8xf32> {tessera.sharding = "[{data}, {}]"}) -> tensor<8x8xf32> {
  %s = shard.sharding @mesh split_axes = [[], [0]] : !shard.sharding
  %y = shard.shard %x to %s : tensor<8x8xf32>
  return %y : tensor<8x8xf32>
}

// -----

// A partial sum whose consumer wants it split along the same axes is
// reduce-scattered (each device receives only its part of the sum), not
// all-reduced and sliced: the second matmul contracts over `model` and the
// third splits its contraction (so its input's dim 1) over `model` too.
shard.grid @mesh(shape = 4) {tessera.axis_names = ["model"]}
// CHECK-LABEL: func.func @reduce_scatter
// CHECK: %[[P:.*]] = tessera.matmul {{.*}} : tensor<8x4xf32>, tensor<4x16xf32> -> tensor<8x16xf32>
// CHECK: %[[S:.*]] = shard.reduce_scatter %[[P]] on @mesh grid_axes = [0] scatter_axis = 1 : tensor<8x16xf32> -> tensor<8x4xf32>
// CHECK-NOT: shard.all_slice %[[P]]
// CHECK: tessera.relu %[[S]]
// CHECK: %[[Y:.*]] = tessera.matmul {{.*}} : tensor<8x4xf32>, tensor<4x16xf32> -> tensor<8x16xf32>
// CHECK: shard.all_reduce %[[Y]] on @mesh grid_axes = [0]
func.func @reduce_scatter(%x: tensor<8x16xf32>, %w1: tensor<16x16xf32> {tessera.sharding = "[{}, {model}]"}, %w2: tensor<16x16xf32> {tessera.sharding = "[{model}, {}]"}, %w3: tensor<16x16xf32> {tessera.sharding = "[{model}, {}]"}) -> tensor<8x16xf32> {
  %h = tessera.matmul %x, %w1 : tensor<8x16xf32>, tensor<16x16xf32> -> tensor<8x16xf32>
  %a = tessera.relu %h : tensor<8x16xf32>
  %p = tessera.matmul %a, %w2 : tensor<8x16xf32>, tensor<16x16xf32> -> tensor<8x16xf32>
  %b = tessera.relu %p : tensor<8x16xf32>
  %y = tessera.matmul %b, %w3 : tensor<8x16xf32>, tensor<16x16xf32> -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

// No reduce-scatter when the wanted dim is still split along other axes:
// rows split over `data` and partial over `model`, wanted split over
// `model` alone, need the sum, then the rows gathered over `data`, then
// sliced over `model` (a reduce-scatter first would interleave the wrong
// rows).
shard.grid @mesh(shape = 2x2) {tessera.axis_names = ["data", "model"]}
// CHECK-LABEL: func.func @no_reduce_scatter
// CHECK-NOT: shard.reduce_scatter
// CHECK: %[[R:.*]] = shard.all_reduce %{{.*}} on @mesh grid_axes = [1] : tensor<4x16xf32> -> tensor<4x16xf32>
// CHECK: %[[G:.*]] = shard.all_gather %[[R]] on @mesh grid_axes = [0] gather_axis = 0 : tensor<4x16xf32> -> tensor<8x16xf32>
// CHECK: %[[S:.*]] = shard.all_slice %[[G]] on @mesh grid_axes = [1] slice_axis = 0 : tensor<8x16xf32> -> tensor<4x16xf32>
// CHECK: return %[[S]]
func.func @no_reduce_scatter(%x: tensor<8x16xf32> {tessera.sharding = "[{data}, {model}]"}, %w: tensor<16x16xf32> {tessera.sharding = "[{model}, {}]"}) -> tensor<8x16xf32> {
  %p = tessera.matmul %x, %w : tensor<8x16xf32>, tensor<16x16xf32> -> tensor<8x16xf32>
  %s = shard.sharding @mesh split_axes = [[1]] : !shard.sharding
  %y = shard.shard %p to %s : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}
