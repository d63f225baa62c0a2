// RUN: tessera-opt %s -split-input-file --tessera-autodiff -verify-diagnostics
// Ops without a gradient rule are listed at once.
// expected-error @+1 {{no gradient rule for: tessera.reduce_prod (1)}}
func.func @pool(%x: tensor<1x1x4x4xf32>) -> tensor<1x2xf32> {
  %w = tessera.constant dense<[[[[1.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  %c = tessera.conv %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-note @+1 {{here: tessera.reduce_prod}}
  %p = tessera.reduce_prod %c {axes = array<i64: 2, 3>, keepdims = false} : tensor<1x2x4x4xf32> -> tensor<1x2xf32>
  return %p : tensor<1x2xf32>
}

// -----

// expected-error @+1 {{has no trainable parameters}}
func.func @noparams(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = tessera.relu %x : tensor<4xf32>
  return %r : tensor<4xf32>
}
