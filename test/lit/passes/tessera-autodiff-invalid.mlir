// RUN: tessera-opt %s -split-input-file --tessera-autodiff -verify-diagnostics
// Ops without a gradient rule are listed at once.
// expected-error @+1 {{no gradient rule for: tessera.avg_pool (1)}}
func.func @pool(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %w = tessera.constant dense<[[[[1.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  %c = tessera.conv %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-note @+1 {{here: tessera.avg_pool}}
  %p = tessera.avg_pool %c {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, count_include_pad = false} : tensor<1x2x4x4xf32> -> tensor<1x2x2x2xf32>
  return %p : tensor<1x2x2x2xf32>
}

// -----

// expected-error @+1 {{has no trainable parameters}}
func.func @noparams(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = tessera.relu %x : tensor<4xf32>
  return %r : tensor<4xf32>
}
