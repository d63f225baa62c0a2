// RUN: tessera-opt %s -split-input-file -verify-diagnostics

func.func @bad_broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{[broadcast] shapes [2,3] and [4] are not broadcast-compatible}}
  %0 = tessera.add %a, %b : tensor<2x3xf32>, tensor<4xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @bad_matmul(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{[matmul] contraction dims differ}}
  %0 = tessera.matmul %a, %b : tensor<2x3xf32>, tensor<4x5xf32> -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @bad_conv_groups(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{[conv] input channels 3 != weight channels-per-group 3 * groups 2}}
  %0 = tessera.conv %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 2 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @bad_conv_result(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{result shape [1, 4, 8, 8] does not match the inferred shape [1, 4, 6, 6]}}
  %0 = tessera.conv %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

func.func @bad_reshape(%a: tensor<2x3xf32>) -> tensor<7xf32> {
  // expected-error @+1 {{[reshape] cannot reshape [2,3] (6 elements) to [7] (7 elements)}}
  %0 = tessera.reshape %a : tensor<2x3xf32> -> tensor<7xf32>
  return %0 : tensor<7xf32>
}

// -----

func.func @bad_transpose(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{[transpose] invalid permutation [0,0]}}
  %0 = tessera.transpose %a {perm = array<i64: 0, 0>} : tensor<2x3xf32> -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @bad_slice(%a: tensor<4xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{[slice] dim 0: start 2, step 1, size 3 leaves extent 4}}
  %0 = tessera.slice %a {starts = array<i64: 2>, steps = array<i64: 1>} : tensor<4xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @bad_compare(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{comparison must produce i1}}
  %0 = tessera.lt %a, %a : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @bad_slice_reverse(%a: tensor<4xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{[slice] dim 0: start 1, step -1, size 3 leaves extent 4}}
  %0 = tessera.slice %a {starts = array<i64: 1>, steps = array<i64: -1>} : tensor<4xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @zero_step_slice(%a: tensor<4xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{[slice] step at dim 0 is zero}}
  %0 = tessera.slice %a {starts = array<i64: 1>, steps = array<i64: 0>} : tensor<4xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @softmax_negative_axis(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{[softmax] axis -1 out of range for rank 2}}
  %0 = tessera.softmax %a {axis = -1 : i64} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @g2bmm_features(%a: tensor<2x8x4xf32>, %b: tensor<2x8x5xf32>) -> tensor<2x8x3xf32> {
  // expected-error @+1 {{[g2bmm] feature dims differ: [2,8,4] and [2,8,5]}}
  %0 = tessera.g2bmm %a, %b {width = 1 : i64, dilation = 1 : i64} : tensor<2x8x4xf32>, tensor<2x8x5xf32> -> tensor<2x8x3xf32>
  return %0 : tensor<2x8x3xf32>
}

// -----

func.func @gbmm_band(%a: tensor<2x8x4xf32>, %v: tensor<2x8x5xf32>) -> tensor<2x8x5xf32> {
  // expected-error @+1 {{[gbmm] lhs band dim must be 2*width+1 = 3, got [2,8,4]}}
  %0 = tessera.gbmm %a, %v {width = 1 : i64, dilation = 2 : i64} : tensor<2x8x4xf32>, tensor<2x8x5xf32> -> tensor<2x8x5xf32>
  return %0 : tensor<2x8x5xf32>
}

// -----

func.func @g2bmm_result(%a: tensor<2x8x4xf32>, %b: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{result shape [2, 8, 4] does not match the inferred shape [2, 8, 3]}}
  %0 = tessera.g2bmm %a, %b {width = 1 : i64, dilation = 1 : i64} : tensor<2x8x4xf32>, tensor<2x8x4xf32> -> tensor<2x8x4xf32>
  return %0 : tensor<2x8x4xf32>
}
