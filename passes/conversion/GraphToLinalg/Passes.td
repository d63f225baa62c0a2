//===- Passes.td - tessera to linalg conversion ------------*- tablegen -*-===//
#ifndef TESSERA_CONVERSION_GRAPHTOLINALG_PASSES_TD
#define TESSERA_CONVERSION_GRAPHTOLINALG_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTesseraToLinalg : Pass<"convert-tessera-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower tessera graph ops to linalg/tensor/arith/math on tensors";
  let description = [{
    Every `tessera` op becomes upstream ops on tensors with static shapes:
    elementwise ops and broadcasts become `linalg.generic` with broadcasting
    indexing maps; matmul, conv and pooling become `linalg.generic`
    contractions whose loop order keeps the innermost loop contiguous;
    reshapes become `tensor.collapse_shape`/`tensor.expand_shape`, slices
    `tensor.extract_slice`, concatenation `tensor.insert_slice`, padding
    `tensor.pad`. Conv-transpose is rewritten as a stride-1 convolution over a
    zero-inserted input with a flipped kernel.

    Before:
    ```mlir
    %0 = tessera.relu %arg0 : tensor<4xf32>
    ```
    After:
    ```mlir
    %e = tensor.empty() : tensor<4xf32>
    %0 = linalg.generic {...} ins(%arg0 : tensor<4xf32>) outs(%e : tensor<4xf32>) {
      ^bb0(%in: f32, %out: f32):
        %c0 = arith.constant 0.0 : f32
        %m = arith.maximumf %in, %c0 : f32
        linalg.yield %m : f32
    } -> tensor<4xf32>
    ```
    Ops with dynamic shapes are rejected with an error naming the op.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::math::MathDialect"];
}

def TesseraFuseElementwise
    : Pass<"tessera-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Fuse elementwise linalg producers into their consumers, "
                "never into a contraction that would recompute them";
  let description = [{
    Like upstream `linalg-fuse-elementwise-ops` (single-use elementwise
    producers are fused into the consuming `linalg.generic` on tensors, splat
    constants folded in), with one rule more: a producer is not fused into a
    consumer that has reduction loops when the consumer reads it through a
    non-permutation map. There, fusion would evaluate the producer once per
    reduction partner (a layer-norm fused into the following matmul runs its
    rsqrt N times per element) and would hide the GEMM from library matching.
    Elementwise chains, broadcasts and reductions that read each producer
    element once (softmax, layer-norm statistics) still fuse.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect",
                           "mlir::affine::AffineDialect"];
}

def TesseraLowerPrecision
    : Pass<"tessera-lower-precision", "mlir::ModuleOp"> {
  let summary = "Store weights and elementwise results in bf16/f16; compute "
                "and accumulate in f32";
  let description = [{
    Mixed precision on linalg-on-tensors, after fusion. A tensor is stored in
    the 16-bit `type` when every use reads it as a kernel input (directly or
    through `tensor.expand_shape`/`collapse_shape`/`extract_slice`/`pad`),
    and it is either a weight argument (its value is rounded to nearest-even
    at compile time) or the result of a kernel that writes without reading
    its output (no reduction loops). Every kernel computes in f32: it extends
    (`arith.extf`) what it reads and rounds (`arith.truncf`) what it stores.
    Results of reducing kernels (matmul, conv, softmax and norm statistics)
    stay f32, so accumulation is f32 throughout; so do the model's inputs
    and outputs and any tensor a kernel reads as its output. Named linalg
    ops other than `linalg.fill` are generalized first.

    Before (`type=bf16`):
    ```mlir
    %1 = linalg.generic {...} ins(%w : tensor<4xf32>) outs(%e : tensor<4xf32>) {
      ^bb0(%in: f32, %out: f32):
        %r = math.exp %in : f32
        linalg.yield %r : f32
    } -> tensor<4xf32>
    ```
    After: `%w` is `tensor<4xbf16>`, the body starts with
    `%x = arith.extf %in : bf16 to f32`, and a result only read by later
    kernels ends with `arith.truncf ... : f32 to bf16` into a bf16 tensor.
  }];
  let options = [
    Option<"type", "type", "std::string", "\"bf16\"",
           "The storage type: bf16 or f16">,
  ];
  let statistics = [
    Statistic<"numWeights", "weights", "Weights stored in the low type">,
    Statistic<"numIntermediates", "intermediates",
              "Kernel results stored in the low type">,
    Statistic<"bytesSaved", "bytes-saved",
              "Bytes of storage saved by the low type">,
  ];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect",
                           "mlir::arith::ArithDialect"];
}

#endif
