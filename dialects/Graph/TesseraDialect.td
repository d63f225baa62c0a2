//===- TesseraDialect.td - the tessera graph dialect -------*- tablegen -*-===//
#ifndef TESSERA_GRAPH_DIALECT_TD
#define TESSERA_GRAPH_DIALECT_TD

include "mlir/IR/OpBase.td"

def Tessera_Dialect : Dialect {
  let name = "tessera";
  let summary = "Graph-level tensor operations with value semantics";
  let description = [{
    The `tessera` dialect holds imported models as graphs of tensor operations
    on ranked tensors with value semantics. Ops are close to ONNX/PyTorch but
    normalised: one `conv` (2-D, NCHW, groups, strides, dilations, explicit
    begin/end padding), one `matmul` with numpy-style batch broadcasting,
    explicit numpy broadcasting for elementwise binary ops. Shape rules are
    free functions (ShapeInference.h) shared by verifiers, the importer and
    passes.
  }];
  let cppNamespace = "::tessera";
  let hasConstantMaterializer = 1;
}

class Tessera_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tessera_Dialect, mnemonic, traits>;

#endif
