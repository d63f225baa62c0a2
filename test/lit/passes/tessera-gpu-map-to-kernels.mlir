// RUN: tessera-opt %s --pass-pipeline='builtin.module(func.func(tessera-gpu-map-to-kernels{block-size=128}))' | FileCheck %s
// RUN: tessera-opt %s --pass-pipeline='builtin.module(func.func(tessera-gpu-map-to-kernels{use-library=false}))' | FileCheck %s --check-prefix=NOLIB

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>

// One thread per element: 6x100 = 600 points, 5 blocks of 128 threads,
// the linear id delinearised into the two loop indices.
// CHECK-LABEL: func @elementwise
// CHECK-DAG: %[[C5:.*]] = arith.constant 5 : index
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C5]], {{.*}} threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C128]]
// CHECK: %[[MUL:.*]] = arith.muli %[[BX]]
// CHECK: %[[LIN:.*]] = arith.addi %[[MUL]], %[[TX]]
// CHECK: %[[OK:.*]] = arith.cmpi ult, %[[LIN]], %{{.*}}
// CHECK: scf.if %[[OK]]
// CHECK: arith.remui %[[LIN]]
// CHECK: arith.divui %[[LIN]]
// CHECK: memref.load
// CHECK: arith.addf
// CHECK: memref.store
// CHECK: gpu.terminator
// CHECK-NOT: linalg.generic
func.func @elementwise(%a: memref<6x100xf32>, %b: memref<100xf32>, %o: memref<6x100xf32>) {
  linalg.generic {indexing_maps = [#id2, #row, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : memref<6x100xf32>, memref<100xf32>) outs(%o : memref<6x100xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  return
}

// A reduction in the middle of the loop order: the parallel loops go first,
// the reduction is a sequential loop inside each thread.
// CHECK-LABEL: func @reduce_middle
// CHECK: gpu.launch
// CHECK: scf.if
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}}
// CHECK: arith.addf
func.func @reduce_middle(%a: memref<4x8x16xf32>, %o: memref<4x16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a : memref<4x8x16xf32>) outs(%o : memref<4x16xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  return
}

// A large GEMM (Linear on [2,256,512] x [512,512]) goes to cuBLAS; without
// the library it becomes a kernel.
// CHECK-LABEL: func @gemm
// CHECK: linalg.generic {{.*}}library_call = "tessera_cublas_gemm"
// CHECK-NOT: gpu.launch
// NOLIB-LABEL: func @gemm
// NOLIB: gpu.launch
// NOLIB-NOT: library_call
func.func @gemm(%a: memref<2x256x512xf32>, %w: memref<512x512xf32>, %o: memref<2x256x512xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>,
                                   affine_map<(d0, d1, d2, d3) -> (d2, d3)>,
                                   affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>],
                  iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%a, %w : memref<2x256x512xf32>, memref<512x512xf32>) outs(%o : memref<2x256x512xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %z, %m : f32
    linalg.yield %s : f32
  }
  return
}

// A tiny GEMM is cheaper as a generated kernel (cost model).
// CHECK-LABEL: func @tiny_gemm
// CHECK: gpu.launch
// CHECK-NOT: library_call
func.func @tiny_gemm(%a: memref<4x8xf32>, %w: memref<8x4xf32>, %o: memref<4x4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1)>,
                                   affine_map<(d0, d1, d2) -> (d1, d2)>,
                                   affine_map<(d0, d1, d2) -> (d0, d2)>],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %w : memref<4x8xf32>, memref<8x4xf32>) outs(%o : memref<4x4xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %z, %m : f32
    linalg.yield %s : f32
  }
  return
}

// Views used by a kernel are cloned into it: the kernel takes whole buffers.
// CHECK-LABEL: func @view_sunk
// CHECK: gpu.launch
// CHECK: memref.subview
func.func @view_sunk(%a: memref<4x8xf32>, %o: memref<4x4xf32>) {
  %v = memref.subview %a[0, 2] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1], offset: 2>>
  linalg.copy ins(%v : memref<4x4xf32, strided<[8, 1], offset: 2>>) outs(%o : memref<4x4xf32>)
  return
}
