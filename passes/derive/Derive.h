//===- Derive.h - derivation rules, matching, verification, search -*- C++ -*-===//
//
// Internal to passes/derive. Rules rewrite one scope of an expression tree
// and return the rewritten scope (or nullptr when they do not apply); each
// records the proof obligations of its index algebra, which verification
// discharges with Z3 before a derivation is committed.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_PASSES_DERIVE_DERIVE_H
#define TESSERA_PASSES_DERIVE_DERIVE_H

#include "passes/derive/Expr.h"

#include "mlir/IR/Builders.h"

#include <optional>

namespace tessera::derive {

/// An index-algebra fact a rule relies on, checked by Z3.
struct Obligation {
  enum Kind {
    /// Every point of `box` maps (through `map`) into the ranges `to`.
    Covers,
    /// At every point of `box`, at least one access reads outside its
    /// tensor (so the summand is zero there).
    ZeroRegion,
  } kind = Covers;
  std::string what;
  llvm::SmallVector<Range, 12> box;
  llvm::SmallVector<AffineExpr, 6> map;
  llvm::SmallVector<Range, 6> to;
  std::vector<std::pair<llvm::SmallVector<AffineExpr, 6>,
                        llvm::SmallVector<int64_t, 6>>>
      accesses;
};

struct Step {
  std::string rule;
  std::string detail;
  std::vector<Obligation> proofs;
};

struct RuleResult {
  ScopePtr scope;
  Step step;
};

//===- Explorative rules (OLLIE's names in parentheses) -------------------===//

/// Summation splitting (Rule3): L_X Sum_{S u T} f -> L_X Sum_S (L_{X u S} Sum_T f)[X, S].
std::optional<RuleResult> summationSplit(const Scope &s,
                                         llvm::ArrayRef<unsigned> outerSums);
/// Variable substitution (Rule2): traversal iterators (a, b) -> (a' = a + sign*b, b)
/// in a new inner scope, re-indexed by an outer stage.
std::optional<RuleResult> substitute(const Scope &s, unsigned a, unsigned b,
                                     int sign);
/// Variable merge (Rule2, second form): traversal iterators with `c*a + b`
/// and range(b) = c become one iterator z = c*a + b.
std::optional<RuleResult> mergeVars(const Scope &s, unsigned a, unsigned b);
/// Traversal merging (Rule4): inline source `src` (a scope without
/// summation, read only inside its computed range) into `s`.
std::optional<RuleResult> inlineSource(const Scope &s, unsigned src);
/// Boundary tightening (Rule5): shrink traversal ranges to where the
/// product can be non-zero; the cut becomes output padding.
std::optional<RuleResult> tighten(const Scope &s);
/// Boundary relaxing (Rule9): grow summation iterator `i` to `newRange`
/// (the added points read zero padding).
std::optional<RuleResult> relax(const Scope &s, unsigned i, Range newRange);
/// Variable split (Rule1): summation iterator i -> k*i1 + i2.
std::optional<RuleResult> splitSum(const Scope &s, unsigned i, int64_t k);
/// Layout change of a dilated window (Rule1 on a traversal iterator +
/// Rule7): traversal iterator `a` whose indices read `a + D*(...)` is split
/// a = D*a1 + a2; each tensor read through `a` gets a layout stage
/// X'[.., p, j, ..] = X[.., D*j + p + c, ..] so that the window over a1 is
/// dense (space-to-batch); an outer stage re-indexes the result with
/// a floordiv D, a mod D.
std::optional<RuleResult> dilationToBatch(const Scope &s, unsigned a,
                                          int64_t dil);

//===- Guided matching (Rule8) and eOperators (Rule90) --------------------===//

enum class LibKind { None, Matmul, Conv, G2bmm, Gbmm };
const char *libName(LibKind k);

/// A scope recognised as a library operator.
struct LibMatch {
  LibKind kind = LibKind::None;
  double flops = 0;  ///< useful flops of the library call
  double bytes = 0;  ///< operands + result
  std::string desc;  ///< human-readable shapes
};
LibMatch matchLibrary(const Scope &s);

/// Emits the library op for `s` over `operands` (one value per source) and
/// returns the scope's value; fails, creating nothing, when `s` matches no
/// library operator.
mlir::FailureOr<mlir::Value> emitLibrary(mlir::OpBuilder &b, mlir::Location loc,
                                         const Scope &s,
                                         llvm::ArrayRef<mlir::Value> operands);

//===- Verification -------------------------------------------------------===//

struct Verdict {
  bool ok = false;
  double maxError = 0;        ///< max |derived - original| / (1 + |original|)
  int pointsChecked = 0;
  int obligations = 0;        ///< Z3 obligations discharged
  std::string failure;        ///< why verification failed
};
/// Compares `derived` with `original` at sampled output points on seeded
/// random inputs, then proves every obligation of `trace` with Z3.
Verdict verify(const Scope &original, const Scope &derived,
               llvm::ArrayRef<llvm::SmallVector<int64_t, 6>> inputShapes,
               llvm::ArrayRef<Step> trace, uint64_t seed);
/// Proves one obligation; returns an error text, empty on success.
std::string prove(const Obligation &o);

//===- Cost model and search ----------------------------------------------===//

/// Analytical roofline of one target: each stage costs
/// max(flops / (peak * efficiency), bytes / bandwidth) + launch overhead.
struct CostModel {
  std::string target;          ///< "cpu" or "cuda"
  double peakFlops = 0;        ///< f32 FLOP/s
  double bandwidth = 0;        ///< bytes/s
  double launch = 0;           ///< seconds per kernel
  double effLibrary[5] = {};   ///< compute efficiency per LibKind
  /// eOperators whose reads need bounds checks or div/mod (the gather path
  /// of convert-texpr-to-linalg) run at this fraction of effLibrary[None].
  double gatherPenalty = 0.5;
  static CostModel forTarget(llvm::StringRef target);
  /// Cost of a tree (seconds); `stages` gets one line per stage. With
  /// `gather` false no stage pays the gather penalty (used for the original
  /// operator, whose own lowering pads its inputs explicitly).
  double cost(const Scope &root, std::vector<std::string> *stages = nullptr,
              bool gather = true) const;
};

struct Candidate {
  ScopePtr root;
  std::vector<Step> trace;
  double cost = 0;
};

struct SearchOptions {
  unsigned maxDepth = 6;
  double timeBudget = 5.0; ///< seconds
  /// The original operator's lowering does this many times the work of its
  /// expression (a conv-transpose lowers to a stride-1 conv over the
  /// zero-inserted input: strides[0] * strides[1]).
  double originalWorkFactor = 1.0;
};

struct SearchResult {
  Candidate original;
  std::vector<Candidate> best; ///< cheapest first, distinct fingerprints
  unsigned explored = 0, deduplicated = 0;
  bool timedOut = false;
  double seconds = 0;
};

/// Applies the eager rules (traversal merging of summation-free stages)
/// everywhere in the tree.
ScopePtr normalize(ScopePtr root, std::vector<Step> &trace);
/// Explorative DFS over rule applications with fingerprint deduplication;
/// every state is costed with guided matching (library ops + eOperators).
SearchResult search(ScopePtr root, const CostModel &model,
                    const SearchOptions &opts);

} // namespace tessera::derive

#endif
