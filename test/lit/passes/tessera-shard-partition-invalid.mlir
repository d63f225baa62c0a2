// RUN: tessera-opt %s -split-input-file --tessera-shard-propagate --tessera-shard-partition -verify-diagnostics

shard.grid @mesh(shape = 3) {tessera.axis_names = ["data"]}
// expected-error @+1 {{dim 0 of 'tensor<8x16xf32>' does not split evenly over 3 devices}}
func.func @uneven(%x: tensor<8x16xf32> {tessera.sharding = "[{data}, {}]"}) -> tensor<8x16xf32> {
  return %x : tensor<8x16xf32>
}

// -----

shard.grid @mesh(shape = 2) {tessera.axis_names = ["data"]}
func.func @halo(%x: tensor<1x3x8x8xf32> {tessera.sharding = "[{}, {}, {data}, {}]"}) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{tessera.avg_pool is split along a spatial dim; halo exchange is supported for conv and max_pool only}}
  %p = tessera.avg_pool %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, count_include_pad = false} : tensor<1x3x8x8xf32> -> tensor<1x3x4x4xf32>
  return %p : tensor<1x3x4x4xf32>
}

// -----

shard.grid @mesh(shape = 4) {tessera.axis_names = ["data"]}
func.func @halo_too_big(%x: tensor<1x3x8x8xf32> {tessera.sharding = "[{}, {}, {data}, {}]"}, %w: tensor<4x3x7x7xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{tessera.conv split along dim 2: a slice of 2 rows for 2 output rows at stride 1 needs halos of 3 and 3 rows, which this split cannot give}}
  %c = tessera.conv %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 3, 3, 3, 3>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x7x7xf32>) -> tensor<1x4x8x8xf32>
  return %c : tensor<1x4x8x8xf32>
}
