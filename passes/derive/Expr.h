//===- Expr.h - the derivation search's expression model --------*- C++ -*-===//
//
// The search manipulates expressions in this compact form, not as IR: a
// Scope is one `texpr.scope` (traversal iterators with [lo, hi) ranges and
// output padding, summation iterators, a summand tree) whose sources are
// either inputs of the derivation or nested Scopes. Index expressions are
// MLIR AffineExprs over dims d0..d(L-1) (traversal) and dL.. (summation).
// Scopes are immutable once built and shared between candidates.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_PASSES_DERIVE_EXPR_H
#define TESSERA_PASSES_DERIVE_EXPR_H

#include "mlir/IR/AffineExpr.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace mlir {
class MLIRContext;
} // namespace mlir

namespace tessera::derive {

using mlir::AffineExpr;

struct Range {
  int64_t lo = 0, hi = 0;
  int64_t size() const { return hi - lo; }
  bool operator==(const Range &o) const { return lo == o.lo && hi == o.hi; }
};

enum class NodeKind : uint8_t { Access, Const, Add, Sub, Mul, Div, Max, Fn };

/// One node of a summand tree.
struct Node {
  NodeKind kind = NodeKind::Const;
  unsigned src = 0;                      ///< Access: index into Scope::srcs
  llvm::SmallVector<AffineExpr, 4> idx;  ///< Access: one index per dim
  double value = 0;                      ///< Const; Access: out-of-bounds value
  std::string fn;                        ///< Fn: relu, tanh, sigmoid, exp, neg
  std::vector<Node> ops;                 ///< operands of Add..Fn

  static Node access(unsigned src, llvm::ArrayRef<AffineExpr> idx,
                     double oob = 0.0);
  static Node constant(double v);
  static Node binary(NodeKind k, Node a, Node b);
  static Node unary(std::string fn, Node a);
};

struct Scope;
using ScopePtr = std::shared_ptr<const Scope>;

/// What a Scope reads: input #input of the derivation, or a nested scope.
struct Source {
  int input = -1;
  ScopePtr scope;
  llvm::SmallVector<int64_t, 6> shape;
};

struct Scope {
  mlir::MLIRContext *ctx = nullptr;
  llvm::SmallVector<Range, 6> loops, sums;
  llvm::SmallVector<int64_t, 6> padLo, padHi;
  bool maxCombiner = false;
  bool layout = false; ///< a materialised layout stage (never inlined)
  Node body;
  std::vector<Source> srcs;

  unsigned numLoops() const { return loops.size(); }
  unsigned numDims() const { return loops.size() + sums.size(); }
  llvm::SmallVector<int64_t, 6> shape() const;
  AffineExpr dim(unsigned i) const;
  /// Iterator ranges, loops then sums.
  llvm::SmallVector<Range, 12> ranges() const;
  /// True when the body is a product of accesses and constants.
  bool isProduct() const;
  /// Number of multiply-adds (points of the iteration space).
  double points() const;
};

/// Calls f on every Access node of a tree (pre-order).
void forEachAccess(const Node &n, const std::function<void(const Node &)> &f);
void forEachAccessMut(Node &n, const std::function<void(Node &)> &f);
/// Replaces dims in every access index: dim i becomes repl[i].
void remapDims(Node &n, llvm::ArrayRef<AffineExpr> repl, unsigned newNumDims);

/// Evaluates an affine expression (floor semantics for floordiv and mod).
int64_t evalAffine(AffineExpr e, llvm::ArrayRef<int64_t> dims);
/// [min, max] of e over a box of dims (exact for sums of terms; conservative
/// for floordiv/mod).
std::pair<int64_t, int64_t> boundsOf(AffineExpr e,
                                     llvm::ArrayRef<Range> dims);
/// Whether e depends on dim d.
bool usesDim(AffineExpr e, unsigned d);
/// Coefficient of dim d in a pure sum of terms, or nullopt if e is not
/// linear in d.
std::optional<int64_t> coeffOf(AffineExpr e, unsigned d);

/// Whether convert-texpr-to-linalg must read access `a` of `s` through the
/// bounds-checked gather path (tensor.extract at clamped indices + select)
/// rather than as a linalg.generic input: a floordiv/mod index, a read that
/// may leave the tensor, or a dim read by one iterator alone that does not
/// span exactly that iterator's range (linalg would take the loop bound from
/// it). The cost model uses the same predicate.
bool readsThroughGather(const Scope &s, const Node &a);
/// Whether any access of `s` does.
bool needsGather(const Scope &s);

/// OLLIE-style text: `L<d0:0:4,d1:0:5>Sum<d2:0:3>{ %0[d0, d2] * %1[d2, d1] }`;
/// nested scopes are printed inline.
std::string toString(const Scope &s);
/// Renaming-invariant fingerprint: traversal iterators by position and
/// range, summation iterators by range and first use, commutative operands
/// in canonical order.
uint64_t fingerprint(const Scope &s);

/// Replaces the nested scope reached through `path` (source indices from
/// the root) by `repl`; returns the new root (untouched parts are shared).
ScopePtr replaceAt(const ScopePtr &root, llvm::ArrayRef<unsigned> path,
                   ScopePtr repl);
/// Drops sources no access reads (renumbering the rest), recursively.
ScopePtr prune(const ScopePtr &s);
/// The stage reached from `root` through `path` (source indices).
ScopePtr scopeAt(ScopePtr root, llvm::ArrayRef<unsigned> path);
/// Every scope of a tree with its path (root first).
std::vector<std::pair<ScopePtr, llvm::SmallVector<unsigned, 4>>>
allScopes(const ScopePtr &root);
/// Visits every scope in a tree with its path (root first).
void forEachScope(const ScopePtr &root,
                  const std::function<void(const ScopePtr &,
                                           llvm::ArrayRef<unsigned>)> &f);

//===----------------------------------------------------------------------===//
// Reference interpreter (numeric verification)
//===----------------------------------------------------------------------===//

struct HostTensor {
  llvm::SmallVector<int64_t, 6> shape;
  /// Values; when empty, element i is a pseudo-random value in [-1, 1)
  /// drawn from (seed, i), so large inputs need no memory.
  std::vector<float> data;
  uint64_t seed = 0;
  double at(int64_t linear) const;
};

/// Evaluates elements of a scope tree on host tensors, memoising nested
/// scopes, so that sampled output points of large expressions stay cheap.
class Evaluator {
public:
  explicit Evaluator(llvm::ArrayRef<HostTensor> inputs) : inputs(inputs) {}
  double at(const Scope &s, llvm::ArrayRef<int64_t> outIdx);

private:
  double eval(const Scope &s, const Node &n, llvm::ArrayRef<int64_t> dims);
  llvm::ArrayRef<HostTensor> inputs;
  std::unordered_map<const Scope *, std::unordered_map<int64_t, double>> memo;
};

} // namespace tessera::derive

#endif
