//===- Bridge.h - texpr IR <-> expression model -----------------*- C++ -*-===//
#ifndef TESSERA_PASSES_DERIVE_BRIDGE_H
#define TESSERA_PASSES_DERIVE_BRIDGE_H

#include "passes/derive/Expr.h"

#include "mlir/IR/Builders.h"
#include "mlir/Support/LLVM.h"

namespace tessera::texpr {
class ScopeOp;
} // namespace tessera::texpr

namespace tessera::derive {

/// Reads `op` into the model. Operands produced by other texpr.scope ops
/// become nested scopes (recursively); every other operand becomes an input,
/// appended to `inputs` (each distinct value once).
mlir::FailureOr<ScopePtr> scopeFromOp(texpr::ScopeOp op,
                                      llvm::SmallVectorImpl<mlir::Value> &inputs,
                                      bool nestScopes = true);

/// Materialises a scope tree as texpr.scope ops (nested scopes first) with
/// element type `et`; returns the root's result.
mlir::Value scopeToOps(mlir::OpBuilder &b, mlir::Location loc, const Scope &s,
                       llvm::ArrayRef<mlir::Value> inputs, mlir::Type et);

} // namespace tessera::derive

#endif
