// RUN: tessera-opt %s -split-input-file --tessera-shard-propagate | FileCheck %s
// RUN: tessera-opt %s -split-input-file --tessera-shard-propagate=report=- -o /dev/null | FileCheck %s --check-prefix=REPORT

// Megatron MLP: W1 split by columns, W2 by rows along `model`. The hidden
// activations stay split, the second matmul leaves a partial sum: exactly
// one all-reduce, at the result.
shard.grid @mesh(shape = 2x4) {tessera.axis_names = ["data", "model"]}
// CHECK-LABEL: func.func @megatron_mlp
// CHECK-SAME: %arg0: tensor<8x16xf32> {tessera.sharding = "[{}, {}]"}
// CHECK-SAME: -> (tensor<8x16xf32> {tessera.sharding = "[{}, {}]"})
func.func @megatron_mlp(%x: tensor<8x16xf32>, %w1: tensor<16x64xf32>, %w2: tensor<64x16xf32>) -> tensor<8x16xf32> {
  %s1 = shard.sharding @mesh split_axes = [[], [1]] : !shard.sharding
  %s2 = shard.sharding @mesh split_axes = [[1]] : !shard.sharding
  %w1s = shard.shard %w1 to %s1 : tensor<16x64xf32>
  %w2s = shard.shard %w2 to %s2 : tensor<64x16xf32>
  // CHECK: tessera.matmul {{.*}}tessera.sharding = ["[{}, {model}]"]
  %h = tessera.matmul %x, %w1s : tensor<8x16xf32>, tensor<16x64xf32> -> tensor<8x64xf32>
  // CHECK: tessera.relu {{.*}}tessera.sharding = ["[{}, {model}]"]
  %a = tessera.relu %h : tensor<8x64xf32>
  // CHECK: tessera.matmul {{.*}}tessera.sharding = ["[{}, {}] partial{model}"]
  %y = tessera.matmul %a, %w2s : tensor<8x64xf32>, tensor<64x16xf32> -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}
// REPORT-LABEL: sharding of @megatron_mlp on mesh @mesh [data=2, model=4]
// REPORT: arg 1: tensor<16x64xf32> [{}, {model}] (user)
// REPORT: arg 2: tensor<64x16xf32> [{model}, {}] (user)
// REPORT-NOT: reshard operand
// REPORT: return 0 (512 bytes): all-reduce{model}
// REPORT-NEXT: 1 reshard(s) of 512 bytes in all

// -----

// Data and tensor parallelism together: the batch split given on the
// argument flows through both matmuls and the bias add.
shard.grid @mesh(shape = 2x4) {tessera.axis_names = ["data", "model"]}
// CHECK-LABEL: func.func @mixed
func.func @mixed(%x: tensor<8x16xf32> {tessera.sharding = "[{data}, {}]"}, %w1: tensor<16x64xf32>, %b1: tensor<64xf32>, %w2: tensor<64x16xf32>) -> tensor<8x16xf32> {
  %s1 = shard.sharding @mesh split_axes = [[], [1]] : !shard.sharding
  %s2 = shard.sharding @mesh split_axes = [[1]] : !shard.sharding
  %w1s = shard.shard %w1 to %s1 : tensor<16x64xf32>
  %w2s = shard.shard %w2 to %s2 : tensor<64x16xf32>
  // CHECK: tessera.matmul {{.*}}["[{data}, {model}]"]
  %h = tessera.matmul %x, %w1s : tensor<8x16xf32>, tensor<16x64xf32> -> tensor<8x64xf32>
  // CHECK: tessera.add {{.*}}["[{data}, {model}]"]
  %hb = tessera.add %h, %b1 : tensor<8x64xf32>, tensor<64xf32> -> tensor<8x64xf32>
  // CHECK: tessera.matmul {{.*}}["[{data}, {}] partial{model}"]
  %y = tessera.matmul %hb, %w2s : tensor<8x64xf32>, tensor<64x16xf32> -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}
// The bias is split like the hidden columns it is added to (backward).
// REPORT-LABEL: sharding of @mixed
// REPORT: arg 2: tensor<64xf32> [{model}]
// REPORT: return 0 (512 bytes): all-reduce{model}

// -----

// Conflicts go to the candidate that leaves the fewest bytes to reshard:
// the contraction is split along `data` on the 64 KiB right operand and
// along `model` on the 4 KiB left one; `data` wins and the left operand is
// resharded.
shard.grid @mesh(shape = 2x2) {tessera.axis_names = ["data", "model"]}
// CHECK-LABEL: func.func @conflict
func.func @conflict(%a: tensor<64x16xf32> {tessera.sharding = "[{}, {model}]"}, %b: tensor<16x1024xf32> {tessera.sharding = "[{data}, {}]"}) -> tensor<64x1024xf32> {
  %ar = tessera.relu %a : tensor<64x16xf32>
  %br = tessera.relu %b : tensor<16x1024xf32>
  // CHECK: tessera.matmul {{.*}}tessera.reshard = ["all-gather{model} dim 1, slice{data} dim 1", ""], tessera.sharding = ["[{}, {}] partial{data}"]
  %c = tessera.matmul %ar, %br : tensor<64x16xf32>, tensor<16x1024xf32> -> tensor<64x1024xf32>
  return %c : tensor<64x1024xf32>
}

// -----

// A softmax axis stays whole (the operand is gathered); layer-norm's
// normalized dims too; reshape keeps a head split ([8, 64] -> [8, 4, 16]).
shard.grid @mesh(shape = 4) {tessera.axis_names = ["model"]}
// CHECK-LABEL: func.func @whole_axes
func.func @whole_axes(%x: tensor<8x64xf32> {tessera.sharding = "[{}, {model}]"}) -> (tensor<8x64xf32>, tensor<8x4x16xf32>) {
  // CHECK: tessera.softmax {{.*}}tessera.reshard = ["all-gather{model} dim 1"], tessera.sharding = ["[{}, {}]"]
  %s = tessera.softmax %x {axis = 1 : i64} : tensor<8x64xf32>
  // CHECK: tessera.reshape {{.*}}tessera.sharding = ["[{}, {model}, {}]"]
  %r = tessera.reshape %x : tensor<8x64xf32> -> tensor<8x4x16xf32>
  return %s, %r : tensor<8x64xf32>, tensor<8x4x16xf32>
}

// -----

// Convolutions: a batch split passes through conv, relu and pooling.
shard.grid @mesh(shape = 2) {tessera.axis_names = ["data"]}
// CHECK-LABEL: func.func @conv_batch
func.func @conv_batch(%x: tensor<4x3x8x8xf32> {tessera.sharding = "[{data}, {}, {}, {}]"}, %w: tensor<6x3x3x3xf32>) -> tensor<4x6x4x4xf32> {
  // CHECK: tessera.conv {{.*}}["[{data}, {}, {}, {}]"]
  %c = tessera.conv %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, groups = 1 : i64} : (tensor<4x3x8x8xf32>, tensor<6x3x3x3xf32>) -> tensor<4x6x8x8xf32>
  // CHECK: tessera.max_pool {{.*}}["[{data}, {}, {}, {}]"]
  %p = tessera.max_pool %c {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : tensor<4x6x8x8xf32> -> tensor<4x6x4x4xf32>
  return %p : tensor<4x6x4x4xf32>
}

// -----

// More rules: an embedding lookup keeps the token split and takes the
// table's column split; layer-norm gathers its normalized dim; concat keeps
// its joined dim whole; a max over a split dim is a partial max.
shard.grid @mesh(shape = 2x2) {tessera.axis_names = ["data", "model"]}
// CHECK-LABEL: func.func @more_rules
func.func @more_rules(%ids: tensor<4x8xi64> {tessera.sharding = "[{data}, {}]"}, %table: tensor<100x16xf32> {tessera.sharding = "[{}, {model}]"}, %y: tensor<4x8x16xf32>) -> (tensor<4x8x16xf32>, tensor<4x8x32xf32>, tensor<8x16xf32>) {
  // CHECK: tessera.gather {{.*}}tessera.sharding = ["[{data}, {}, {model}]"]
  %e = tessera.gather %table, %ids {axis = 0 : i64} : (tensor<100x16xf32>, tensor<4x8xi64>) -> tensor<4x8x16xf32>
  // CHECK: tessera.layer_norm {{.*}}tessera.reshard = ["all-gather{model} dim 2"], tessera.sharding = ["[{data}, {}, {}]"]
  %n = tessera.layer_norm %e {axis = 2 : i64, epsilon = 1.0e-05 : f64} : (tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // CHECK: tessera.concat {{.*}}tessera.sharding = ["[{data}, {}, {}]"]
  %c = tessera.concat %n, %y {axis = 2 : i64} : (tensor<4x8x16xf32>, tensor<4x8x16xf32>) -> tensor<4x8x32xf32>
  // CHECK: tessera.reduce_max {{.*}}tessera.sharding = ["[{}, {model}] partial-max{data}"]
  %m = tessera.reduce_max %e {axes = array<i64: 0>, keepdims = false} : tensor<4x8x16xf32> -> tensor<8x16xf32>
  return %n, %c, %m : tensor<4x8x16xf32>, tensor<4x8x32xf32>, tensor<8x16xf32>
}
