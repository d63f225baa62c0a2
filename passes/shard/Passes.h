//===- Passes.h - sharding ------------------------------------*- C++ -*-===//
#ifndef TESSERA_PASSES_SHARD_PASSES_H
#define TESSERA_PASSES_SHARD_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace tessera {
#define GEN_PASS_DECL
#include "passes/shard/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/shard/Passes.h.inc"
} // namespace tessera

#endif
