// RUN: tessera-opt %s --tessera-lower-collectives | FileCheck %s

// Each collective becomes a call to a private wrapper taking its input and
// output buffers; the wrapper hands their addresses and a constant
// descriptor (tessera/Collectives.h: version, kind, dtype, reduction, a, b,
// mesh rank and shape, group axes, input rank and dims) to tsr_coll_run.
// The grid moves to module attributes.
// CHECK: module attributes {tessera.mesh_axes = ["data", "model"], tessera.mesh_shape = array<i64: 2, 4>}
// CHECK-NOT: shard.
// CHECK-LABEL: func.func @main
// CHECK: %[[IN:.*]] = bufferization.to_buffer %arg0 read_only : tensor<8x16xf32> to memref<8x16xf32>
// CHECK: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<8x16xf32>
// CHECK: call @__tsr_coll_0(%[[IN]], %[[OUT]]) : (memref<8x16xf32>, memref<8x16xf32>) -> ()
// CHECK: %[[R:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: call @__tsr_coll_1({{.*}}) : (memref<8x16xf32>, memref<8x32xf32>) -> ()
// CHECK: call @__tsr_coll_2({{.*}}) : (memref<8x16xf32>, memref<1x16xf32>) -> ()
// CHECK: call @__tsr_coll_3({{.*}}) : (memref<2x8xi64>, memref<8x2xi64>) -> ()
// CHECK: call @__tsr_coll_4({{.*}}) : (memref<8x16xf32>, memref<8x16xf32>) -> ()
// CHECK: %[[D:.*]] = memref.get_global @__tsr_coll_desc_5 : memref<12xi64>
// CHECK: %[[P:.*]] = memref.extract_aligned_pointer_as_index %[[D]]
// CHECK: %[[P64:.*]] = arith.index_cast %[[P]] : index to i64
// CHECK: %[[I:.*]] = call @tsr_coll_process_index(%[[P64]]) : (i64) -> i64
// CHECK: %[[IDX:.*]] = arith.index_cast %[[I]] : i64 to index
// CHECK: return %[[R]], {{.*}}, %[[IDX]], {{.*}}
// CHECK: func.func private @tsr_coll_run(i64, i64, i64)
// CHECK: func.func private @__tsr_coll_0(%arg0: memref<8x16xf32>, %arg1: memref<8x16xf32>) attributes {tessera.collective = "shard.all_reduce"}
// CHECK: call @tsr_coll_run
// all_reduce (1), f32 (1), sum (0); mesh 2x4; group [1]; input 8x16.
// CHECK: memref.global "private" constant @__tsr_coll_desc_0 : memref<14xi64> = dense<[1, 1, 1, 0, 0, 0, 2, 2, 4, 1, 1, 2, 8, 16]>
// all_gather (2) along dim 1 over [0].
// CHECK: @__tsr_coll_desc_1 : memref<14xi64> = dense<[1, 2, 1, 0, 1, 0, 2, 2, 4, 1, 0, 2, 8, 16]>
// all_slice (3) of dim 0 over [1, 0], in that order.
// CHECK: @__tsr_coll_desc_2 : memref<15xi64> = dense<[1, 3, 1, 0, 0, 0, 2, 2, 4, 2, 1, 0, 2, 8, 16]>
// all_to_all (4) of i64 (9): split dim 1, concat dim 0.
// CHECK: @__tsr_coll_desc_3 : memref<14xi64> = dense<[1, 4, 9, 0, 1, 0, 2, 2, 4, 1, 1, 2, 2, 8]>
// shift (5) by -1 with rotate (1) along axis 0.
// CHECK: @__tsr_coll_desc_4 : memref<14xi64> = dense<[1, 5, 1, 0, -1, 1, 2, 2, 4, 1, 0, 2, 8, 16]>
// process_index (6) over [1]; no tensor.
// CHECK: @__tsr_coll_desc_5 : memref<12xi64> = dense<[1, 6, 9, 0, 0, 0, 2, 2, 4, 1, 1, 0]>
// reduce_scatter (7), max (1), of dim 1 over [1].
// CHECK: func.func private @__tsr_coll_6(%arg0: memref<8x16xf32>, %arg1: memref<8x4xf32>) attributes {tessera.collective = "shard.reduce_scatter"}
// CHECK: @__tsr_coll_desc_6 : memref<14xi64> = dense<[1, 7, 1, 1, 1, 0, 2, 2, 4, 1, 1, 2, 8, 16]>
shard.grid @mesh(shape = 2x4) {tessera.axis_names = ["data", "model"]}
func.func @main(%x: tensor<8x16xf32>, %y: tensor<2x8xi64>) -> (tensor<8x16xf32>, tensor<8x32xf32>, tensor<1x16xf32>, tensor<8x2xi64>, tensor<8x16xf32>, index, tensor<8x4xf32>) {
  %r = shard.all_reduce %x on @mesh grid_axes = [1] : tensor<8x16xf32> -> tensor<8x16xf32>
  %g = shard.all_gather %x on @mesh grid_axes = [0] gather_axis = 1 : tensor<8x16xf32> -> tensor<8x32xf32>
  %s = shard.all_slice %x on @mesh grid_axes = [1, 0] slice_axis = 0 : tensor<8x16xf32> -> tensor<1x16xf32>
  %a = shard.all_to_all %y on @mesh grid_axes = [1] split_axis = 1 concat_axis = 0 : tensor<2x8xi64> -> tensor<8x2xi64>
  %h = shard.shift %x on @mesh grid_axes = [0] shift_axis = 0 offset = -1 rotate : tensor<8x16xf32> -> tensor<8x16xf32>
  %i = shard.process_multi_index on @mesh axes = [1] : index
  %q = shard.reduce_scatter %x on @mesh grid_axes = [1] reduction = max scatter_axis = 1 : tensor<8x16xf32> -> tensor<8x4xf32>
  return %r, %g, %s, %a, %h, %i, %q : tensor<8x16xf32>, tensor<8x32xf32>, tensor<1x16xf32>, tensor<8x2xi64>, tensor<8x16xf32>, index, tensor<8x4xf32>
}
