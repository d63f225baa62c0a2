//===- Passes.h - reverse-mode autodiff -----------------------*- C++ -*-===//
#ifndef TESSERA_PASSES_AUTODIFF_PASSES_H
#define TESSERA_PASSES_AUTODIFF_PASSES_H

#include "dialects/Graph/TesseraDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace tessera {
#define GEN_PASS_DECL
#include "passes/autodiff/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/autodiff/Passes.h.inc"
} // namespace tessera

#endif
