// Ops without an expression are left alone and reported with the reason.
// RUN: tessera-opt %s --tessera-derive='report=%t.json' | FileCheck %s
// RUN: FileCheck %s --check-prefix=REPORT < %t.json

// CHECK-LABEL: func.func @main
// CHECK: tessera.matmul %arg0, %arg1 : tensor<0x4xf32>
// CHECK: tessera.matmul %arg2, %arg1 : tensor<?x4xf32>
// CHECK: tessera.conv_transpose
// REPORT: "committed": 0
// REPORT: "status": "no-expression"
// REPORT-NEXT: "why": "zero-size tensors have no expression"
// REPORT: "status": "no-expression"
// REPORT-NEXT: "why": "dynamic shapes have no expression"
// REPORT: "status": "no-expression"
// REPORT-NEXT: "why": "conv_transpose with dilation != 1 has no expression"
func.func @main(%a: tensor<0x4xf32>, %b: tensor<4x5xf32>, %c: tensor<?x4xf32>,
                %x: tensor<1x2x5x5xf32>, %w: tensor<2x3x3x3xf32>)
    -> (tensor<0x5xf32>, tensor<?x5xf32>, tensor<1x3x9x9xf32>) {
  %0 = tessera.matmul %a, %b : tensor<0x4xf32>, tensor<4x5xf32> -> tensor<0x5xf32>
  %1 = tessera.matmul %c, %b : tensor<?x4xf32>, tensor<4x5xf32> -> tensor<?x5xf32>
  %2 = tessera.conv_transpose %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, output_padding = array<i64: 0, 0>, groups = 1 : i64} : (tensor<1x2x5x5xf32>, tensor<2x3x3x3xf32>) -> tensor<1x3x9x9xf32>
  return %0, %1, %2 : tensor<0x5xf32>, tensor<?x5xf32>, tensor<1x3x9x9xf32>
}
