//===- Search.cpp - cost model and derivation search ----------------------===//
#include "passes/derive/Derive.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/ADT/StringMap.h"

#include <algorithm>
#include <chrono>

using namespace mlir;

namespace tessera::derive {

CostModel CostModel::forTarget(StringRef target) {
  CostModel m;
  m.target = target.str();
  auto idx = [](LibKind k) { return (int)k; };
  if (target == "cuda") {
    // H100 SXM f32 (non-tensor-core) peak and HBM3 bandwidth. GEMMs go to
    // cuBLAS; everything else is a generated (untiled) kernel.
    m.peakFlops = 51e12;
    m.bandwidth = 3.0e12;
    m.launch = 4e-6;
    m.effLibrary[idx(LibKind::None)] = 0.03;
    m.effLibrary[idx(LibKind::Matmul)] = 0.7;
    m.effLibrary[idx(LibKind::Conv)] = 0.03;
    m.effLibrary[idx(LibKind::G2bmm)] = 0.03;
    m.effLibrary[idx(LibKind::Gbmm)] = 0.03;
  } else {
    // Two x86-64 cores; every op is generated loop code.
    m.peakFlops = 100e9;
    m.bandwidth = 15e9;
    m.launch = 0;
    for (double &e : m.effLibrary)
      e = 0.1;
    // eOperators keep the expression's loop order (reduction innermost,
    // untuned): half the efficiency of the library ops' lowerings.
    m.effLibrary[idx(LibKind::None)] = 0.05;
    // Bounds-checked gathers (tensor.extract + select per read) do not
    // vectorise: measured on DCGAN's layers, about 5x slower per flop.
    m.gatherPenalty = 0.2;
  }
  return m;
}

static double numel(ArrayRef<int64_t> s) {
  double n = 1;
  for (int64_t x : s)
    n *= x;
  return n;
}
static unsigned countOps(const Node &n) {
  unsigned c = n.kind == NodeKind::Access || n.kind == NodeKind::Const ? 0 : 1;
  for (const Node &o : n.ops)
    c += countOps(o);
  return c;
}

double CostModel::cost(const Scope &root, std::vector<std::string> *stages,
                       bool gather) const {
  double total = 0;
  std::function<void(const Scope &)> visit = [&](const Scope &s) {
    for (const Source &x : s.srcs)
      if (x.scope)
        visit(*x.scope);
    LibMatch m = matchLibrary(s);
    double flops = m.kind != LibKind::None
                       ? m.flops
                       : s.points() * std::max(1u, countOps(s.body) + (s.sums.empty() ? 0 : 1));
    double bytes = 4 * numel(s.shape());
    for (const Source &x : s.srcs)
      bytes += 4 * numel(x.shape);
    double eff = effLibrary[(int)m.kind];
    if (gather && m.kind == LibKind::None && needsGather(s))
      eff *= gatherPenalty;
    double t = std::max(flops / (peakFlops * eff),
                        bytes / bandwidth) + launch;
    total += t;
    if (stages) {
      std::string d = std::string(libName(m.kind));
      if (!m.desc.empty())
        d += " (" + m.desc + ")";
      stages->push_back(d);
    }
  };
  visit(root);
  return total;
}

ScopePtr normalize(ScopePtr root, std::vector<Step> &trace) {
  // Boundary tightening is applied eagerly: it only turns provably-zero
  // iterations into output padding.
  auto stages = allScopes(root);
  for (auto &entry : llvm::reverse(stages)) {
    // Re-read the stage: a child tightened earlier changed its parents.
    if (auto r = tighten(*scopeAt(root, entry.second))) {
      root = replaceAt(root, entry.second, r->scope);
      trace.push_back(std::move(r->step));
    }
  }
  bool changed = true;
  while (changed) {
    changed = false;
    for (auto &[s, path] : allScopes(root)) {
      for (unsigned i = 0; i < s->srcs.size(); ++i) {
        if (!s->srcs[i].scope || !s->srcs[i].scope->sums.empty())
          continue;
        if (auto r = inlineSource(*s, i)) {
          root = replaceAt(root, path, r->scope);
          trace.push_back(std::move(r->step));
          changed = true;
          break;
        }
      }
      if (changed)
        break;
    }
  }
  return root;
}

namespace {
struct Searcher {
  const CostModel &model;
  const SearchOptions &opts;
  SearchResult res;
  /// Fingerprint -> the shallowest depth it was expanded at (a state met
  /// again higher up the tree has more depth left and is expanded again).
  llvm::DenseMap<uint64_t, unsigned> seen;
  std::chrono::steady_clock::time_point start;

  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
        .count();
  }

  void record(const Candidate &c) {
    auto pos = std::upper_bound(
        res.best.begin(), res.best.end(), c.cost,
        [](double v, const Candidate &x) { return v < x.cost; });
    res.best.insert(pos, c);
    if (res.best.size() > 8)
      res.best.pop_back();
  }

  static unsigned uses(const std::vector<Step> &t, StringRef rule) {
    return llvm::count_if(t, [&](const Step &s) { return s.rule == rule; });
  }

  /// Explorative rule applications to one scope.
  std::vector<RuleResult> moves(const Scope &s, const std::vector<Step> &trace) {
    std::vector<RuleResult> out;
    auto add = [&](std::optional<RuleResult> r) {
      if (r)
        out.push_back(std::move(*r));
    };
    unsigned L = s.numLoops(), S = s.sums.size();
    if (S >= 2 && S <= 5 && uses(trace, "summation-split") < 3)
      for (unsigned mask = 1; mask + 1 < (1u << S); ++mask) {
        SmallVector<unsigned> outer;
        for (unsigned i = 0; i < S; ++i)
          if (mask & (1u << i))
            outer.push_back(i);
        add(summationSplit(s, outer));
      }
    // Substitution / merge for traversal pairs that meet in one index.
    // Only the substitution that turns `x + sign*y` in an index into one
    // iterator is tried (guided by the indices, as OLLIE's Rule2).
    llvm::SmallSet<std::tuple<unsigned, unsigned, int>, 8> subs;
    llvm::SmallSet<std::pair<unsigned, unsigned>, 8> pairs;
    forEachAccess(s.body, [&](const Node &a) {
      for (AffineExpr e : a.idx)
        for (unsigned x = 0; x < L; ++x)
          for (unsigned y = 0; y < L; ++y) {
            if (x == y || !usesDim(e, x) || !usesDim(e, y))
              continue;
            pairs.insert({x, y});
            auto cx = coeffOf(e, x), cy = coeffOf(e, y);
            if (cx && cy && *cx == 1 && std::abs(*cy) == 1)
              subs.insert({x, y, (int)*cy});
          }
    });
    for (auto [x, y, sign] : subs)
      add(substitute(s, x, y, sign));
    for (auto [x, y] : pairs)
      add(mergeVars(s, x, y));
    if (uses(trace, "boundary-relaxing") < 1)
      for (unsigned i = 0; i < S; ++i) {
        Range r = s.sums[i];
        for (int64_t k : {2, 3})
          if (r.lo == 0 && r.size() % k && r.size() > k && r.size() <= 12)
            add(relax(s, i, {0, (r.size() + k - 1) / k * k}));
      }
    // Dilated windows: loops read as `a + D*x` with D > 1 on another iterator.
    if (uses(trace, "dilation-to-batch") < 2)
      for (unsigned a = 0; a < L; ++a) {
        llvm::SmallSet<int64_t, 2> ds;
        forEachAccess(s.body, [&](const Node &n) {
          for (AffineExpr e : n.idx) {
            auto ca = coeffOf(e, a);
            if (!ca || *ca != 1)
              continue;
            for (unsigned o = 0; o < s.numDims(); ++o)
              if (auto co = coeffOf(e, o); o != a && co && std::abs(*co) > 1)
                ds.insert(std::abs(*co));
          }
        });
        for (int64_t d : ds)
          add(dilationToBatch(s, a, d));
      }
    if (uses(trace, "variable-split") < 1)
      for (unsigned i = 0; i < S; ++i)
        for (int64_t k : {2, 3})
          if (s.sums[i].size() <= 12)
            add(splitSum(s, i, k));
    return out;
  }

  void dfs(const Candidate &c, unsigned depth) {
    if (elapsed() > opts.timeBudget) {
      res.timedOut = true;
      return;
    }
    // The moves left depend on the path's use of the limited rules too.
    uint64_t key = llvm::hash_combine(
        fingerprint(*c.root), uses(c.trace, "summation-split"),
        uses(c.trace, "boundary-relaxing"), uses(c.trace, "variable-split"),
        uses(c.trace, "dilation-to-batch"));
    auto [it, fresh] = seen.try_emplace(key, depth);
    if (!fresh) {
      ++res.deduplicated;
      if (it->second <= depth)
        return;
      it->second = depth;
    } else {
      ++res.explored;
      if (depth > 0)
        record(c);
    }
    if (depth >= opts.maxDepth)
      return;
    for (auto &[s, path] : allScopes(c.root)) {
      // Explorative rules act on stages whose summand is binary (OLLIE);
      // summation-free inner stages are merged eagerly.
      unsigned accesses = 0;
      forEachAccess(s->body, [&](const Node &) { ++accesses; });
      if (accesses < 2 || (s->sums.empty() && !path.empty()))
        continue;
      for (RuleResult &r : moves(*s, c.trace)) {
        Candidate child;
        child.trace = c.trace;
        child.trace.push_back(std::move(r.step));
        child.root = normalize(replaceAt(c.root, path, r.scope), child.trace);
        child.cost = model.cost(*child.root);
        dfs(child, depth + 1);
        if (res.timedOut)
          return;
      }
    }
  }
};
} // namespace

SearchResult search(ScopePtr root, const CostModel &model,
                    const SearchOptions &opts) {
  Searcher s{model, opts, SearchResult(), llvm::DenseMap<uint64_t, unsigned>(),
             std::chrono::steady_clock::now()};
  s.res.original.root = root;
  s.res.original.cost =
      model.cost(*root, nullptr, /*gather=*/false) * opts.originalWorkFactor;
  s.dfs(s.res.original, 0);
  s.res.seconds = s.elapsed();
  return std::move(s.res);
}

} // namespace tessera::derive
