// OLLIE showcase: Longformer's dilated G2BMM (width 4, dilation 4) becomes a
// non-dilated G2BMM over a 4x larger batch: m = 4*m1 + m2 splits the rows,
// layout stages gather every fourth row of Q and K (K padded by the band),
// and the result is re-indexed back.

// RUN: tessera-opt %s --convert-tessera-to-texpr \
// RUN:   --tessera-derive-rule='rule=dilation-to-batch args=1,4' \
// RUN:   --tessera-derive-rule='rule=match' -o %t.mlir
// RUN: FileCheck %s < %t.mlir
// RUN: %python %S/Inputs/compare_programs.py %s %t.mlir --shape 8x64x32 --shape 8x64x32 | FileCheck %s --check-prefix=RUNS

// CHECK-LABEL: func.func @main
// CHECK: texpr.scope(%arg0) {layout
// CHECK: texpr.scope(%arg1) {layout
// CHECK: tessera.g2bmm %{{.*}}, %{{.*}} {dilation = 1 : i64, width = 4 : i64} : tensor<32x16x32xf32>, tensor<32x20x32xf32> -> tensor<32x16x9xf32>
// CHECK: texpr.scope
// RUNS: MATCH
func.func @main(%q: tensor<8x64x32xf32>, %k: tensor<8x64x32xf32>) -> tensor<8x64x9xf32> {
  %0 = tessera.g2bmm %q, %k {width = 4 : i64, dilation = 4 : i64} : tensor<8x64x32xf32>, tensor<8x64x32xf32> -> tensor<8x64x9xf32>
  return %0 : tensor<8x64x9xf32>
}
