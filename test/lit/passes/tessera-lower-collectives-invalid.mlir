// RUN: tessera-opt %s -split-input-file -verify-diagnostics --tessera-lower-collectives

shard.grid @mesh(shape = 2) {tessera.axis_names = ["data"]}
func.func @reduce_i8(%x: tensor<8xi8>) -> tensor<8xi8> {
  // expected-error @below {{all_reduce of 'i8' is not supported (f32, f64, i32, i64)}}
  %r = shard.all_reduce %x on @mesh grid_axes = [0] : tensor<8xi8> -> tensor<8xi8>
  return %r : tensor<8xi8>
}

// -----

shard.grid @mesh(shape = 2) {tessera.axis_names = ["data"]}
func.func @annotation_left(%x: tensor<8xf32>) -> tensor<8xf32> {
  %s = shard.sharding @mesh split_axes = [[0]] : !shard.sharding
  // expected-error @below {{shard.shard has no lowering to runtime calls}}
  %y = shard.shard %x to %s : tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

shard.grid @mesh(shape = 2x?)
func.func @dynamic_grid(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @below {{grid @mesh must be a shard.grid of static shape}}
  %r = shard.all_reduce %x on @mesh grid_axes = [0] : tensor<8xf32> -> tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

shard.grid @mesh(shape = 2) {tessera.axis_names = ["data"]}
func.func @reduce_scatter_bf16(%x: tensor<8xbf16>) -> tensor<4xbf16> {
  // expected-error @below {{reduce_scatter of 'bf16' is not supported (f32, f64, i32, i64)}}
  %r = shard.reduce_scatter %x on @mesh grid_axes = [0] scatter_axis = 0 : tensor<8xbf16> -> tensor<4xbf16>
  return %r : tensor<4xbf16>
}
