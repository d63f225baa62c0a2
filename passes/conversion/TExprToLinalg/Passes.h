//===- Passes.h - texpr to linalg --------------------------------*- C++ -*-===//
#ifndef TESSERA_PASSES_CONVERSION_TEXPRTOLINALG_PASSES_H
#define TESSERA_PASSES_CONVERSION_TEXPRTOLINALG_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace tessera {
namespace texpr {
class ScopeOp;
} // namespace texpr

/// Lowers one scope to linalg/tensor/arith at its position; returns the
/// replacement value (the op itself is left for the caller to erase).
mlir::FailureOr<mlir::Value> lowerScopeToLinalg(mlir::OpBuilder &b,
                                                texpr::ScopeOp op);

#define GEN_PASS_DECL
#include "passes/conversion/TExprToLinalg/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/conversion/TExprToLinalg/Passes.h.inc"
} // namespace tessera

#endif
