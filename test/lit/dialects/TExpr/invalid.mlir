// RUN: tessera-opt %s -split-input-file -verify-diagnostics

func.func @empty_range(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'loops' iterator 0 has an empty range [4, 4)}}
  %0 = texpr.scope(%a) {loops = array<i64: 4, 4>, sums = array<i64>} : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%A: tensor<4xf32>):
    %x = texpr.access %A[affine_map<(d0) -> (d0)>] : tensor<4xf32> -> f32
    texpr.yield %x : f32
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @shape(%a: tensor<4xf32>) -> tensor<5xf32> {
  // expected-error @+1 {{result dim 0 is 5 but the iterator range and padding give 4}}
  %0 = texpr.scope(%a) {loops = array<i64: 0, 4>, sums = array<i64>} : (tensor<4xf32>) -> tensor<5xf32> {
  ^bb0(%A: tensor<4xf32>):
    %x = texpr.access %A[affine_map<(d0) -> (d0)>] : tensor<4xf32> -> f32
    texpr.yield %x : f32
  }
  return %0 : tensor<5xf32>
}

// -----

func.func @map_dims(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = texpr.scope(%a) {loops = array<i64: 0, 4>, sums = array<i64: 0, 2>} : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%A: tensor<4xf32>):
    // expected-error @+1 {{map must have 2 dims (traversal then summation iterators) and no symbols}}
    %x = texpr.access %A[affine_map<(d0) -> (d0)>] : tensor<4xf32> -> f32
    texpr.yield %x : f32
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @rank(%a: tensor<4x4xf32>) -> tensor<4xf32> {
  %0 = texpr.scope(%a) {loops = array<i64: 0, 4>, sums = array<i64>} : (tensor<4x4xf32>) -> tensor<4xf32> {
  ^bb0(%A: tensor<4x4xf32>):
    // expected-error @+1 {{map has 1 results for a rank-2 tensor}}
    %x = texpr.access %A[affine_map<(d0) -> (d0)>] : tensor<4x4xf32> -> f32
    texpr.yield %x : f32
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @combiner(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{combiner must be 'add' or 'max', got 'mul'}}
  %0 = texpr.scope(%a) {loops = array<i64: 0, 4>, sums = array<i64>, combiner = "mul"} : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%A: tensor<4xf32>):
    %x = texpr.access %A[affine_map<(d0) -> (d0)>] : tensor<4xf32> -> f32
    texpr.yield %x : f32
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @fn(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = texpr.scope(%a) {loops = array<i64: 0, 4>, sums = array<i64>} : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%A: tensor<4xf32>):
    %x = texpr.access %A[affine_map<(d0) -> (d0)>] : tensor<4xf32> -> f32
    // expected-error @+1 {{unknown function 'gelu' (have relu, tanh, sigmoid, exp, neg)}}
    %y = texpr.fn "gelu" %x : f32
    texpr.yield %y : f32
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @pad(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'pad' needs 2 values, got 1}}
  %0 = texpr.scope(%a) {loops = array<i64: 0, 4>, sums = array<i64>, pad = array<i64: 1>} : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%A: tensor<4xf32>):
    %x = texpr.access %A[affine_map<(d0) -> (d0)>] : tensor<4xf32> -> f32
    texpr.yield %x : f32
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @divisor(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = texpr.scope(%a) {loops = array<i64: 0, 4>, sums = array<i64>} : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%A: tensor<4xf32>):
    // expected-error @+1 {{floordiv, ceildiv and mod need a positive constant divisor}}
    %x = texpr.access %A[affine_map<(d0) -> (d0 mod -2)>] : tensor<4xf32> -> f32
    texpr.yield %x : f32
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @dynamic(%a: tensor<?xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{operand shapes must be static, got 'tensor<?xf32>'}}
  %0 = texpr.scope(%a) {loops = array<i64: 0, 4>, sums = array<i64>} : (tensor<?xf32>) -> tensor<4xf32> {
  ^bb0(%A: tensor<?xf32>):
    %x = texpr.access %A[affine_map<(d0) -> (d0)>] : tensor<?xf32> -> f32
    texpr.yield %x : f32
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @mixed(%a: tensor<4xf16>) -> tensor<4xf32> {
  // expected-error @+1 {{operand element type 'f16' differs from the result's 'f32'}}
  %0 = texpr.scope(%a) {loops = array<i64: 0, 4>, sums = array<i64>} : (tensor<4xf16>) -> tensor<4xf32> {
  ^bb0(%A: tensor<4xf16>):
    %x = texpr.access %A[affine_map<(d0) -> (d0)>] : tensor<4xf16> -> f16
    texpr.yield %x : f16
  }
  return %0 : tensor<4xf32>
}
