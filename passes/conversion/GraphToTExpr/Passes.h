//===- Passes.h - tessera to texpr -------------------------------*- C++ -*-===//
#ifndef TESSERA_PASSES_CONVERSION_GRAPHTOTEXPR_PASSES_H
#define TESSERA_PASSES_CONVERSION_GRAPHTOTEXPR_PASSES_H

#include "dialects/TExpr/TExprDialect.h"
#include "passes/derive/Expr.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

#include <string>

namespace tessera {

/// The expression of a tessera op; its inputs are the op's operands in
/// order (input i = operand i). Fails with `why` set for ops (or attribute
/// combinations) that have no expression.
mlir::FailureOr<derive::ScopePtr> expressionOf(mlir::Operation *op,
                                               std::string &why);

#define GEN_PASS_DECL
#include "passes/conversion/GraphToTExpr/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/conversion/GraphToTExpr/Passes.h.inc"
} // namespace tessera

#endif
