//===- Passes.td - texpr to linalg -------------------------*- tablegen -*-===//
#ifndef TESSERA_CONVERSION_TEXPRTOLINALG_PASSES_TD
#define TESSERA_CONVERSION_TEXPRTOLINALG_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTExprToLinalg : Pass<"convert-texpr-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower texpr.scope (eOperators) to one linalg.generic each";
  let description = [{
    A scope becomes a `linalg.generic` over its iteration space (traversal
    iterators parallel, summation iterators reduction). Accesses whose
    indices are sums of iterator terms and provably inside the tensor become
    generic inputs with that indexing map; the others (floordiv/mod indices,
    reads that may fall into padding) read with `tensor.extract` at clamped
    indices and select the access's out-of-bounds value. Output padding
    becomes `tensor.pad` with zeros.

    Before:
    ```mlir
    %0 = texpr.scope(%a) {loops = array<i64: 0, 4>, sums = array<i64: 0, 3>}
        : (tensor<4x3xf32>) -> tensor<4xf32> { ... }
    ```
    After: `linalg.generic {iterator_types = ["parallel", "reduction"]}`.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::math::MathDialect"];
}

#endif
