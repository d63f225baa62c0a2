//===- Passes.h - rematerialization ---------------------------*- C++ -*-===//
#ifndef TESSERA_PASSES_REMAT_PASSES_H
#define TESSERA_PASSES_REMAT_PASSES_H

#include "dialects/Graph/TesseraDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <cstdint>
#include <string>

namespace tessera {
#define GEN_PASS_DECL
#include "passes/remat/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/remat/Passes.h.inc"

/// Parses a memory budget: bytes with an optional K/M/G suffix (binary), or
/// a percentage ("80%"). Sets exactly one of `bytes` / `percent`; returns
/// false on malformed text.
bool parseMemoryBudget(const std::string &text, int64_t &bytes,
                       double &percent);

/// The remat cost model's estimate of an op's run time in seconds on
/// `target` ("cpu" or "cuda"): its texpr's roofline cost when it has one,
/// else bytes moved and one flop per output element and operand.
double opSeconds(mlir::Operation *op, llvm::StringRef target);
} // namespace tessera

#endif
