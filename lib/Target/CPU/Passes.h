//===- Passes.h - CPU target passes -----------------------------*- C++ -*-===//
#ifndef TESSERA_LIB_TARGET_CPU_PASSES_H
#define TESSERA_LIB_TARGET_CPU_PASSES_H

#include "mlir/Pass/Pass.h"

namespace tessera {
#define GEN_PASS_DECL
#include "lib/Target/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lib/Target/CPU/Passes.h.inc"
} // namespace tessera

#endif
