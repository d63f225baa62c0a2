//===- Passes.h - memory planning -----------------------------*- C++ -*-===//
#ifndef TESSERA_PASSES_MEMORY_PASSES_H
#define TESSERA_PASSES_MEMORY_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Pass/Pass.h"

namespace tessera {
#define GEN_PASS_DECL
#include "passes/memory/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/memory/Passes.h.inc"

/// Argument attribute of the arena argument added by tessera-plan-memory.
inline constexpr const char *kArenaAttr = "tessera.arena";
/// Bytes of a statically shaped tensor or memref (an i1 takes a byte); 0
/// for a dynamic shape. Shared by the planners and the remat model.
int64_t storageBytes(mlir::ShapedType t);

/// Function attribute with the plan's summary.
inline constexpr const char *kMemoryPlanAttr = "tessera.memory_plan";
} // namespace tessera

#endif
