// RUN: tessera-opt %s -split-input-file --tessera-shard-propagate --tessera-shard-partition | FileCheck %s

// Megatron MLP on a 2x4 mesh (W1 by columns, W2 by rows along `model`):
// local weights are a quarter, the hidden activations stay local, and the
// forward pass has exactly one collective, an all-reduce of the output.
shard.grid @mesh(shape = 2x4) {tessera.axis_names = ["data", "model"]}
// CHECK-LABEL: func.func @megatron_mlp
// CHECK-SAME: %arg1: tensor<16x16xf32> {tessera.sharding = "[{}, {model}]"}
// CHECK-SAME: %arg2: tensor<16x16xf32> {tessera.sharding = "[{model}, {}]"}
// CHECK-SAME: attributes {tessera.spmd = @mesh}
// CHECK-NOT: shard.all_gather
// CHECK-NOT: shard.all_slice
// CHECK: tessera.matmul {{.*}} : tensor<8x16xf32>, tensor<16x16xf32> -> tensor<8x16xf32>
// CHECK: tessera.relu
// CHECK: %[[Y:.*]] = tessera.matmul
// CHECK: %[[R:.*]] = shard.all_reduce %[[Y]] on @mesh grid_axes = [1] : tensor<8x16xf32> -> tensor<8x16xf32>
// CHECK-NOT: shard.all_reduce
// CHECK: return %[[R]]
func.func @megatron_mlp(%x: tensor<8x16xf32>, %w1: tensor<16x64xf32>, %w2: tensor<64x16xf32>) -> tensor<8x16xf32> {
  %s1 = shard.sharding @mesh split_axes = [[], [1]] : !shard.sharding
  %s2 = shard.sharding @mesh split_axes = [[1]] : !shard.sharding
  %w1s = shard.shard %w1 to %s1 : tensor<16x64xf32>
  %w2s = shard.shard %w2 to %s2 : tensor<64x16xf32>
  %h = tessera.matmul %x, %w1s : tensor<8x16xf32>, tensor<16x64xf32> -> tensor<8x64xf32>
  %a = tessera.relu %h : tensor<8x64xf32>
  %y = tessera.matmul %a, %w2s : tensor<8x64xf32>, tensor<64x16xf32> -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

// Megatron self-attention: Q/K/V by columns (= by heads), the output
// projection by rows. Heads stay local through reshape, transpose, the
// score matmul and the softmax; exactly one all-reduce forward.
shard.grid @mesh(shape = 4) {tessera.axis_names = ["model"]}
// CHECK-LABEL: func.func @attention
// CHECK-NOT: shard.all_gather
// CHECK: tessera.softmax {{.*}} : tensor<1x16x16xf32>
// CHECK: shard.all_reduce {{.*}} grid_axes = [0] : tensor<16x32xf32>
// CHECK-NOT: shard.all_reduce
// CHECK: return
func.func @attention(%x: tensor<16x32xf32>, %wq: tensor<32x32xf32> {tessera.sharding = "[{}, {model}]"}, %wk: tensor<32x32xf32> {tessera.sharding = "[{}, {model}]"}, %wv: tensor<32x32xf32> {tessera.sharding = "[{}, {model}]"}, %wo: tensor<32x32xf32> {tessera.sharding = "[{model}, {}]"}) -> tensor<16x32xf32> {
  %q = tessera.matmul %x, %wq : tensor<16x32xf32>, tensor<32x32xf32> -> tensor<16x32xf32>
  %k = tessera.matmul %x, %wk : tensor<16x32xf32>, tensor<32x32xf32> -> tensor<16x32xf32>
  %v = tessera.matmul %x, %wv : tensor<16x32xf32>, tensor<32x32xf32> -> tensor<16x32xf32>
  %q3 = tessera.reshape %q : tensor<16x32xf32> -> tensor<16x4x8xf32>
  %k3 = tessera.reshape %k : tensor<16x32xf32> -> tensor<16x4x8xf32>
  %v3 = tessera.reshape %v : tensor<16x32xf32> -> tensor<16x4x8xf32>
  %qh = tessera.transpose %q3 {perm = array<i64: 1, 0, 2>} : tensor<16x4x8xf32> -> tensor<4x16x8xf32>
  %kh = tessera.transpose %k3 {perm = array<i64: 1, 2, 0>} : tensor<16x4x8xf32> -> tensor<4x8x16xf32>
  %vh = tessera.transpose %v3 {perm = array<i64: 1, 0, 2>} : tensor<16x4x8xf32> -> tensor<4x16x8xf32>
  %s = tessera.matmul %qh, %kh : tensor<4x16x8xf32>, tensor<4x8x16xf32> -> tensor<4x16x16xf32>
  %p = tessera.softmax %s {axis = 2 : i64} : tensor<4x16x16xf32>
  %c = tessera.matmul %p, %vh : tensor<4x16x16xf32>, tensor<4x16x8xf32> -> tensor<4x16x8xf32>
  %ct = tessera.transpose %c {perm = array<i64: 1, 0, 2>} : tensor<4x16x8xf32> -> tensor<16x4x8xf32>
  %c2 = tessera.reshape %ct : tensor<16x4x8xf32> -> tensor<16x32xf32>
  %o = tessera.matmul %c2, %wo : tensor<16x32xf32>, tensor<32x32xf32> -> tensor<16x32xf32>
  return %o : tensor<16x32xf32>
}

// -----

// Data parallelism with a split the op cannot use: the softmax axis is
// gathered first; a mean over the split batch becomes a partial sum of
// local means scaled by 1/2, all-reduced at the result. A sharded constant
// stays whole and is sliced (no communication) where it is used.
shard.grid @mesh(shape = 2) {tessera.axis_names = ["data"]}
// CHECK-LABEL: func.func @data_parallel
// CHECK-SAME: %arg0: tensor<4x16xf32>
// CHECK: %[[B:.*]] = tessera.constant {{.*}} : tensor<8x16xf32>
// CHECK: %[[BS:.*]] = shard.all_slice %[[B]] on @mesh grid_axes = [0] slice_axis = 0 : tensor<8x16xf32> -> tensor<4x16xf32>
// CHECK: %[[X:.*]] = tessera.add %arg0, %[[BS]]
// CHECK: %[[T:.*]] = tessera.transpose %[[X]] {{.*}} -> tensor<16x4xf32>
// CHECK: %[[G:.*]] = shard.all_gather %[[T]] on @mesh grid_axes = [0] gather_axis = 1 : tensor<16x4xf32> -> tensor<16x8xf32>
// CHECK: tessera.softmax %[[G]] {{.*}} : tensor<16x8xf32>
// CHECK: %[[M:.*]] = tessera.reduce_mean %[[X]] {{.*}} -> tensor<16xf32>
// CHECK: %[[H:.*]] = tessera.constant dense<5.000000e-01> : tensor<1xf32>
// CHECK: %[[MS:.*]] = tessera.mul %[[M]], %[[H]]
// CHECK: shard.all_reduce %[[MS]] on @mesh grid_axes = [0] : tensor<16xf32> -> tensor<16xf32>
func.func @data_parallel(%x: tensor<8x16xf32> {tessera.sharding = "[{data}, {}]"}) -> (tensor<16x8xf32>, tensor<16xf32>) {
  %b = tessera.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 17.0]]> : tensor<8x16xf32>
  %xb = tessera.add %x, %b : tensor<8x16xf32>, tensor<8x16xf32> -> tensor<8x16xf32>
  %t = tessera.transpose %xb {perm = array<i64: 1, 0>} : tensor<8x16xf32> -> tensor<16x8xf32>
  %s = tessera.softmax %t {axis = 1 : i64} : tensor<16x8xf32>
  %m = tessera.reduce_mean %xb {axes = array<i64: 0>, keepdims = false} : tensor<8x16xf32> -> tensor<16xf32>
  return %s, %m : tensor<16x8xf32>, tensor<16xf32>
}

// -----

// A split of the contraction leaves a partial sum; a bias added to it must
// see the reduced value (else it would be added once per device).
shard.grid @mesh(shape = 2) {tessera.axis_names = ["model"]}
// CHECK-LABEL: func.func @partial_then_bias
// CHECK: %[[Y:.*]] = tessera.matmul {{.*}} : tensor<4x8xf32>, tensor<8x16xf32> -> tensor<4x16xf32>
// CHECK: %[[R:.*]] = shard.all_reduce %[[Y]]
// CHECK: tessera.add %[[R]], %arg2
func.func @partial_then_bias(%x: tensor<4x16xf32> {tessera.sharding = "[{}, {model}]"}, %w: tensor<16x16xf32> {tessera.sharding = "[{model}, {}]"}, %b: tensor<16xf32>) -> tensor<4x16xf32> {
  %y = tessera.matmul %x, %w : tensor<4x16xf32>, tensor<16x16xf32> -> tensor<4x16xf32>
  %z = tessera.add %y, %b : tensor<4x16xf32>, tensor<16xf32> -> tensor<4x16xf32>
  return %z : tensor<4x16xf32>
}

// -----

// A split moving from one dim to another is one all-to-all (a softmax over
// the split batch dim whose result is annotated split by columns).
shard.grid @mesh(shape = 4) {tessera.axis_names = ["data"]}
// CHECK-LABEL: func.func @move_split
// CHECK: %[[T:.*]] = shard.all_to_all %arg0 on @mesh grid_axes = [0] split_axis = 1 concat_axis = 0 : tensor<2x16xf32> -> tensor<8x4xf32>
// CHECK: tessera.softmax %[[T]] {{.*}} : tensor<8x4xf32>
// CHECK-NOT: shard.all_gather
func.func @move_split(%x: tensor<8x16xf32> {tessera.sharding = "[{data}, {}]"}) -> tensor<8x16xf32> {
  %s = tessera.softmax %x {axis = 0 : i64} : tensor<8x16xf32>
  %sh = shard.sharding @mesh split_axes = [[], [0]] : !shard.sharding
  %r = shard.shard %s to %sh : tensor<8x16xf32>
  return %r : tensor<8x16xf32>
}

// -----

// Spatial partitioning: a conv (3x3, pad 1) and a max-pool (3x3, stride 2,
// pad 1) split by rows over two devices. The conv receives one row from
// each neighbour (shift +1 and -1), the pool one row from above; the edge
// devices use the padding value instead (0 for the conv, -inf for the
// pool), and the ops run unpadded along the split dim.
shard.grid @mesh(shape = 2) {tessera.axis_names = ["data"]}
// CHECK-LABEL: func.func @halo
// CHECK-SAME: %arg0: tensor<1x3x4x8xf32>
// CHECK: %[[I:.*]] = shard.process_multi_index on @mesh axes = [0] : index
// CHECK: %[[LAST:.*]] = tessera.slice %arg0 {starts = array<i64: 0, 0, 3, 0>{{.*}} -> tensor<1x3x1x8xf32>
// CHECK: %[[DOWN:.*]] = shard.shift %[[LAST]] on @mesh grid_axes = [0] shift_axis = 0 offset = 1
// CHECK: %[[Z:.*]] = tessera.constant dense<0.000000e+00> : tensor<1x3x1x8xf32>
// CHECK: %[[FIRST_DEV:.*]] = arith.cmpi eq, %[[I]], %c0
// CHECK: %[[TOP:.*]] = arith.select %[[FIRST_DEV]], %[[Z]], %[[DOWN]]
// CHECK: %[[HEAD:.*]] = tessera.slice %arg0 {starts = array<i64: 0, 0, 0, 0>{{.*}} -> tensor<1x3x1x8xf32>
// CHECK: %[[UP:.*]] = shard.shift %[[HEAD]] on @mesh grid_axes = [0] shift_axis = 0 offset = -1
// CHECK: %[[LAST_DEV:.*]] = arith.cmpi eq, %[[I]], %c1
// CHECK: %[[BOTTOM:.*]] = arith.select %[[LAST_DEV]], %{{.*}}, %[[UP]]
// CHECK: %[[X:.*]] = tessera.concat %[[TOP]], %arg0, %[[BOTTOM]] {axis = 2 : i64} {{.*}} -> tensor<1x3x6x8xf32>
// CHECK: %[[C:.*]] = tessera.conv %[[X]], %arg1 {{{.*}}pads = array<i64: 0, 1, 0, 1>{{.*}} -> tensor<1x4x4x8xf32>
// CHECK: shard.shift {{.*}} offset = 1
// CHECK: tessera.constant dense<0xFF800000> : tensor<1x4x1x8xf32>
// CHECK-NOT: offset = -1
// CHECK: tessera.max_pool {{.*}}pads = array<i64: 0, 1, 0, 1>{{.*}} : tensor<1x4x5x8xf32> -> tensor<1x4x2x4xf32>
func.func @halo(%x: tensor<1x3x8x8xf32> {tessera.sharding = "[{}, {}, {data}, {}]"}, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32> {
  %c = tessera.conv %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  %p = tessera.max_pool %c {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
  return %p : tensor<1x4x4x4xf32>
}
