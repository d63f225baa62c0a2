// RUN: tessera-opt %s | tessera-opt | FileCheck %s

// CHECK-LABEL: func @ops
func.func @ops(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>,
               %m: tensor<2x3xf32>, %n: tensor<3x5xf32>) -> tensor<1x4x4x4xf32> {
  // CHECK: tessera.conv
  %0 = tessera.conv %x, %w, %b {strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  // CHECK: tessera.relu
  %1 = tessera.relu %0 : tensor<1x4x4x4xf32>
  // CHECK: tessera.matmul
  %2 = tessera.matmul %m, %n : tensor<2x3xf32>, tensor<3x5xf32> -> tensor<2x5xf32>
  // CHECK: tessera.add {{.*}} -> tensor<2x5xf32>
  %3 = tessera.add %2, %2 : tensor<2x5xf32>, tensor<2x5xf32> -> tensor<2x5xf32>
  // CHECK: tessera.reduce_mean
  %4 = tessera.reduce_mean %1 {axes = array<i64: 2, 3>, keepdims = true} : tensor<1x4x4x4xf32> -> tensor<1x4x1x1xf32>
  return %1 : tensor<1x4x4x4xf32>
}
