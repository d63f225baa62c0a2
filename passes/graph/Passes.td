//===- Passes.td - graph-level tessera passes --------------*- tablegen -*-===//
#ifndef TESSERA_PASSES_GRAPH_PASSES_TD
#define TESSERA_PASSES_GRAPH_PASSES_TD

include "mlir/Pass/PassBase.td"

def TesseraExternalizeWeights
    : Pass<"tessera-externalize-weights", "mlir::ModuleOp"> {
  let summary = "Turn large constants into entry-function arguments";
  let description = [{
    Weights are not compiled into code: every non-splat `tessera.constant`
    with at least `min-elements` elements in a public function becomes a new
    function argument placed after the existing ones. The argument carries
    `tessera.weight = "<name>"` (the constant's name location, or
    `weight_<n>`) and `tessera.weight_value = <the elements attribute>`, from
    which the artifact writer stores the data; the runtime passes a pointer to
    it at each call.

    Before:
    ```mlir
    func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
      %w = tessera.constant dense_resource<fc.weight> : tensor<4xf32> loc("fc.weight")
      %y = tessera.add %x, %w : ...
    ```
    After:
    ```mlir
    func.func @main(%x: tensor<4xf32>,
                    %w: tensor<4xf32> {tessera.weight = "fc.weight", tessera.weight_value = dense_resource<fc.weight> : tensor<4xf32>}) -> tensor<4xf32> {
      %y = tessera.add %x, %w : ...
    ```
  }];
  let options = [
    Option<"minElements", "min-elements", "int64_t", /*default=*/"16",
           "Constants with fewer elements stay inline">
  ];
}

def TesseraDistinctResults
    : Pass<"tessera-distinct-results", "mlir::func::FuncOp"> {
  let summary = "Give every returned tensor its own value";
  let description = [{
    A function that returns one value at several result positions (two
    outputs equal after CSE, e.g. the bias gradients of two convolutions fed
    by the same gradient) gets a `linalg.copy` per repeat, so each result
    owns its buffer after bufferization (buffer-results-to-out-params needs
    distinct results).
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

#endif
