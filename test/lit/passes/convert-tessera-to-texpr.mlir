// RUN: tessera-opt %s --convert-tessera-to-texpr | FileCheck %s
// RUN: tessera-opt %s --convert-tessera-to-texpr=ops=relu | FileCheck %s --check-prefix=ONLY

// Index maps (printed at the top of the module):
// CHECK-DAG: #[[MM_A:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[MM_B:.*]] = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
// CHECK-DAG: #[[CV_X:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, (d1 floordiv 2) * 2 + d4, d2 * 2 + d5 * 2 - 1, d3 * 2 + d6 * 2 - 1)>
// CHECK-DAG: #[[CV_W:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
// CHECK-DAG: #[[CT_I:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8) -> (d0, d6, d2 - d7, d4 - d8)>
// CHECK-DAG: #[[CT_W:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8) -> (d6, d1, d7 * 2 + d3, d8 * 2 + d5)>
// CHECK-DAG: #[[CT_O:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, (d2 + 1) floordiv 2, (d2 + 1) mod 2, (d3 + 1) floordiv 2, (d3 + 1) mod 2)>
// CHECK-DAG: #[[MP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4 - 1, d3 * 2 + d5 - 1)>
// CHECK-DAG: #[[G2_B:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1 + (d2 - 2) * 3, d3)>
// CHECK-DAG: #[[GB_V:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1 + (d3 - 2) * 3, d2)>
// CHECK-DAG: #[[BC:.*]] = affine_map<(d0, d1) -> (0, d1)>

// O[b, m, n] = Sum_k A[b, m, k] * B[k, n] (B broadcast over the batch).
// CHECK-LABEL: func.func @matmul
// CHECK: texpr.scope(%arg0, %arg1) {loops = array<i64: 0, 2, 0, 4, 0, 5>, sums = array<i64: 0, 3>}
// CHECK: texpr.access %{{.*}}[#[[MM_A]]]
// CHECK: texpr.access %{{.*}}[#[[MM_B]]]
// ONLY-LABEL: func.func @matmul
// ONLY: tessera.matmul
func.func @matmul(%a: tensor<2x4x3xf32>, %b: tensor<3x5xf32>) -> tensor<2x4x5xf32> {
  %0 = tessera.matmul %a, %b : tensor<2x4x3xf32>, tensor<3x5xf32> -> tensor<2x4x5xf32>
  return %0 : tensor<2x4x5xf32>
}

// Stride 2, dilation 2, groups 2 (F/G = 2 output channels and C/G = 2
// input channels per group), pads 1: channel g*Cg + c with g = f floordiv 2.
// CHECK-LABEL: func.func @conv
// CHECK: %[[C:.*]] = texpr.scope(%arg0, %arg1) {loops = array<i64: 0, 1, 0, 4, 0, 3, 0, 3>, sums = array<i64: 0, 2, 0, 3, 0, 3>}
// CHECK: texpr.access %{{.*}}[#[[CV_X]]]
// CHECK: texpr.access %{{.*}}[#[[CV_W]]]
// The bias is an outer stage reading the conv stage.
// CHECK: texpr.scope(%[[C]], %arg2) {loops = array<i64: 0, 1, 0, 4, 0, 3, 0, 3>, sums = array<i64>}
// CHECK: texpr.add
func.func @conv(%x: tensor<1x4x8x8xf32>, %w: tensor<4x2x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x3x3xf32> {
  %0 = tessera.conv %x, %w, %b {strides = array<i64: 2, 2>, dilations = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, groups = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<1x4x3x3xf32>
  return %0 : tensor<1x4x3x3xf32>
}

// Conv-transpose, stride 2, 4x4 kernel, pad 1 (out = 2*(5-1) + 4 - 2 = 10):
// T[n, f, q, m, q2, m2] = Sum_{c, j, j2} I[n, c, q-j, q2-j2] * W[c, f, 2j+m, 2j2+m2]
// with q = (oh + 1) floordiv 2 in [0, 6), then O reads T at the div/mod.
// CHECK-LABEL: func.func @conv_transpose
// CHECK: %[[T:.*]] = texpr.scope(%arg0, %arg1) {loops = array<i64: 0, 1, 0, 3, 0, 6, 0, 2, 0, 6, 0, 2>, sums = array<i64: 0, 2, 0, 2, 0, 2>}
// CHECK: texpr.access %{{.*}}[#[[CT_I]]]
// CHECK: texpr.access %{{.*}}[#[[CT_W]]]
// CHECK: texpr.scope(%[[T]]) {loops = array<i64: 0, 1, 0, 3, 0, 10, 0, 10>, sums = array<i64>}
// CHECK: texpr.access %{{.*}}[#[[CT_O]]]
func.func @conv_transpose(%x: tensor<1x2x5x5xf32>, %w: tensor<2x3x4x4xf32>) -> tensor<1x3x10x10xf32> {
  %0 = tessera.conv_transpose %x, %w {strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, output_padding = array<i64: 0, 0>, groups = 1 : i64} : (tensor<1x2x5x5xf32>, tensor<2x3x4x4xf32>) -> tensor<1x3x10x10xf32>
  return %0 : tensor<1x3x10x10xf32>
}

// Max pooling: max combiner, padding reads -inf; average pooling: a sum
// scaled by 1/9. Average pooling that excludes padding has no expression.
// CHECK-LABEL: func.func @pools
// CHECK: texpr.scope(%arg0) {combiner = "max", loops = array<i64: 0, 1, 0, 2, 0, 4, 0, 4>, sums = array<i64: 0, 3, 0, 3>}
// CHECK: texpr.access %{{.*}}[#[[MP]]] {oob = 0xFFF0000000000000 : f64}
// CHECK: texpr.scope(%arg0) {loops = array<i64: 0, 1, 0, 2, 0, 4, 0, 4>, sums = array<i64: 0, 3, 0, 3>}
// CHECK: texpr.const 0.1111
// CHECK: tessera.avg_pool
func.func @pools(%x: tensor<1x2x8x8xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %0 = tessera.max_pool %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : tensor<1x2x8x8xf32> -> tensor<1x2x4x4xf32>
  %1 = tessera.avg_pool %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, count_include_pad = true} : tensor<1x2x8x8xf32> -> tensor<1x2x4x4xf32>
  %2 = tessera.avg_pool %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, count_include_pad = false} : tensor<1x2x8x8xf32> -> tensor<1x2x4x4xf32>
  return %0, %1, %2 : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// Longformer banded matmuls, width 2, dilation 3:
// g2bmm O[b, m, w] = Sum_k A[b, m, k] * B[b, m + 3w - 6, k];
// gbmm  O[b, m, k] = Sum_w A[b, m, w] * V[b, m + 3w - 6, k].
// CHECK-LABEL: func.func @banded
// CHECK: texpr.scope(%arg0, %arg1) {loops = array<i64: 0, 2, 0, 16, 0, 5>, sums = array<i64: 0, 8>}
// CHECK: texpr.access %{{.*}}[#[[G2_B]]]
// CHECK: texpr.scope(%{{.*}}, %arg1) {loops = array<i64: 0, 2, 0, 16, 0, 8>, sums = array<i64: 0, 5>}
// CHECK: texpr.access %{{.*}}[#[[GB_V]]]
func.func @banded(%a: tensor<2x16x8xf32>, %b: tensor<2x16x8xf32>) -> tensor<2x16x8xf32> {
  %0 = tessera.g2bmm %a, %b {width = 2 : i64, dilation = 3 : i64} : tensor<2x16x8xf32>, tensor<2x16x8xf32> -> tensor<2x16x5xf32>
  %1 = tessera.gbmm %0, %b {width = 2 : i64, dilation = 3 : i64} : tensor<2x16x5xf32>, tensor<2x16x8xf32> -> tensor<2x16x8xf32>
  return %1 : tensor<2x16x8xf32>
}

// Elementwise: broadcasting reads index 0 of size-1 dims.
// CHECK-LABEL: func.func @elementwise
// CHECK: texpr.fn "relu"
// CHECK: texpr.access %{{.*}}[#[[BC]]]
// CHECK: texpr.add
// ONLY-LABEL: func.func @elementwise
// ONLY: texpr.fn "relu"
// ONLY: tessera.add
func.func @elementwise(%a: tensor<3x4xf32>, %b: tensor<1x4xf32>) -> tensor<3x4xf32> {
  %0 = tessera.relu %a : tensor<3x4xf32>
  %1 = tessera.add %0, %b : tensor<3x4xf32>, tensor<1x4xf32> -> tensor<3x4xf32>
  return %1 : tensor<3x4xf32>
}
