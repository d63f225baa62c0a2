//===- Passes.h - tessera to linalg conversion ------------------*- C++ -*-===//
#ifndef TESSERA_PASSES_CONVERSION_GRAPHTOLINALG_PASSES_H
#define TESSERA_PASSES_CONVERSION_GRAPHTOLINALG_PASSES_H

#include "mlir/Pass/Pass.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace tessera {
#define GEN_PASS_DECL
#include "passes/conversion/GraphToLinalg/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/conversion/GraphToLinalg/Passes.h.inc"
} // namespace tessera

#endif
