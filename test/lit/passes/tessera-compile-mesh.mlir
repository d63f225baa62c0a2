// tessera-compile --mesh/--shard-spec: a named input and two named weights
// (Megatron MLP with a batch split), propagated and partitioned.
// RUN: tessera-compile -q %s --mesh=data=2,model=4 --shard-spec=%S/Inputs/mesh-spec.json --shard-report=%t.txt --emit=spmd -o - | FileCheck %s
// RUN: FileCheck %s --check-prefix=REPORT < %t.txt
// The artifact: whole shapes, each device's shard and split in the manifest;
// run on 8 processes, each row of y is 64 * 0.25 * 0.5 * sum(x row) = 128
// for x = ones.
// RUN: tessera-compile -q %s --mesh=data=2,model=4 --shard-spec=%S/Inputs/mesh-spec.json -o %t.tsr
// RUN: tessera-run %t.tsr --info | FileCheck %s --check-prefix=MANIFEST
// RUN: %python -c "import numpy; numpy.save('%t.npy', numpy.ones((8, 16), numpy.float32))"
// RUN: env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe --bind-to none -np 8 tessera-run %t.tsr --input x=%t.npy | FileCheck %s --check-prefix=RUN8
// RUN: not tessera-run %t.tsr --input x=%t.npy 2>&1 | FileCheck %s --check-prefix=RUN1
// RUN: not tessera-compile -q %s --target=cuda --mesh=data=2,model=4 -o %t.cuda.tsr 2>&1 | FileCheck %s --check-prefix=NOCUDA
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
// MANIFEST: input 'x': [8,16] (f32), 512 bytes
// MANIFEST: output 'y': [8,16] (f32), 512 bytes
// MANIFEST: "local_shape": [
// MANIFEST-NEXT: 4,
// MANIFEST-NEXT: 16
// MANIFEST: "sharding": "[{data}, {}]",
// MANIFEST-NEXT: "split": [
// MANIFEST-NEXT: [
// MANIFEST-NEXT: 0
// MANIFEST-NEXT: ],
// MANIFEST-NEXT: []
// MANIFEST: "mesh": {
// MANIFEST-NEXT: "axes": [
// MANIFEST-NEXT: "data",
// MANIFEST-NEXT: "model"
// MANIFEST-NEXT: ],
// MANIFEST-NEXT: "shape": [
// MANIFEST-NEXT: 2,
// MANIFEST-NEXT: 4
// RUN8: output 'y': shape [8,16] f32
// RUN8: min 128  max 128  mean 128
// RUN8: partitioned: 8 devices (one process each)
// RUN1: error: tsr_model_run: the model is partitioned over 8 devices (mesh data=2,model=4) but runs on 1 processes: launch it with mpirun -np 8
// NOCUDA: error: --mesh: partitioned programs run on the CPU target
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
