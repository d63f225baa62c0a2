// RUN: tessera-opt %s | tessera-opt | FileCheck %s
// Round trip of every texpr op.

// CHECK-LABEL: func.func @matmul
// CHECK: texpr.scope(%{{.*}}, %{{.*}}) {loops = array<i64: 0, 4, 0, 5>, sums = array<i64: 0, 3>}
// CHECK: texpr.access %{{.*}}[#map] : tensor<4x3xf32> -> f32
// CHECK: texpr.mul
// CHECK: texpr.yield
func.func @matmul(%a: tensor<4x3xf32>, %b: tensor<3x5xf32>) -> tensor<4x5xf32> {
  %0 = texpr.scope(%a, %b) {loops = array<i64: 0, 4, 0, 5>, sums = array<i64: 0, 3>}
      : (tensor<4x3xf32>, tensor<3x5xf32>) -> tensor<4x5xf32> {
  ^bb0(%A: tensor<4x3xf32>, %B: tensor<3x5xf32>):
    %x = texpr.access %A[affine_map<(d0, d1, d2) -> (d0, d2)>] : tensor<4x3xf32> -> f32
    %y = texpr.access %B[affine_map<(d0, d1, d2) -> (d2, d1)>] : tensor<3x5xf32> -> f32
    %p = texpr.mul %x, %y : f32
    texpr.yield %p : f32
  }
  return %0 : tensor<4x5xf32>
}

// Nested scope, padding, div/mod indices, max combiner, every scalar op.
// CHECK-LABEL: func.func @nested
// CHECK: pad = array<i64: 1, 1>
// CHECK: combiner = "max"
// CHECK: oob = 0xFFF0000000000000
// CHECK: texpr.const
// CHECK: texpr.fn "relu"
// CHECK: texpr.add
// CHECK: texpr.sub
// CHECK: texpr.div
// CHECK: texpr.max
func.func @nested(%a: tensor<8xf32>) -> tensor<4xf32> {
  %0 = texpr.scope(%a) {loops = array<i64: 0, 6>, pad = array<i64: 1, 1>, sums = array<i64>}
      : (tensor<8xf32>) -> tensor<8xf32> {
  ^bb0(%A: tensor<8xf32>):
    %x = texpr.access %A[affine_map<(d0) -> (d0 floordiv 2 + d0 mod 2)>] : tensor<8xf32> -> f32
    texpr.yield %x : f32
  }
  %1 = texpr.scope(%0) {loops = array<i64: 0, 4>, sums = array<i64: 0, 2>, combiner = "max"}
      : (tensor<8xf32>) -> tensor<4xf32> {
  ^bb0(%T: tensor<8xf32>):
    %x = texpr.access %T[affine_map<(d0, d1) -> (d0 * 2 + d1)>] {oob = 0xFFF0000000000000 : f64} : tensor<8xf32> -> f32
    %c = texpr.const 2.0 : f32
    %r = texpr.fn "relu" %x : f32
    %s = texpr.add %r, %c : f32
    %t = texpr.sub %s, %c : f32
    %u = texpr.div %t, %c : f32
    %v = texpr.max %u, %x : f32
    texpr.yield %v : f32
  }
  return %1 : tensor<4xf32>
}
