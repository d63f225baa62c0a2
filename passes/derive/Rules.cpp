//===- Rules.cpp - OLLIE derivation rules on the expression model ---------===//
#include "passes/derive/Derive.h"

#include "mlir/IR/AffineExpr.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace tessera::derive {
namespace {
std::shared_ptr<Scope> clone(const Scope &s) {
  return std::make_shared<Scope>(s);
}

Source sourceOf(ScopePtr s) {
  Source src;
  src.shape = s->shape();
  src.scope = std::move(s);
  return src;
}

/// A scope with `s`'s traversal iterators and padding and no summation,
/// whose body reads `inner` at `idx` (an outer re-indexing stage).
std::shared_ptr<Scope> reindexStage(const Scope &s, ScopePtr inner,
                                    ArrayRef<AffineExpr> idx) {
  auto r = std::make_shared<Scope>();
  r->ctx = s.ctx;
  r->loops = s.loops;
  r->padLo = s.padLo;
  r->padHi = s.padHi;
  r->srcs.push_back(sourceOf(std::move(inner)));
  r->body = Node::access(0, idx);
  return r;
}

std::string list(ArrayRef<unsigned> v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "{";
  llvm::interleaveComma(v, os, [&](unsigned x) { os << "d" << x; });
  os << "}";
  return s;
}

AffineExpr replaceDim(AffineExpr e, unsigned d, AffineExpr with,
                      unsigned numDims, MLIRContext *ctx) {
  SmallVector<AffineExpr> repl;
  for (unsigned k = 0; k < numDims; ++k)
    repl.push_back(k == d ? with : getAffineDimExpr(k, ctx));
  return simplifyAffineExpr(e.replaceDimsAndSymbols(repl, {}), numDims, 0);
}

bool allZeroPadded(const Scope &s) {
  bool ok = s.isProduct();
  forEachAccess(s.body, [&](const Node &a) { ok &= a.value == 0.0; });
  return ok;
}

Obligation zeroRegion(const Scope &s, ArrayRef<Range> box, std::string what) {
  Obligation o;
  o.kind = Obligation::ZeroRegion;
  o.what = std::move(what);
  o.box.assign(box.begin(), box.end());
  forEachAccess(s.body, [&](const Node &a) {
    o.accesses.emplace_back(
        llvm::SmallVector<AffineExpr, 6>(a.idx.begin(), a.idx.end()),
        s.srcs[a.src].shape);
  });
  return o;
}

/// Obligation: every point of `box` maps through `map` into the ranges `to`.
Obligation covers(std::string what, ArrayRef<Range> box,
                  ArrayRef<AffineExpr> map, ArrayRef<Range> to) {
  Obligation o;
  o.kind = Obligation::Covers;
  o.what = std::move(what);
  o.box.assign(box.begin(), box.end());
  o.map.assign(map.begin(), map.end());
  o.to.assign(to.begin(), to.end());
  return o;
}

/// Whether interval reasoning shows that in `box` some access is out of
/// bounds everywhere.
bool provablyZero(const Scope &s, ArrayRef<Range> box) {
  bool zero = false;
  forEachAccess(s.body, [&](const Node &a) {
    for (auto [k, e] : llvm::enumerate(a.idx)) {
      auto [lo, hi] = boundsOf(e, box);
      if (hi < 0 || lo >= s.srcs[a.src].shape[k])
        zero = true;
    }
  });
  return zero;
}
} // namespace

std::optional<RuleResult> summationSplit(const Scope &s,
                                         ArrayRef<unsigned> outerSums) {
  unsigned L = s.numLoops(), S = s.sums.size();
  if (outerSums.empty() || outerSums.size() >= S)
    return std::nullopt;
  for (auto [k, i] : llvm::enumerate(outerSums))
    if (i >= S || llvm::is_contained(outerSums.take_front(k), i))
      return std::nullopt;
  llvm::SmallVector<unsigned> inner;
  for (unsigned i = 0; i < S; ++i)
    if (!llvm::is_contained(outerSums, i))
      inner.push_back(i);
  auto in = std::make_shared<Scope>();
  in->ctx = s.ctx;
  in->loops = s.loops;
  in->padLo.assign(L, 0);
  in->padHi.assign(L, 0);
  in->maxCombiner = s.maxCombiner;
  in->srcs = s.srcs;
  SmallVector<AffineExpr> repl(s.numDims());
  for (unsigned k = 0; k < L; ++k)
    repl[k] = s.dim(k);
  unsigned next = L;
  for (unsigned i : outerSums) {
    in->loops.push_back(s.sums[i]);
    in->padLo.push_back(0);
    in->padHi.push_back(0);
    repl[L + i] = s.dim(next++);
  }
  for (unsigned i : inner) {
    in->sums.push_back(s.sums[i]);
    repl[L + i] = s.dim(next++);
  }
  in->body = s.body;
  remapDims(in->body, repl, next);

  auto out = std::make_shared<Scope>();
  out->ctx = s.ctx;
  out->loops = s.loops;
  out->padLo = s.padLo;
  out->padHi = s.padHi;
  out->maxCombiner = s.maxCombiner;
  for (unsigned i : outerSums)
    out->sums.push_back(s.sums[i]);
  SmallVector<AffineExpr> idx;
  for (unsigned k = 0; k < out->numDims(); ++k)
    idx.push_back(simplifyAffineExpr(s.dim(k) - out->ranges()[k].lo,
                                     out->numDims(), 0));
  out->srcs.push_back(sourceOf(in));
  out->body = Node::access(0, idx);
  SmallVector<unsigned> names;
  for (unsigned i : outerSums)
    names.push_back(L + i);
  return RuleResult{out, {"summation-split", "outer sums " + list(names), {}}};
}

std::optional<RuleResult> substitute(const Scope &s, unsigned a, unsigned b,
                                     int sign) {
  unsigned L = s.numLoops();
  if (a >= L || b >= L || a == b || (sign != 1 && sign != -1))
    return std::nullopt;
  const Range ra = s.loops[a], rb = s.loops[b];
  int64_t b0 = sign * rb.lo, b1 = sign * (rb.hi - 1);
  Range na{ra.lo + std::min(b0, b1), ra.hi - 1 + std::max(b0, b1) + 1};
  auto t = clone(s);
  t->loops[a] = na;
  t->padLo.assign(L, 0);
  t->padHi.assign(L, 0);
  AffineExpr da = s.dim(a), db = s.dim(b);
  forEachAccessMut(t->body, [&](Node &n) {
    for (AffineExpr &e : n.idx)
      e = replaceDim(e, a, da - db * sign, s.numDims(), s.ctx);
  });
  SmallVector<AffineExpr> idx;
  for (unsigned k = 0; k < L; ++k)
    idx.push_back(simplifyAffineExpr(
        k == a ? da + db * sign - na.lo : s.dim(k) - t->loops[k].lo, L, 0));
  auto r = reindexStage(s, t, idx);
  Obligation o = covers("d" + std::to_string(a) + (sign > 0 ? "+" : "-") +
                             "d" + std::to_string(b) + " stays in the new range",
                         s.loops, {da + db * sign}, {na});
  std::string detail = "(d" + std::to_string(a) + ", d" + std::to_string(b) +
                       ") -> (d" + std::to_string(a) + (sign > 0 ? " + " : " - ") +
                       "d" + std::to_string(b) + ", d" + std::to_string(b) + ")";
  return RuleResult{r, {"variable-substitution", detail, {o}}};
}

std::optional<RuleResult> mergeVars(const Scope &s, unsigned a, unsigned b) {
  unsigned L = s.numLoops(), D = s.numDims();
  if (a >= L || b >= L || a == b || s.loops[a].lo != 0 || s.loops[b].lo != 0)
    return std::nullopt;
  int64_t c = s.loops[b].size();
  // Every index using a or b must be linear with coeff(a) = c * coeff(b).
  bool ok = true, used = false;
  forEachAccess(s.body, [&](const Node &n) {
    for (AffineExpr e : n.idx) {
      if (!usesDim(e, a) && !usesDim(e, b))
        continue;
      auto ca = coeffOf(e, a), cb = coeffOf(e, b);
      if (!ca || !cb || *cb == 0 || *ca != c * *cb)
        ok = false;
      used = true;
    }
  });
  if (!ok || !used)
    return std::nullopt;
  // T' loops: z at a's place, b dropped.
  auto t = clone(s);
  t->loops[a] = {0, c * s.loops[a].size()};
  t->loops.erase(t->loops.begin() + b);
  t->padLo.assign(L - 1, 0);
  t->padHi.assign(L - 1, 0);
  unsigned za = a < b ? a : a - 1;
  SmallVector<AffineExpr> renum; // old dim -> new dim (b unused)
  for (unsigned k = 0; k < D; ++k)
    renum.push_back(k == b ? getAffineConstantExpr(0, s.ctx)
                           : s.dim(k < b ? k : k - 1));
  AffineExpr zero = getAffineConstantExpr(0, s.ctx);
  forEachAccessMut(t->body, [&](Node &n) {
    for (AffineExpr &e : n.idx) {
      if (!usesDim(e, a) && !usesDim(e, b)) {
        e = simplifyAffineExpr(e.replaceDimsAndSymbols(renum, {}), D, 0);
        continue;
      }
      int64_t cb = *coeffOf(e, b);
      AffineExpr rest = replaceDim(replaceDim(e, a, zero, D, s.ctx), b, zero,
                                   D, s.ctx);
      e = simplifyAffineExpr(
          rest.replaceDimsAndSymbols(renum, {}) + s.dim(za) * cb, D, 0);
    }
  });
  SmallVector<AffineExpr> idx;
  for (unsigned k = 0; k < L; ++k) {
    if (k == b)
      continue;
    idx.push_back(simplifyAffineExpr(
        k == a ? s.dim(a) * c + s.dim(b) : s.dim(k) - s.loops[k].lo, L, 0));
  }
  auto r = reindexStage(s, t, idx);
  Obligation o = covers("merged iterator stays in range", s.loops,
                         {s.dim(a) * c + s.dim(b)}, {t->loops[za]});
  std::string detail = "(d" + std::to_string(a) + ", d" + std::to_string(b) +
                       ") -> " + std::to_string(c) + "*d" + std::to_string(a) +
                       " + d" + std::to_string(b);
  return RuleResult{r, {"variable-merge", detail, {o}}};
}

std::optional<RuleResult> inlineSource(const Scope &s, unsigned srcIdx) {
  if (srcIdx >= s.srcs.size() || !s.srcs[srcIdx].scope)
    return std::nullopt;
  const Scope &in = *s.srcs[srcIdx].scope;
  if (!in.sums.empty() || in.layout)
    return std::nullopt;
  auto ranges = s.ranges();
  bool ok = true;
  std::vector<Obligation> proofs;
  // Reads outside the stage's computed region see zeros (its padding or
  // the tensor's out-of-bounds value). Inlining evaluates the stage's body
  // there instead, which is exact only where that body is provably zero.
  forEachAccess(s.body, [&](const Node &a) {
    if (a.src != srcIdx)
      return;
    if (a.value != 0.0)
      ok = false;
    // The read region, as iterator values of the inner stage.
    SmallVector<Range> read;
    for (auto [k, e] : llvm::enumerate(a.idx)) {
      auto [lo, hi] = boundsOf(e, ranges);
      read.push_back({lo - in.padLo[k] + in.loops[k].lo,
                      hi - in.padLo[k] + in.loops[k].lo + 1});
    }
    // Read region minus the computed box, as disjoint slabs: along dim k,
    // dims before k inside the computed range, dims after k anywhere read.
    for (unsigned k = 0; k < read.size(); ++k) {
      for (Range slab : {Range{read[k].lo, std::min(read[k].hi, in.loops[k].lo)},
                         Range{std::max(read[k].lo, in.loops[k].hi), read[k].hi}}) {
        if (slab.size() <= 0)
          continue;
        SmallVector<Range, 12> box;
        for (unsigned j = 0; j < read.size(); ++j)
          box.push_back(j < k ? Range{std::max(read[j].lo, in.loops[j].lo),
                                      std::min(read[j].hi, in.loops[j].hi)}
                        : j == k ? slab
                                 : read[j]);
        if (llvm::any_of(box, [](Range r) { return r.size() <= 0; }))
          continue;
        if (!allZeroPadded(in) || !provablyZero(in, box)) {
          ok = false;
          continue;
        }
        proofs.push_back(zeroRegion(in, box, "inlined stage is zero where "
                                             "its reader sees padding"));
      }
    }
  });
  if (!ok)
    return std::nullopt;
  auto out = clone(s);
  unsigned off = out->srcs.size();
  for (const Source &x : in.srcs)
    out->srcs.push_back(x);
  std::function<void(Node &)> rewrite = [&](Node &n) {
    if (n.kind == NodeKind::Access && n.src == srcIdx) {
      SmallVector<AffineExpr> repl;
      for (auto [k, e] : llvm::enumerate(n.idx))
        repl.push_back(e - in.padLo[k] + in.loops[k].lo);
      Node body = in.body;
      forEachAccessMut(body, [&](Node &x) {
        x.src += off;
        for (AffineExpr &e : x.idx)
          e = simplifyAffineExpr(e.replaceDimsAndSymbols(repl, {}),
                                 s.numDims(), 0);
      });
      n = std::move(body);
      return;
    }
    for (Node &o : n.ops)
      rewrite(o);
  };
  rewrite(out->body);
  return RuleResult{prune(out),
                    {"traversal-merge", "inline source " + std::to_string(srcIdx),
                     std::move(proofs)}};
}

std::optional<RuleResult> tighten(const Scope &s) {
  if (!allZeroPadded(s))
    return std::nullopt;
  unsigned L = s.numLoops(), D = s.numDims();
  auto out = clone(s);
  std::vector<Obligation> proofs;
  bool changed = false;
  for (unsigned k = 0; k < L; ++k) {
    auto ranges = out->ranges();
    int64_t lo = ranges[k].lo, hi = ranges[k].hi - 1;
    forEachAccess(s.body, [&](const Node &a) {
      for (auto [j, e] : llvm::enumerate(a.idx)) {
        auto c = coeffOf(e, k);
        if (!c || *c == 0)
          continue;
        AffineExpr rest =
            replaceDim(e, k, getAffineConstantExpr(0, s.ctx), D, s.ctx);
        auto [rmin, rmax] = boundsOf(rest, ranges);
        int64_t n = s.srcs[a.src].shape[j];
        // 0 <= c*x + rest <= n-1 for some rest in [rmin, rmax].
        int64_t lo2, hi2;
        auto fdiv = [](int64_t p, int64_t q) {
          return p / q - ((p % q != 0) && ((p < 0) != (q < 0)));
        };
        auto cdiv = [&](int64_t p, int64_t q) { return -fdiv(-p, q); };
        if (*c > 0) {
          lo2 = cdiv(-rmax, *c);
          hi2 = fdiv(n - 1 - rmin, *c);
        } else {
          lo2 = cdiv(n - 1 - rmin, *c);
          hi2 = fdiv(-rmax, *c);
        }
        lo = std::max(lo, lo2);
        hi = std::min(hi, hi2);
      }
    });
    if (lo > hi)
      return std::nullopt; // the whole scope is zero; leave it alone
    Range old = ranges[k];
    if (lo == old.lo && hi == old.hi - 1)
      continue;
    changed = true;
    if (lo > old.lo) {
      auto box = ranges;
      box[k] = {old.lo, lo};
      proofs.push_back(zeroRegion(s, box, "cut below d" + std::to_string(k)));
    }
    if (hi < old.hi - 1) {
      auto box = ranges;
      box[k] = {hi + 1, old.hi};
      proofs.push_back(zeroRegion(s, box, "cut above d" + std::to_string(k)));
    }
    out->padLo[k] += lo - old.lo;
    out->padHi[k] += old.hi - 1 - hi;
    out->loops[k] = {lo, hi + 1};
  }
  if (!changed)
    return std::nullopt;
  return RuleResult{out, {"boundary-tightening", "", std::move(proofs)}};
}

std::optional<RuleResult> relax(const Scope &s, unsigned i, Range nr) {
  unsigned L = s.numLoops();
  // Zero-valued extra points leave a sum alone but not a maximum.
  if (i >= s.sums.size() || !allZeroPadded(s) || s.maxCombiner)
    return std::nullopt;
  Range old = s.sums[i];
  if (nr.lo > old.lo || nr.hi < old.hi || nr == old)
    return std::nullopt;
  std::vector<Obligation> proofs;
  auto ranges = s.ranges();
  for (Range slab : {Range{nr.lo, old.lo}, Range{old.hi, nr.hi}}) {
    if (slab.size() <= 0)
      continue;
    auto box = ranges;
    box[L + i] = slab;
    if (!provablyZero(s, box))
      return std::nullopt;
    proofs.push_back(zeroRegion(s, box, "added points of d" +
                                            std::to_string(L + i)));
  }
  auto out = clone(s);
  out->sums[i] = nr;
  std::string detail = "d" + std::to_string(L + i) + ": [" +
                       std::to_string(old.lo) + "," + std::to_string(old.hi) +
                       ") -> [" + std::to_string(nr.lo) + "," +
                       std::to_string(nr.hi) + ")";
  return RuleResult{out, {"boundary-relaxing", detail, std::move(proofs)}};
}

std::optional<RuleResult> splitSum(const Scope &s, unsigned i, int64_t k) {
  unsigned L = s.numLoops(), D = s.numDims();
  if (i >= s.sums.size() || k <= 1)
    return std::nullopt;
  Range r = s.sums[i];
  if (r.lo != 0 || r.size() % k || r.size() == k)
    return std::nullopt;
  auto out = clone(s);
  out->sums[i] = {0, r.size() / k};
  out->sums.insert(out->sums.begin() + i + 1, Range{0, k});
  unsigned d = L + i;
  SmallVector<AffineExpr> repl;
  for (unsigned x = 0; x < D; ++x)
    repl.push_back(x < d    ? s.dim(x)
                   : x == d ? s.dim(d) * k + s.dim(d + 1)
                            : s.dim(x + 1));
  remapDims(out->body, repl, D + 1);
  Obligation o = covers("split iterator covers the original range",
                         out->ranges(), {s.dim(d) * k + s.dim(d + 1)}, {r});
  std::string detail = "d" + std::to_string(d) + " -> " + std::to_string(k) +
                       "*d" + std::to_string(d) + " + d" +
                       std::to_string(d + 1);
  return RuleResult{out, {"variable-split", detail, {o}}};
}

std::optional<RuleResult> dilationToBatch(const Scope &s, unsigned a,
                                          int64_t D) {
  unsigned L = s.numLoops(), ND = s.numDims();
  if (a >= L || D <= 1 || s.loops[a].lo != 0 || s.loops[a].size() % D ||
      !allZeroPadded(s))
    return std::nullopt;
  MLIRContext *ctx = s.ctx;
  AffineExpr zero = getAffineConstantExpr(0, ctx);
  // New dims: a -> a1 (same position), a2 at a+1, later dims shift by one.
  auto nd = [&](unsigned k) { return getAffineDimExpr(k <= a ? k : k + 1, ctx); };
  SmallVector<AffineExpr> renum;
  for (unsigned k = 0; k < ND; ++k)
    renum.push_back(nd(k));
  auto m = clone(s);
  m->loops[a] = {0, s.loops[a].size() / D};
  m->loops.insert(m->loops.begin() + a + 1, Range{0, D});
  m->padLo.assign(L + 1, 0);
  m->padHi.assign(L + 1, 0);
  auto newRanges = m->ranges();
  AffineExpr a1 = getAffineDimExpr(a, ctx), a2 = getAffineDimExpr(a + 1, ctx);
  std::vector<Obligation> proofs;
  bool ok = true, used = false;
  std::vector<Source> extra;
  forEachAccessMut(m->body, [&](Node &n) {
    int k = -1;
    for (auto [pos, e] : llvm::enumerate(n.idx))
      if (usesDim(e, a)) {
        if (k >= 0)
          ok = false;
        k = pos;
      }
    if (k < 0) {
      for (AffineExpr &e : n.idx)
        e = simplifyAffineExpr(e.replaceDimsAndSymbols(renum, {}), ND + 1, 0);
      return;
    }
    AffineExpr e = n.idx[k];
    auto ca = coeffOf(e, a);
    if (!ca || *ca != 1) {
      ok = false;
      return;
    }
    // e = a + D * q(others) + c.
    SmallVector<AffineExpr> zeros(ND, zero);
    auto cst = dyn_cast<AffineConstantExpr>(
        simplifyAffineExpr(e.replaceDimsAndSymbols(zeros, {}), ND, 0));
    if (!cst) {
      ok = false;
      return;
    }
    int64_t c = cst.getValue();
    int64_t cq = c >= 0 ? c / D : -((-c + D - 1) / D), cr = c - D * cq;
    AffineExpr q = getAffineConstantExpr(cq, ctx);
    for (unsigned o = 0; o < ND; ++o) {
      if (o == a)
        continue;
      auto co = coeffOf(e, o);
      if (!co || *co % D) {
        ok = false;
        return;
      }
      if (*co)
        q = q + nd(o) * (*co / D);
    }
    AffineExpr j = simplifyAffineExpr(a1 + q, ND + 1, 0);
    auto [jlo, jhi] = boundsOf(j, newRanges);
    // The layout stage X'[.., p, j, ..] = X[.., D*j + p + cr, ..].
    const Source &src = s.srcs[n.src];
    auto lay = std::make_shared<Scope>();
    lay->ctx = ctx;
    SmallVector<AffineExpr> rd;
    unsigned R = src.shape.size();
    for (unsigned t = 0; t < R; ++t) {
      if ((int)t == k) {
        lay->loops.push_back({0, D});
        lay->loops.push_back({jlo, jhi + 1});
        AffineExpr p = getAffineDimExpr(lay->loops.size() - 2, ctx);
        AffineExpr jj = getAffineDimExpr(lay->loops.size() - 1, ctx);
        rd.push_back(jj * D + p + cr);
      } else {
        lay->loops.push_back({0, src.shape[t]});
        rd.push_back(getAffineDimExpr(lay->loops.size() - 1, ctx));
      }
    }
    lay->layout = true;
    lay->padLo.assign(R + 1, 0);
    lay->padHi.assign(R + 1, 0);
    lay->srcs.push_back(src);
    lay->body = Node::access(0, rd);
    SmallVector<AffineExpr> idx;
    for (unsigned t = 0; t < R; ++t) {
      if ((int)t == k) {
        idx.push_back(a2);
        idx.push_back(simplifyAffineExpr(j - jlo, ND + 1, 0));
      } else {
        idx.push_back(simplifyAffineExpr(
            n.idx[t].replaceDimsAndSymbols(renum, {}), ND + 1, 0));
      }
    }
    proofs.push_back(covers("layout index stays inside the layout stage",
                            newRanges, {j}, {Range{jlo, jhi + 1}}));
    n.src = s.srcs.size() + extra.size();
    n.idx.assign(idx.begin(), idx.end());
    extra.push_back(sourceOf(lay));
    used = true;
  });
  if (!ok || !used)
    return std::nullopt;
  for (Source &x : extra)
    m->srcs.push_back(std::move(x));
  ScopePtr mp = prune(m);
  // Outer: O[.., a, ..] = M[.., a floordiv D, a mod D, ..].
  SmallVector<AffineExpr> idx;
  for (unsigned k = 0; k < L; ++k) {
    if (k == a) {
      idx.push_back(s.dim(a).floorDiv(D));
      idx.push_back(s.dim(a) % D);
    } else {
      idx.push_back(simplifyAffineExpr(s.dim(k) - s.loops[k].lo, L, 0));
    }
  }
  auto r = reindexStage(s, mp, idx);
  proofs.push_back(covers(
      "a = D*a1 + a2 covers the iterator",
      {Range{0, s.loops[a].size() / D}, Range{0, D}},
      {getAffineDimExpr(0, ctx) * D + getAffineDimExpr(1, ctx)}, {s.loops[a]}));
  std::string detail = "d" + std::to_string(a) + " -> " + std::to_string(D) +
                       "*d" + std::to_string(a) + " + d" +
                       std::to_string(a + 1) + ", inputs re-laid out";
  return RuleResult{r, {"dilation-to-batch", detail, std::move(proofs)}};
}

} // namespace tessera::derive
