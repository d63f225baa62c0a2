// RUN: tessera-opt %s -split-input-file --tessera-shard-propagate --tessera-shard-partition -verify-diagnostics

shard.grid @mesh(shape = 3) {tessera.axis_names = ["data"]}
// expected-error @+1 {{dim 0 of 'tensor<8x16xf32>' does not split evenly over 3 devices}}
func.func @uneven(%x: tensor<8x16xf32> {tessera.sharding = "[{data}, {}]"}) -> tensor<8x16xf32> {
  return %x : tensor<8x16xf32>
}

// -----

shard.grid @mesh(shape = 2) {tessera.axis_names = ["data"]}
func.func @halo(%x: tensor<1x3x8x8xf32> {tessera.sharding = "[{}, {}, {data}, {}]"}, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{tessera.conv is split along a spatial dim; halo exchange is not supported yet}}
  %c = tessera.conv %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return %c : tensor<1x4x8x8xf32>
}
