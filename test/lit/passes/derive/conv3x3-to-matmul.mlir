// OLLIE showcase: a 3x3 conv becomes one matmul plus an eOperator that sums
// shifted slices: T[n,f,h',w',r,s] = Sum_c X[n,c,h'-1,w'-1] W[f,c,r,s]
// (a GEMM of (N*H*W) x C by C x (F*R*S)), O = Sum_{r,s} T[n,f,h+r,w+s,r,s].
// The derived program is compiled and run against the original.

// RUN: tessera-opt %s --tessera-derive='target=cuda report=%t.json' -o %t.mlir
// RUN: FileCheck %s < %t.mlir
// RUN: FileCheck %s --check-prefix=REPORT < %t.json
// RUN: %python %S/Inputs/compare_programs.py %s %t.mlir --shape 1x32x28x28 --shape 64x32x3x3 | FileCheck %s --check-prefix=RUNS

// CHECK-LABEL: func.func @main
// CHECK: tessera.matmul %{{.*}}, %{{.*}} : tensor<1x784x32xf32>, tensor<1x32x576xf32> -> tensor<1x784x576xf32>
// CHECK: texpr.scope
// CHECK-SAME: sums = array<i64: 0, 3
// CHECK-NOT: tessera.conv
// REPORT: "committed": 1
// REPORT: "verified": true
// REPORT: "status": "derived"
// RUNS: MATCH
func.func @main(%x: tensor<1x32x28x28xf32>, %w: tensor<64x32x3x3xf32>) -> tensor<1x64x28x28xf32> {
  %0 = tessera.conv %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, groups = 1 : i64} : (tensor<1x32x28x28xf32>, tensor<64x32x3x3xf32>) -> tensor<1x64x28x28xf32>
  return %0 : tensor<1x64x28x28xf32>
}
