// RUN: tessera-opt %s -split-input-file --tessera-shard-propagate -verify-diagnostics

shard.grid @mesh(shape = 2x4) {tessera.axis_names = ["data", "model"]}
// expected-error @+1 {{argument 0 sharding '[{expert}, {}]': unknown mesh axis 'expert'}}
func.func @unknown_axis(%x: tensor<8x16xf32> {tessera.sharding = "[{expert}, {}]"}) -> tensor<8x16xf32> {
  return %x : tensor<8x16xf32>
}

// -----

shard.grid @mesh(shape = 2x4) {tessera.axis_names = ["data", "model"]}
// expected-error @+1 {{argument 0 sharding '[{data}]': has 1 dims, the tensor 2}}
func.func @rank(%x: tensor<8x16xf32> {tessera.sharding = "[{data}]"}) -> tensor<8x16xf32> {
  return %x : tensor<8x16xf32>
}

// -----

shard.grid @mesh(shape = 2x4) {tessera.axis_names = ["data", "model"]}
// expected-error @+1 {{argument 0 sharding '[{data}, {data}]': mesh axis 'data' used twice}}
func.func @twice(%x: tensor<8x16xf32> {tessera.sharding = "[{data}, {data}]"}) -> tensor<8x16xf32> {
  return %x : tensor<8x16xf32>
}

// -----

// expected-error @+1 {{tessera.axis_names has 1 names for a rank-2 mesh}}
shard.grid @mesh(shape = 2x4) {tessera.axis_names = ["data"]}
func.func @names(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  return %x : tensor<8x16xf32>
}
