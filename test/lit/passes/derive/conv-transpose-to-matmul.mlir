// OLLIE showcase: a 4x4 stride-2 conv-transpose (DCGAN generator layer)
// becomes a matmul plus eOperators:
//   T[n,f,q',q2',z,z2] = Sum_c I[n,c,q',q2'] * W[c,f,z,z2]       (matmul)
//   O[n,f,h,w] = Sum_{j,j2} T[n,f,q-j,q2-j2,2j+m,2j2+m2] with
//   q = (h+1) floordiv 2, m = (h+1) mod 2                        (eOperators)

// RUN: tessera-opt %s --tessera-derive='target=cuda report=%t.json' -o %t.mlir
// RUN: FileCheck %s < %t.mlir
// RUN: FileCheck %s --check-prefix=REPORT < %t.json
// RUN: %python %S/Inputs/compare_programs.py %s %t.mlir --shape 1x64x16x16 --shape 64x32x4x4 | FileCheck %s --check-prefix=RUNS

// CHECK-LABEL: func.func @main
// CHECK: tessera.matmul %{{.*}}, %{{.*}} : tensor<1x256x64xf32>, tensor<1x64x512xf32> -> tensor<1x256x512xf32>
// CHECK: texpr.scope
// CHECK-SAME: sums = array<i64: 0, 2, 0, 2>
// CHECK: texpr.scope
// CHECK-NOT: tessera.conv_transpose
// REPORT: "rule": "variable-merge"
// REPORT: "status": "derived"
// RUNS: MATCH
func.func @main(%x: tensor<1x64x16x16xf32>, %w: tensor<64x32x4x4xf32>) -> tensor<1x32x32x32xf32> {
  %0 = tessera.conv_transpose %x, %w {strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, output_padding = array<i64: 0, 0>, groups = 1 : i64} : (tensor<1x64x16x16xf32>, tensor<64x32x4x4xf32>) -> tensor<1x32x32x32xf32>
  return %0 : tensor<1x32x32x32xf32>
}
