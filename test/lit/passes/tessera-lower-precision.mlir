// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(tessera-lower-precision{type=bf16})' | FileCheck %s
// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(tessera-lower-precision{type=f16})' | FileCheck %s --check-prefix=F16
// RUN: not tessera-opt %s --split-input-file --pass-pipeline='builtin.module(tessera-lower-precision{type=f8})' 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: unknown type 'f8' (expected bf16 or f16)

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#lhs = affine_map<(d0, d1, d2) -> (d0, d1)>
#rhs = affine_map<(d0, d1, d2) -> (d1, d2)>
#out = affine_map<(d0, d1, d2) -> (d0, d2)>

// An elementwise result read only by the matmul is stored in bf16, as is the
// weight (rounded at compile time: 1.00390625 is halfway between two bf16
// values and rounds to even, 1.0). The matmul extends both and accumulates
// into its f32 output; the returned result stays f32.
// CHECK-LABEL: func @mixed_matmul
// CHECK-SAME: %[[A:.*]]: tensor<4x8xf32>
// CHECK-SAME: %[[W:.*]]: tensor<8x16xbf16> {tessera.weight = "w", tessera.weight_value = dense<1.000000e+00> : tensor<8x16xbf16>}
// CHECK-SAME: -> tensor<4x16xf32>
// CHECK: %[[E:.*]] = tensor.empty() : tensor<4x8xbf16>
// CHECK: %[[X:.*]] = linalg.generic {{.*}} ins(%[[A]] : tensor<4x8xf32>) outs(%[[E]] : tensor<4x8xbf16>)
// CHECK: ^bb0(%[[I:.*]]: f32, %{{.*}}: bf16):
// CHECK: %[[R:.*]] = math.exp %[[I]] : f32
// CHECK: %[[T:.*]] = arith.truncf %[[R]] : f32 to bf16
// CHECK: linalg.yield %[[T]] : bf16
// CHECK: linalg.generic {{.*}} ins(%[[X]], %[[W]] : tensor<4x8xbf16>, tensor<8x16xbf16>) outs(%{{.*}} : tensor<4x16xf32>)
// CHECK: ^bb0(%[[P:.*]]: bf16, %[[Q:.*]]: bf16, %[[ACC:.*]]: f32):
// CHECK-DAG: %[[PE:.*]] = arith.extf %[[P]] : bf16 to f32
// CHECK-DAG: %[[QE:.*]] = arith.extf %[[Q]] : bf16 to f32
// CHECK: arith.mulf %[[PE]], %[[QE]] : f32
// CHECK: -> tensor<4x16xf32>
// F16-LABEL: func @mixed_matmul
// F16-SAME: tensor<8x16xf16>
// F16: arith.truncf %{{.*}} : f32 to f16
func.func @mixed_matmul(%a: tensor<4x8xf32>,
    %w: tensor<8x16xf32> {tessera.weight = "w", tessera.weight_value = dense<1.00390625> : tensor<8x16xf32>})
    -> tensor<4x16xf32> {
  %e0 = tensor.empty() : tensor<4x8xf32>
  %x = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<4x8xf32>) outs(%e0 : tensor<4x8xf32>) {
  ^bb0(%i: f32, %o: f32):
    %r = math.exp %i : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %z = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<4x16xf32>
  %f = linalg.fill ins(%z : f32) outs(%e1 : tensor<4x16xf32>) -> tensor<4x16xf32>
  %mm = linalg.generic {indexing_maps = [#lhs, #rhs, #out],
                        iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : tensor<4x8xf32>, tensor<8x16xf32>) outs(%f : tensor<4x16xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x16xf32>
  return %mm : tensor<4x16xf32>
}

// -----

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// Kept f32: a result the function returns, a result another kernel reads as
// its output (the bias broadcast a conv accumulates into), and a reduction's
// result. A reshape and a pad between kernels carry the bf16 type, and the
// pad value is rounded too.
// CHECK-LABEL: func @kept_f32
// CHECK: %[[B:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<4x8xf32>)
// CHECK: %[[S:.*]] = linalg.generic {{.*}} ins(%[[B]] : tensor<4x8xf32>) outs(%{{.*}} : tensor<4xf32>)
// CHECK: %[[N:.*]] = linalg.generic {{.*}} ins(%[[S]] : tensor<4xf32>) outs(%{{.*}} : tensor<4xbf16>)
// CHECK: %[[X:.*]] = tensor.expand_shape %[[N]] {{.*}} : tensor<4xbf16> into tensor<4x1xbf16>
// CHECK: %[[C:.*]] = arith.constant -1.000000e+00 : bf16
// CHECK: tensor.pad %[[X]]
// CHECK: tensor.yield %[[C]] : bf16
// CHECK: tensor<4x1xbf16> to tensor<4x3xbf16>
// CHECK: linalg.generic {{.*}} outs(%[[B]] : tensor<4x8xf32>)
// CHECK: -> tensor<4x8xf32>
func.func @kept_f32(%a: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x3xf32>) {
  %e0 = tensor.empty() : tensor<4x8xf32>
  %b = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<4x8xf32>) outs(%e0 : tensor<4x8xf32>) {
  ^bb0(%i: f32, %o: f32):
    %r = math.tanh %i : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %z = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e1 : tensor<4xf32>) -> tensor<4xf32>
  %s = linalg.generic {indexing_maps = [#id2, #row], iterator_types = ["parallel", "reduction"]}
      ins(%b : tensor<4x8xf32>) outs(%f : tensor<4xf32>) {
  ^bb0(%i: f32, %acc: f32):
    %r = arith.addf %i, %acc : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  %e2 = tensor.empty() : tensor<4xf32>
  %n = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]}
      ins(%s : tensor<4xf32>) outs(%e2 : tensor<4xf32>) {
  ^bb0(%i: f32, %o: f32):
    %r = arith.negf %i : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  %x = tensor.expand_shape %n [[0, 1]] output_shape [4, 1] : tensor<4xf32> into tensor<4x1xf32>
  %m1 = arith.constant -1.0 : f32
  %p = tensor.pad %x low[0, 1] high[0, 1] {
  ^bb0(%i0: index, %i1: index):
    tensor.yield %m1 : f32
  } : tensor<4x1xf32> to tensor<4x3xf32>
  %e3 = tensor.empty() : tensor<4x3xf32>
  %y = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%p : tensor<4x3xf32>) outs(%e3 : tensor<4x3xf32>) {
  ^bb0(%i: f32, %o: f32):
    %r = arith.mulf %i, %i : f32
    linalg.yield %r : f32
  } -> tensor<4x3xf32>
  %e4 = tensor.empty() : tensor<4x8xf32>
  %acc = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<4x8xf32>) outs(%b : tensor<4x8xf32>) {
  ^bb0(%i: f32, %o: f32):
    %r = arith.addf %i, %o : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  return %acc, %y : tensor<4x8xf32>, tensor<4x3xf32>
}

// -----

#id1 = affine_map<(d0) -> (d0)>

// A value a consumer compares or converts to integers is not rounded (that
// could change the comparison or the integer), even though only kernels read it.
// CHECK-LABEL: func @no_rounding_before_compare_or_fptosi
// CHECK-NOT: bf16
// CHECK: return
func.func @no_rounding_before_compare_or_fptosi(%a: tensor<8xf32>) -> (tensor<8xi1>, tensor<8xi32>) {
  %e0 = tensor.empty() : tensor<8xf32>
  %x = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%a : tensor<8xf32>) outs(%e0 : tensor<8xf32>) {
  ^bb0(%i: f32, %o: f32):
    %r = arith.mulf %i, %i : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %y = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%a : tensor<8xf32>) outs(%e0 : tensor<8xf32>) {
  ^bb0(%i: f32, %o: f32):
    %r = arith.addf %i, %i : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %e1 = tensor.empty() : tensor<8xi1>
  %c = linalg.generic {indexing_maps = [#id1, #id1, #id1], iterator_types = ["parallel"]}
      ins(%x, %a : tensor<8xf32>, tensor<8xf32>) outs(%e1 : tensor<8xi1>) {
  ^bb0(%p: f32, %q: f32, %o: i1):
    %r = arith.cmpf oeq, %p, %q : f32
    linalg.yield %r : i1
  } -> tensor<8xi1>
  %e2 = tensor.empty() : tensor<8xi32>
  %n = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%y : tensor<8xf32>) outs(%e2 : tensor<8xi32>) {
  ^bb0(%p: f32, %o: i32):
    %r = arith.fptosi %p : f32 to i32
    linalg.yield %r : i32
  } -> tensor<8xi32>
  return %c, %n : tensor<8xi1>, tensor<8xi32>
}
