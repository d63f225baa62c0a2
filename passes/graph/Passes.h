//===- Passes.h - graph-level tessera passes --------------------*- C++ -*-===//
#ifndef TESSERA_PASSES_GRAPH_PASSES_H
#define TESSERA_PASSES_GRAPH_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace tessera {
#define GEN_PASS_DECL
#include "passes/graph/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/graph/Passes.h.inc"

/// Argument attribute names set by tessera-externalize-weights.
inline constexpr const char *kWeightNameAttr = "tessera.weight";
inline constexpr const char *kWeightValueAttr = "tessera.weight_value";
/// Argument/result attribute holding the model-level tensor name.
inline constexpr const char *kTensorNameAttr = "tessera.name";
} // namespace tessera

#endif
