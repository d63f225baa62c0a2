// RUN: tessera-opt %s --tessera-externalize-weights="min-elements=4" | FileCheck %s

// CHECK-LABEL: func @main
// CHECK-SAME: %arg0: tensor<4xf32>
// CHECK-SAME: %arg1: tensor<4xf32> {tessera.weight = "fc.weight", tessera.weight_value = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> : tensor<4xf32>}
// The splat and the small constant stay inline.
// CHECK: tessera.constant dense<5.000000e-01>
// CHECK: tessera.constant dense<[1.000000e+00, 2.000000e+00]>
// CHECK: tessera.add %arg0, %arg1
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %w = tessera.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> loc("fc.weight")
  %h = tessera.constant dense<0.5> : tensor<4xf32>
  %s = tessera.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %0 = tessera.add %x, %w : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %1 = tessera.mul %0, %h : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %1 : tensor<4xf32>
}
