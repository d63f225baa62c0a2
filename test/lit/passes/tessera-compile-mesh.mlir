// tessera-compile --mesh/--shard-spec: a named input and two named weights
// (Megatron MLP with a batch split), propagated and partitioned.
// RUN: tessera-compile -q %s --mesh=data=2,model=4 --shard-spec=%S/Inputs/mesh-spec.json --shard-report=%t.txt --emit=spmd -o - | FileCheck %s
// RUN: FileCheck %s --check-prefix=REPORT < %t.txt
// RUN: not tessera-compile -q %s --mesh=data=2,model=4 -o %t.tsr 2>&1 | FileCheck %s --check-prefix=NORUNTIME
// RUN: not tessera-compile -q %s --mesh=data=0 --emit=spmd -o - 2>&1 | FileCheck %s --check-prefix=BADMESH
// RUN: not tessera-compile -q %s --mesh=data=2,model=4 --shard-spec=%S/Inputs/mesh-spec-bad.json --emit=spmd -o - 2>&1 | FileCheck %s --check-prefix=BADNAME
// RUN: not tessera-compile -q %s --emit=spmd -o - 2>&1 | FileCheck %s --check-prefix=NOMESH

// CHECK: shard.grid @mesh(shape = 2x4) {tessera.axis_names = ["data", "model"]}
// CHECK: @main(%arg0: tensor<4x16xf32> {tessera.name = "x", tessera.sharding = "[{data}, {}]"})
// CHECK-SAME: -> (tensor<4x16xf32> {tessera.name = "y", tessera.sharding = "[{data}, {}]"})
// CHECK-DAG: shard.all_slice {{.*}} slice_axis = 1 : tensor<16x64xf32> -> tensor<16x16xf32>
// CHECK-DAG: shard.all_slice {{.*}} slice_axis = 0 : tensor<64x16xf32> -> tensor<16x16xf32>
// CHECK-NOT: shard.all_gather
// CHECK: shard.all_reduce {{.*}} grid_axes = [1] : tensor<4x16xf32> -> tensor<4x16xf32>
// CHECK-NOT: shard.all_reduce
// CHECK-NOT: shard.all_gather
// REPORT: arg 0: tensor<8x16xf32> [{data}, {}] (user)
// REPORT: tessera.matmul -> [{data}, {model}]
// REPORT: tessera.matmul -> [{data}, {}] partial{model}
// REPORT: return 0 (512 bytes): all-reduce{model}
// NORUNTIME: error: running a partitioned program needs the multi-process runtime
// BADMESH: error: --mesh='data=0': expected NAME=SIZE
// BADNAME: error: --shard-spec: no input or weight named 'w3' (w1, w2, x)
// NOMESH: error: --emit=spmd, --shard-spec and --shard-report need --mesh
func.func @main(%x: tensor<8x16xf32> {tessera.name = "x"}) -> (tensor<8x16xf32> {tessera.name = "y"}) {
  %w1 = tessera.constant dense<0.5> : tensor<16x64xf32> loc("w1")
  %w2 = tessera.constant dense<0.25> : tensor<64x16xf32> loc("w2")
  %h = tessera.matmul %x, %w1 : tensor<8x16xf32>, tensor<16x64xf32> -> tensor<8x64xf32>
  %a = tessera.relu %h : tensor<8x64xf32>
  %y = tessera.matmul %a, %w2 : tensor<8x64xf32>, tensor<64x16xf32> -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}
