//===- passes/shard/Sharding.h - shardings and their propagation -*- C++ -*-===//
//
// A mesh (an upstream shard.grid with named axes), per-tensor shardings (per
// dim the mesh axes it is split along, major first, plus the axes over which
// it is a partial result), their text form ("[{data}, {}] partial{model}")
// and the propagation engine both shard passes use.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_PASSES_SHARD_SHARDING_H
#define TESSERA_PASSES_SHARD_SHARDING_H

#include "passes/shard/Rules.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"

#include <map>
#include <optional>
#include <string>

namespace tessera::sharding {

using namespace mlir;
using Axes = SmallVector<int, 2>;

using Axes = SmallVector<int, 2>;

struct Mesh {
  std::string sym;
  SmallVector<std::string> names;
  SmallVector<int64_t> shape;

  int64_t devices(ArrayRef<int> axes) const {
    int64_t n = 1;
    for (int a : axes)
      n *= shape[a];
    return n;
  }
};

struct Sharding {
  SmallVector<Axes> dims;
  Axes partial;
  std::string reduction = "sum";
  bool fixed = false; // a user's

  bool uses(int axis) const {
    for (const Axes &d : dims)
      if (llvm::is_contained(d, axis))
        return true;
    return llvm::is_contained(partial, axis);
  }
};

inline int64_t bytesOf(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.hasStaticShape())
    return 0;
  return t.getNumElements() *
         std::max<int64_t>(1, t.getElementTypeBitWidth() / 8);
}

inline std::string axesText(const Mesh &m, ArrayRef<int> axes) {
  std::string s = "{";
  for (size_t i = 0; i < axes.size(); ++i)
    s += (i ? ", " : "") + m.names[axes[i]];
  return s + "}";
}

inline std::string text(const Mesh &m, const Sharding &s) {
  std::string t = "[";
  for (size_t i = 0; i < s.dims.size(); ++i)
    t += (i ? ", " : "") + axesText(m, s.dims[i]);
  t += "]";
  if (!s.partial.empty())
    t += " partial" + (s.reduction == "sum" ? "" : "-" + s.reduction) +
         axesText(m, s.partial);
  return t;
}

/// Parses "[{data}, {}]" (axes by name) for a tensor of `rank` dims.
inline FailureOr<Sharding> parse(const Mesh &m, StringRef s, int64_t rank,
                          std::string &err) {
  Sharding out;
  StringRef all = s.trim();
  size_t close = all.rfind(']');
  StringRef rest = close == StringRef::npos ? all : all.take_front(close + 1);
  StringRef tail = close == StringRef::npos ? "" : all.drop_front(close + 1).trim();
  if (!rest.consume_front("[") || !rest.consume_back("]")) {
    err = "expected '[{axes}, ...]'";
    return failure();
  }
  rest = rest.trim();
  while (!rest.empty()) {
    rest = rest.ltrim();
    if (!rest.consume_front("{")) {
      err = "expected '{' for a dim's axes";
      return failure();
    }
    size_t close = rest.find('}');
    if (close == StringRef::npos) {
      err = "missing '}'";
      return failure();
    }
    Axes axes;
    SmallVector<StringRef> names;
    rest.take_front(close).split(names, ',', -1, false);
    for (StringRef n : names) {
      n = n.trim();
      if (n.empty())
        continue;
      auto it = llvm::find(m.names, n.str());
      if (it == m.names.end()) {
        err = "unknown mesh axis '" + n.str() + "'";
        return failure();
      }
      int a = static_cast<int>(it - m.names.begin());
      if (out.uses(a) || llvm::is_contained(axes, a)) {
        err = "mesh axis '" + n.str() + "' used twice";
        return failure();
      }
      axes.push_back(a);
    }
    out.dims.push_back(axes);
    rest = rest.drop_front(close + 1).ltrim();
    if (!rest.empty() && !rest.consume_front(",")) {
      err = "expected ',' between dims";
      return failure();
    }
  }
  if ((int64_t)out.dims.size() != rank) {
    err = "has " + std::to_string(out.dims.size()) + " dims, the tensor " +
          std::to_string(rank);
    return failure();
  }
  // " partial{axes}" or " partial-max{axes}".
  if (!tail.empty()) {
    if (!tail.consume_front("partial")) {
      err = "unexpected '" + tail.str() + "' after the dims";
      return failure();
    }
    if (tail.consume_front("-")) {
      size_t brace = tail.find('{');
      out.reduction = tail.take_front(brace).str();
      tail = tail.drop_front(brace == StringRef::npos ? tail.size() : brace);
    }
    if (!tail.consume_front("{") || !tail.consume_back("}")) {
      err = "expected 'partial{axes}'";
      return failure();
    }
    SmallVector<StringRef> names;
    tail.split(names, ',', -1, false);
    for (StringRef n : names) {
      n = n.trim();
      auto it = llvm::find(m.names, n.str());
      if (it == m.names.end()) {
        err = "unknown mesh axis '" + n.str() + "'";
        return failure();
      }
      int a = static_cast<int>(it - m.names.begin());
      if (out.uses(a)) {
        err = "mesh axis '" + n.str() + "' used twice";
        return failure();
      }
      out.partial.push_back(a);
    }
  }
  return out;
}

/// One collective of a reshard, in the order they run.
struct ReshardStep {
  enum Kind { AllReduce, AllToAll, AllGather, Slice, ReduceScatter } kind;
  Axes axes;
  int dim = 0, toDim = 0; // AllToAll: the axes move from dim to toDim
  std::string reduction = "sum";
};

/// The collectives turning `have` into `want` (dims only; `want` has no
/// partial axes): partial sums are reduced first (a reduce-scatter when a
/// dim is wanted split along exactly the partial axes: each device gets
/// only its part of the sum, half an all-reduce's traffic); an axis that moves from
/// one dim to another is one all-to-all (1/n of the data moves, where a
/// gather and a slice would gather it whole); other splits that differ are
/// gathered, then the wanted splits sliced (no communication).
inline std::vector<ReshardStep> reshardSteps(Sharding have,
                                             const Sharding &want) {
  std::vector<ReshardStep> steps;
  if (!have.partial.empty())
    steps.push_back({ReshardStep::AllReduce, have.partial, 0, 0, have.reduction});
  const size_t n = std::min(have.dims.size(), want.dims.size());
  for (size_t a = 0; a < n; ++a) {
    if (have.dims[a].empty() || have.dims[a] == want.dims[a] ||
        !want.dims[a].empty())
      continue;
    for (size_t b = 0; b < n; ++b)
      if (b != a && have.dims[b].empty() && want.dims[b] == have.dims[a]) {
        steps.push_back({ReshardStep::AllToAll, have.dims[a], (int)a, (int)b});
        have.dims[b] = have.dims[a];
        have.dims[a].clear();
        break;
      }
  }
  for (size_t d = 0; d < n; ++d)
    if (!have.dims[d].empty() && have.dims[d] != want.dims[d]) {
      steps.push_back({ReshardStep::AllGather, have.dims[d], (int)d, 0});
      have.dims[d].clear();
    }
  for (size_t d = 0; d < n; ++d)
    if (!want.dims[d].empty() && have.dims[d] != want.dims[d])
      steps.push_back({ReshardStep::Slice, want.dims[d], (int)d, 0});
  // All-reduce then a slice along the same axes: one reduce-scatter, when
  // no gather or all-to-all touches the sliced dim (the reduce-scatter runs
  // first; on a dim still split elsewhere the gather would then interleave
  // the wrong rows).
  auto touched = [&](int d) {
    for (const ReshardStep &st : steps)
      if ((st.kind == ReshardStep::AllGather && st.dim == d) ||
          (st.kind == ReshardStep::AllToAll && (st.dim == d || st.toDim == d)))
        return true;
    return false;
  };
  if (!steps.empty() && steps.front().kind == ReshardStep::AllReduce)
    for (size_t i = 1; i < steps.size(); ++i)
      if (steps[i].kind == ReshardStep::Slice &&
          steps[i].axes == steps.front().axes && !touched(steps[i].dim)) {
        steps.front().kind = ReshardStep::ReduceScatter;
        steps.front().dim = steps[i].dim;
        steps.erase(steps.begin() + static_cast<long>(i));
        break;
      }
  return steps;
}

inline std::string stepsText(const Mesh &m,
                             const std::vector<ReshardStep> &steps) {
  std::string out;
  for (const ReshardStep &s : steps) {
    out += out.empty() ? "" : ", ";
    switch (s.kind) {
    case ReshardStep::AllReduce:
      out += "all-reduce" + (s.reduction == "sum" ? "" : "-" + s.reduction) +
             axesText(m, s.axes);
      break;
    case ReshardStep::AllToAll:
      out += "all-to-all" + axesText(m, s.axes) + " dim " +
             std::to_string(s.dim) + "->" + std::to_string(s.toDim);
      break;
    case ReshardStep::AllGather:
      out += "all-gather" + axesText(m, s.axes) + " dim " + std::to_string(s.dim);
      break;
    case ReshardStep::Slice:
      out += "slice" + axesText(m, s.axes) + " dim " + std::to_string(s.dim);
      break;
    case ReshardStep::ReduceScatter:
      out += "reduce-scatter" +
             (s.reduction == "sum" ? "" : "-" + s.reduction) +
             axesText(m, s.axes) + " dim " + std::to_string(s.dim);
      break;
    }
  }
  return out;
}

struct Propagator {
  explicit Propagator(const Mesh &mesh) : mesh(mesh) {}
  const Mesh &mesh;
  llvm::DenseMap<Value, Sharding> sh;
  llvm::DenseMap<Operation *, std::optional<OpRule>> rules;
  /// Factor axes settled by propagation (read back by the partitioner from
  /// `tessera.factor_axes`, so that both passes agree).
  llvm::DenseMap<Operation *, SmallVector<Axes>> decided;

  Sharding &get(Value v) {
    auto it = sh.find(v);
    if (it != sh.end())
      return it->second;
    Sharding s;
    if (auto t = dyn_cast<RankedTensorType>(v.getType()))
      s.dims.resize(t.getRank());
    return sh[v] = s;
  }

  const std::optional<OpRule> &rule(Operation *op) {
    auto it = rules.find(op);
    if (it == rules.end())
      it = rules.insert({op, sharding::ruleFor(op)}).first;
    return it->second;
  }

  /// The operand/result tensors of `op` with their dim -> factor maps.
  static SmallVector<std::pair<Value, ArrayRef<int>>> tensors(Operation *op,
                                                               const OpRule &r) {
    SmallVector<std::pair<Value, ArrayRef<int>>> ts;
    for (unsigned i = 0; i < op->getNumOperands(); ++i)
      ts.push_back({op->getOperand(i), r.operands[i]});
    for (unsigned i = 0; i < op->getNumResults(); ++i)
      ts.push_back({op->getResult(i), r.results[i]});
    return ts;
  }

  /// The mesh axes each factor of `op` should be split along.
  SmallVector<Axes> factorAxes(Operation *op, const OpRule &r) {
    const size_t nf = r.size.size();
    SmallVector<Axes> chosen(nf);
    SmallVector<double> support(nf, 0);
    auto ts = tensors(op, r);
    for (size_t f = 0; f < nf; ++f) {
      if (r.kind[f] == FactorKind::Whole)
        continue;
      std::map<Axes, double> votes;
      for (auto &[v, map] : ts) {
        auto it = sh.find(v);
        if (it == sh.end())
          continue;
        for (size_t d = 0; d < map.size(); ++d)
          if (map[d] == (int)f && d < it->second.dims.size() &&
              !it->second.dims[d].empty())
            votes[it->second.dims[d]] +=
                double(std::max<int64_t>(bytesOf(v), 1)) *
                (it->second.fixed ? 1e6 : 1.0);
      }
      for (auto &[axes, w] : votes) {
        if (r.size[f] % mesh.devices(axes) != 0)
          continue; // uneven splits are not made by propagation
        if (w > support[f]) {
          support[f] = w;
          chosen[f] = axes;
        }
      }
    }
    // A mesh axis splits at most one factor: the best supported keeps it.
    for (size_t f = 0; f < nf; ++f)
      for (size_t h = 0; h < nf; ++h)
        if (h != f && !chosen[f].empty() && !chosen[h].empty() &&
            llvm::any_of(chosen[f], [&](int a) {
              return llvm::is_contained(chosen[h], a);
            }) &&
            (support[h] > support[f] || (support[h] == support[f] && h < f)))
          chosen[f].clear();
    return chosen;
  }

  /// The factor axes of `op`: as decided, else computed now.
  SmallVector<Axes> axesFor(Operation *op, const OpRule &r) {
    auto it = decided.find(op);
    if (it != decided.end() && it->second.size() == r.size.size())
      return it->second;
    return factorAxes(op, r);
  }

  /// The sharding `op`'s rule gives result `i` under factor axes `fa`.
  static Sharding made(Operation *op, const OpRule &r, ArrayRef<Axes> fa,
                       unsigned i) {
    Sharding m;
    if (auto t = dyn_cast<RankedTensorType>(op->getResult(i).getType()))
      m.dims.resize(t.getRank());
    for (size_t d = 0; d < m.dims.size() && d < r.results[i].size(); ++d)
      if (r.results[i][d] >= 0 && (size_t)r.results[i][d] < fa.size())
        m.dims[d] = fa[r.results[i][d]];
    for (size_t f = 0; f < r.size.size() && f < fa.size(); ++f)
      if (r.kind[f] == FactorKind::Reduction)
        for (int a : fa[f])
          if (!m.uses(a)) {
            m.partial.push_back(a);
            m.reduction = r.reduction;
          }
    return m;
  }

  /// One op: refine its tensors from its factors. Returns true on change.
  bool visit(Operation *op) {
    const std::optional<OpRule> &r = rule(op);
    if (!r)
      return false;
    SmallVector<Axes> fa = factorAxes(op, *r);
    bool changed = false;
    for (auto &[v, map] : tensors(op, *r)) {
      Sharding &s = get(v);
      if (s.fixed)
        continue;
      for (size_t d = 0; d < map.size() && d < s.dims.size(); ++d) {
        if (map[d] < 0 || (size_t)map[d] >= fa.size() || !s.dims[d].empty() ||
            fa[map[d]].empty())
          continue;
        const Axes &axes = fa[map[d]];
        if (llvm::any_of(axes, [&](int a) { return s.uses(a); }))
          continue;
        s.dims[d] = axes;
        changed = true;
      }
    }
    // Sharded reductions leave partial results.
    for (unsigned i = 0; i < op->getNumResults(); ++i) {
      Sharding &s = get(op->getResult(i));
      if (s.fixed || !s.partial.empty())
        continue;
      Sharding m = made(op, *r, fa, i);
      for (int a : m.partial)
        if (!s.uses(a)) {
          s.partial.push_back(a);
          s.reduction = m.reduction;
          changed = true;
        }
    }
    return changed;
  }

  /// What operand `i` of `op` must become for the op's rule.
  Sharding wanted(Operation *op, const OpRule &r, unsigned i) {
    SmallVector<Axes> fa = axesFor(op, r);
    Sharding w;
    w.dims.resize(get(op->getOperand(i)).dims.size());
    for (size_t d = 0; d < w.dims.size() && d < r.operands[i].size(); ++d)
      if (r.operands[i][d] >= 0 && (size_t)r.operands[i][d] < fa.size())
        w.dims[d] = fa[r.operands[i][d]];
    return w;
  }

  /// The reshard of operand `i` as text ("" when none is needed).
  std::string reshard(Operation *op, const OpRule &r, unsigned i) {
    return stepsText(mesh, reshardSteps(get(op->getOperand(i)),
                                        wanted(op, r, i)));
  }
};


/// The module's mesh: its one shard.grid. `none` is set when there is no
/// grid (nothing to shard); errors are emitted on the module.
FailureOr<Mesh> readMesh(ModuleOp module, bool &none);

} // namespace tessera::sharding

#endif
