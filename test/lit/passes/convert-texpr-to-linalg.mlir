// RUN: tessera-opt %s --convert-texpr-to-linalg | FileCheck %s
// End-to-end numerics of lowered scopes are covered by derive/*.mlir (each
// derived program is compiled and run) and by run_e2e.py --derive.

// Index maps (printed at the top of the module):
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[O:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1) -> (d0 + d1)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1) -> (d1)>
// In-bounds affine reads become generic inputs; summation iterators are
// reduction loops.
// CHECK-LABEL: func.func @matmul
// CHECK: %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[F:.*]] = linalg.fill ins(%[[Z]] : f32)
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[O]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0, %arg1 : tensor<4x3xf32>, tensor<3x5xf32>) outs(%[[F]] : tensor<4x5xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @matmul(%a: tensor<4x3xf32>, %b: tensor<3x5xf32>) -> tensor<4x5xf32> {
  %0 = texpr.scope(%a, %b) {loops = array<i64: 0, 4, 0, 5>, sums = array<i64: 0, 3>} : (tensor<4x3xf32>, tensor<3x5xf32>) -> tensor<4x5xf32> {
  ^bb0(%A: tensor<4x3xf32>, %B: tensor<3x5xf32>):
    %x = texpr.access %A[affine_map<(d0, d1, d2) -> (d0, d2)>] : tensor<4x3xf32> -> f32
    %y = texpr.access %B[affine_map<(d0, d1, d2) -> (d2, d1)>] : tensor<3x5xf32> -> f32
    %p = texpr.mul %x, %y : f32
    texpr.yield %p : f32
  }
  return %0 : tensor<4x5xf32>
}

// A window sum whose summation iterator appears in no plain index: a carrier
// operand (tensor.empty over that iterator) gives linalg its loop bound.
// CHECK-LABEL: func.func @window
// CHECK: %[[E:.*]] = tensor.empty() : tensor<3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[W]], #[[C]], #{{.*}}], iterator_types = ["parallel", "reduction"]} ins(%arg0, %[[E]] : tensor<6xf32>, tensor<3xf32>)
func.func @window(%a: tensor<6xf32>) -> tensor<4xf32> {
  %0 = texpr.scope(%a) {loops = array<i64: 0, 4>, sums = array<i64: 0, 3>} : (tensor<6xf32>) -> tensor<4xf32> {
  ^bb0(%A: tensor<6xf32>):
    %x = texpr.access %A[affine_map<(d0, d1) -> (d0 + d1)>] : tensor<6xf32> -> f32
    texpr.yield %x : f32
  }
  return %0 : tensor<4xf32>
}

// Reads that may fall outside the tensor (and div/mod indices) use
// tensor.extract at clamped indices and select the out-of-bounds value; the
// max combiner starts from -inf; output padding is a tensor.pad with zeros.
// The iteration space starts at the iterators' lower bound (1).
// CHECK-LABEL: func.func @padded_max
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK: linalg.index 0
// CHECK: arith.cmpi sge
// CHECK: arith.cmpi slt
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: tensor.extract %arg0
// CHECK: arith.select
// CHECK: arith.maximumf
// CHECK: tensor.pad %{{.*}} low[1] high[2]
func.func @padded_max(%a: tensor<8xf32>) -> tensor<7xf32> {
  %0 = texpr.scope(%a) {loops = array<i64: 1, 5>, pad = array<i64: 1, 2>, sums = array<i64: 0, 2>, combiner = "max"} : (tensor<8xf32>) -> tensor<7xf32> {
  ^bb0(%A: tensor<8xf32>):
    %x = texpr.access %A[affine_map<(d0, d1) -> (d0 * 2 + d1 - 1)>] {oob = 0xFFF0000000000000 : f64} : tensor<8xf32> -> f32
    texpr.yield %x : f32
  }
  return %0 : tensor<7xf32>
}

// A read that covers only part of a dim reached by one iterator alone
// (columns 0..2 of 8) cannot be a generic input -- linalg would take the
// loop bound from the operand -- so it is gathered.
// CHECK-LABEL: func.func @partial_window
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK: tensor.extract %arg0
func.func @partial_window(%a: tensor<4x8xf32>) -> tensor<4xf32> {
  %0 = texpr.scope(%a) {loops = array<i64: 0, 4>, sums = array<i64: 0, 3>} : (tensor<4x8xf32>) -> tensor<4xf32> {
  ^bb0(%A: tensor<4x8xf32>):
    %x = texpr.access %A[affine_map<(d0, d1) -> (d0, d1)>] : tensor<4x8xf32> -> f32
    texpr.yield %x : f32
  }
  return %0 : tensor<4xf32>
}
