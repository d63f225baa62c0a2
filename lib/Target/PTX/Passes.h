//===- Passes.h - PTX target passes -----------------------------*- C++ -*-===//
#ifndef TESSERA_LIB_TARGET_PTX_PASSES_H
#define TESSERA_LIB_TARGET_PTX_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace tessera {
#define GEN_PASS_DECL
#include "lib/Target/PTX/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lib/Target/PTX/Passes.h.inc"
} // namespace tessera

#endif
