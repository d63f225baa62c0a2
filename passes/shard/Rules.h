//===- passes/shard/Rules.h - per-op sharding rules -----------*- C++ -*-===//
//
// An op's sharding rule names the factors of its iteration space (batch,
// rows, columns, contraction, spatial, ...) and maps every operand and
// result dim to one factor or to none (a broadcast dim, a kernel window).
// Sharding a factor along mesh axes shards every dim mapped to it; a
// sharded reduction factor leaves a partial result. Rules come from a
// registry keyed by op name; `registerShardingRule` adds or replaces one.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_PASSES_SHARD_RULES_H
#define TESSERA_PASSES_SHARD_RULES_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <functional>
#include <optional>
#include <string>

namespace tessera::sharding {

enum class FactorKind {
  Parallel,  // each device computes its slice
  Reduction, // summed (or max/min-reduced) over: a partial result
  Whole,     // must not be split (softmax axis, concat axis, ...)
  Halo,      // spatial: split with a halo exchange of the window overlap
};

struct OpRule {
  llvm::SmallVector<int64_t> size;     // per factor
  llvm::SmallVector<FactorKind> kind;  // per factor
  llvm::SmallVector<llvm::SmallVector<int>> operands, results; // per dim
  std::string reduction = "sum";       // what a partial result needs

  int addFactor(int64_t n, FactorKind k) {
    size.push_back(n);
    kind.push_back(k);
    return static_cast<int>(size.size()) - 1;
  }
};

using RuleBuilder = std::function<std::optional<OpRule>(mlir::Operation *)>;

/// The rule for `op`, or nullopt when its kind has none (the pass then
/// treats its operands and results as replicated).
std::optional<OpRule> ruleFor(mlir::Operation *op);

/// Adds or replaces the rule for ops named `opName` (e.g. "tessera.matmul").
void registerShardingRule(llvm::StringRef opName, RuleBuilder builder);

} // namespace tessera::sharding

#endif
