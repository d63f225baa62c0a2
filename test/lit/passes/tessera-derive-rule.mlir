// Each derivation rule on its own (tessera-derive-rule). The pass checks
// every result numerically against its input expression (seeded random
// inputs, sampled outputs including borders) and proves the rule's index
// obligations with Z3; a failure is an error, so each RUN line below also
// asserts that the rewrite is sound.

// RUN: tessera-opt %s --convert-tessera-to-texpr \
// RUN:   --tessera-derive-rule='rule=summation-split args=1,2' 2>/dev/null | FileCheck %s --check-prefix=SPLIT
// RUN: tessera-opt %s --convert-tessera-to-texpr \
// RUN:   --tessera-derive-rule='rule=summation-split args=1,2' \
// RUN:   --tessera-derive-rule='rule=substitute path=0 args=2,4,1' 2>/dev/null | FileCheck %s --check-prefix=SUBST
// RUN: tessera-opt %s --tessera-derive-rule='rule=merge args=0,1' 2>/dev/null | FileCheck %s --check-prefix=MERGE
// RUN: tessera-opt %s --tessera-derive-rule='rule=inline args=0' 2>/dev/null | FileCheck %s --check-prefix=INLINE
// RUN: tessera-opt %s --tessera-derive-rule='rule=tighten' 2>/dev/null | FileCheck %s --check-prefix=TIGHT
// RUN: tessera-opt %s --convert-tessera-to-texpr \
// RUN:   --tessera-derive-rule='rule=relax args=1,0,6' \
// RUN:   --tessera-derive-rule='rule=split args=1,3' 2>/dev/null | FileCheck %s --check-prefix=RELAX
// RUN: tessera-opt %s --tessera-derive-rule='rule=tighten' 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK
// RUN: not tessera-opt %s --tessera-derive-rule='rule=nope' 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: tessera-opt %s --tessera-derive-rule='rule=relax args=0,0,4' 2>&1 >/dev/null | FileCheck %s --check-prefix=NOMAX
// RUN: tessera-opt %s --convert-tessera-to-texpr --tessera-derive-rule='rule=summation-split args=1,1' 2>&1 >/dev/null | FileCheck %s --check-prefix=DUPARGS

// UNKNOWN: error: tessera-derive-rule: unknown rule 'nope'

//===----------------------------------------------------------------------===//
// Summation splitting and variable substitution on a 3x3 conv:
//   Sum_{c,r,s} X[n,c,h+r-1,w+s-1] * W[f,c,r,s].
//===----------------------------------------------------------------------===//

// Splitting moves r, s to an outer stage:
//   L_{n,f,h,w} Sum_{r,s} (L_{n,f,h,w,r,s} Sum_c X[..] W[..])[n,f,h,w,r,s]
// SPLIT-DAG: #[[SX:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d6, d2 + d4 - 1, d3 + d5 - 1)>
// SPLIT-DAG: #[[SW:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d6, d4, d5)>
// SPLIT-DAG: #[[SID:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
// SPLIT-LABEL: func.func @conv3x3
// SPLIT: %[[IN:.*]] = texpr.scope(%arg0, %arg1) {loops = array<i64: 0, 1, 0, 4, 0, 8, 0, 8, 0, 3, 0, 3>, sums = array<i64: 0, 2>}
// SPLIT: texpr.access %{{.*}}[#[[SX]]]
// SPLIT: texpr.access %{{.*}}[#[[SW]]]
// SPLIT: texpr.scope(%[[IN]]) {loops = array<i64: 0, 1, 0, 4, 0, 8, 0, 8>, sums = array<i64: 0, 3, 0, 3>}
// SPLIT: texpr.access %{{.*}}[#[[SID]]]

// Substituting (h, r) -> (h' = h + r, r) in the inner stage: eager boundary
// tightening keeps h' in [1, 9) (X row h'-1 in bounds) with one row of
// output padding each side, and the re-indexing stage merges into the outer
// stage, which reads T[n, f, h + r, w, r, s].
// SUBST-DAG: #[[TX:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d6, d2 - 1, d3 + d5 - 1)>
// SUBST-DAG: #[[TO:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 + d4, d3, d4, d5)>
// SUBST-LABEL: func.func @conv3x3
// SUBST: %[[T:.*]] = texpr.scope(%arg0, %arg1) {loops = array<i64: 0, 1, 0, 4, 1, 9, 0, 8, 0, 3, 0, 3>, pad = array<i64: 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0>, sums = array<i64: 0, 2>}
// SUBST: texpr.access %{{.*}}[#[[TX]]]
// SUBST: texpr.scope(%[[T]]) {loops = array<i64: 0, 1, 0, 4, 0, 8, 0, 8>, sums = array<i64: 0, 3, 0, 3>}
// SUBST: texpr.access %{{.*}}[#[[TO]]]
func.func @conv3x3(%x: tensor<1x2x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x8x8xf32> {
  %0 = tessera.conv %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, groups = 1 : i64} : (tensor<1x2x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

//===----------------------------------------------------------------------===//
// Variable merge: L_{i<4, j<2} Sum_k A[2i + j, k] * B[k]
//   -> T = L_{z<8} Sum_k A[z, k] * B[k], read at T[2i + j].
//===----------------------------------------------------------------------===//
// MERGE-DAG: #[[MA:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// MERGE-DAG: #[[MR:.*]] = affine_map<(d0, d1) -> (d0 * 2 + d1)>
// MERGE-LABEL: func.func @merge
// MERGE: %[[T:.*]] = texpr.scope(%arg0, %arg1) {loops = array<i64: 0, 8>, sums = array<i64: 0, 3>}
// MERGE: texpr.access %{{.*}}[#[[MA]]]
// MERGE: texpr.scope(%[[T]]) {loops = array<i64: 0, 4, 0, 2>, sums = array<i64>}
// MERGE: texpr.access %{{.*}}[#[[MR]]]
func.func @merge(%a: tensor<8x3xf32>, %b: tensor<3xf32>) -> tensor<4x2xf32> {
  %0 = texpr.scope(%a, %b) {loops = array<i64: 0, 4, 0, 2>, sums = array<i64: 0, 3>} : (tensor<8x3xf32>, tensor<3xf32>) -> tensor<4x2xf32> {
  ^bb0(%A: tensor<8x3xf32>, %B: tensor<3xf32>):
    %x = texpr.access %A[affine_map<(d0, d1, d2) -> (d0 * 2 + d1, d2)>] : tensor<8x3xf32> -> f32
    %y = texpr.access %B[affine_map<(d0, d1, d2) -> (d2)>] : tensor<3xf32> -> f32
    %p = texpr.mul %x, %y : f32
    texpr.yield %p : f32
  }
  return %0 : tensor<4x2xf32>
}

//===----------------------------------------------------------------------===//
// Traversal merging: an inner summation-free stage R[i] = relu(A[i + 1])
// read by O[j] = Sum_k R[j + k] * B[k] is inlined: O[j] = Sum_k relu(A[j+k+1]) * B[k].
//===----------------------------------------------------------------------===//
// INLINE-DAG: #[[IA:.*]] = affine_map<(d0, d1) -> (d0 + d1 + 1)>
// INLINE-LABEL: func.func @inline
// INLINE: texpr.scope(%arg0, %arg1) {loops = array<i64: 0, 4>, sums = array<i64: 0, 3>}
// INLINE: texpr.access %{{.*}}[#[[IA]]]
// INLINE: texpr.fn "relu"
// INLINE-NOT: texpr.scope
// INLINE-LABEL: func.func @tighten
func.func @inline(%a: tensor<8xf32>, %b: tensor<3xf32>) -> tensor<4xf32> {
  %r = texpr.scope(%a) {loops = array<i64: 0, 7>, sums = array<i64>} : (tensor<8xf32>) -> tensor<7xf32> {
  ^bb0(%A: tensor<8xf32>):
    %x = texpr.access %A[affine_map<(d0) -> (d0 + 1)>] : tensor<8xf32> -> f32
    %y = texpr.fn "relu" %x : f32
    texpr.yield %y : f32
  }
  %0 = texpr.scope(%r, %b) {loops = array<i64: 0, 4>, sums = array<i64: 0, 3>} : (tensor<7xf32>, tensor<3xf32>) -> tensor<4xf32> {
  ^bb0(%R: tensor<7xf32>, %B: tensor<3xf32>):
    %x = texpr.access %R[affine_map<(d0, d1) -> (d0 + d1)>] : tensor<7xf32> -> f32
    %y = texpr.access %B[affine_map<(d0, d1) -> (d1)>] : tensor<3xf32> -> f32
    %p = texpr.mul %x, %y : f32
    texpr.yield %p : f32
  }
  return %0 : tensor<4xf32>
}

//===----------------------------------------------------------------------===//
// Boundary tightening: L_{i<10} A[i - 2] * B[i] with A of 4 and B of 10
// elements is non-zero only for i in [2, 6): the rest becomes padding.
//===----------------------------------------------------------------------===//
// TIGHT-LABEL: func.func @tighten
// TIGHT: texpr.scope(%arg0, %arg1) {loops = array<i64: 2, 6>, pad = array<i64: 2, 4>, sums = array<i64>}
// The scope in @merge cannot be tightened: a remark says so.
// REMARK: remark: tessera-derive-rule: 'tighten' does not apply
func.func @tighten(%a: tensor<4xf32>, %b: tensor<10xf32>) -> tensor<10xf32> {
  %0 = texpr.scope(%a, %b) {loops = array<i64: 0, 10>, sums = array<i64>} : (tensor<4xf32>, tensor<10xf32>) -> tensor<10xf32> {
  ^bb0(%A: tensor<4xf32>, %B: tensor<10xf32>):
    %x = texpr.access %A[affine_map<(d0) -> (d0 - 2)>] : tensor<4xf32> -> f32
    %y = texpr.access %B[affine_map<(d0) -> (d0)>] : tensor<10xf32> -> f32
    %p = texpr.mul %x, %y : f32
    texpr.yield %p : f32
  }
  return %0 : tensor<10xf32>
}

//===----------------------------------------------------------------------===//
// Boundary relaxing then variable split (the start of OLLIE's 5x5 -> 3x3
// derivation): r in [0, 5) grows to [0, 6) (W[f, c, 5, s] is padding),
// then r = 3*r1 + r2.
//===----------------------------------------------------------------------===//
// RELAX-DAG: #[[RX:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d4, d2 + d5 * 3 + d6 - 2, d3 + d7 - 2)>
// RELAX-DAG: #[[RW:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d4, d5 * 3 + d6, d7)>
// RELAX-LABEL: func.func @conv5x5
// RELAX: texpr.scope(%arg0, %arg1) {loops = array<i64: 0, 1, 0, 2, 0, 6, 0, 6>, sums = array<i64: 0, 2, 0, 2, 0, 3, 0, 5>}
// RELAX: texpr.access %{{.*}}[#[[RX]]]
// RELAX: texpr.access %{{.*}}[#[[RW]]]
func.func @conv5x5(%x: tensor<1x2x6x6xf32>, %w: tensor<2x2x5x5xf32>) -> tensor<1x2x6x6xf32> {
  %0 = tessera.conv %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>, groups = 1 : i64} : (tensor<1x2x6x6xf32>, tensor<2x2x5x5xf32>) -> tensor<1x2x6x6xf32>
  return %0 : tensor<1x2x6x6xf32>
}

//===----------------------------------------------------------------------===//
// Rules that must refuse: relaxing a max (zero points would change it) and a
// summation split naming one iterator twice.
//===----------------------------------------------------------------------===//
// NOMAX: tessera-derive-rule.mlir:[[@LINE+2]]:{{.*}}remark: tessera-derive-rule: 'relax' does not apply
func.func @max_relax(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2xf32> {
  %0 = texpr.scope(%a, %b) {loops = array<i64: 0, 2>, sums = array<i64: 0, 3>, combiner = "max"} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2xf32> {
  ^bb0(%A: tensor<2x3xf32>, %B: tensor<3xf32>):
    %x = texpr.access %A[affine_map<(d0, d1) -> (d0, d1)>] : tensor<2x3xf32> -> f32
    %y = texpr.access %B[affine_map<(d0, d1) -> (d1)>] : tensor<3xf32> -> f32
    %p = texpr.mul %x, %y : f32
    texpr.yield %p : f32
  }
  return %0 : tensor<2xf32>
}
// DUPARGS: remark: tessera-derive-rule: 'summation-split' does not apply
