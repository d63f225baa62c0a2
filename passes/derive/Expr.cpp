//===- Expr.cpp - expression model, printing, fingerprints, interpreter ---===//
#include "passes/derive/Expr.h"

#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

using namespace mlir;

namespace tessera::derive {

Node Node::access(unsigned src, ArrayRef<AffineExpr> idx, double oob) {
  Node n;
  n.kind = NodeKind::Access;
  n.src = src;
  n.idx.assign(idx.begin(), idx.end());
  n.value = oob;
  return n;
}
Node Node::constant(double v) {
  Node n;
  n.kind = NodeKind::Const;
  n.value = v;
  return n;
}
Node Node::binary(NodeKind k, Node a, Node b) {
  Node n;
  n.kind = k;
  n.ops.push_back(std::move(a));
  n.ops.push_back(std::move(b));
  return n;
}
Node Node::unary(std::string fn, Node a) {
  Node n;
  n.kind = NodeKind::Fn;
  n.fn = std::move(fn);
  n.ops.push_back(std::move(a));
  return n;
}

llvm::SmallVector<int64_t, 6> Scope::shape() const {
  llvm::SmallVector<int64_t, 6> r;
  for (unsigned i = 0; i < loops.size(); ++i)
    r.push_back(padLo[i] + loops[i].size() + padHi[i]);
  return r;
}
AffineExpr Scope::dim(unsigned i) const { return getAffineDimExpr(i, ctx); }
llvm::SmallVector<Range, 12> Scope::ranges() const {
  llvm::SmallVector<Range, 12> r(loops.begin(), loops.end());
  r.append(sums.begin(), sums.end());
  return r;
}
static bool isProductNode(const Node &n) {
  if (n.kind == NodeKind::Access || n.kind == NodeKind::Const)
    return true;
  if (n.kind != NodeKind::Mul)
    return false;
  return llvm::all_of(n.ops, isProductNode);
}
bool Scope::isProduct() const { return isProductNode(body); }
double Scope::points() const {
  double p = 1;
  for (const Range &r : loops)
    p *= r.size();
  for (const Range &r : sums)
    p *= r.size();
  return p;
}

void forEachAccess(const Node &n, const std::function<void(const Node &)> &f) {
  if (n.kind == NodeKind::Access)
    f(n);
  for (const Node &o : n.ops)
    forEachAccess(o, f);
}
void forEachAccessMut(Node &n, const std::function<void(Node &)> &f) {
  if (n.kind == NodeKind::Access)
    f(n);
  for (Node &o : n.ops)
    forEachAccessMut(o, f);
}
void remapDims(Node &n, ArrayRef<AffineExpr> repl, unsigned newNumDims) {
  forEachAccessMut(n, [&](Node &a) {
    for (AffineExpr &e : a.idx)
      e = simplifyAffineExpr(e.replaceDimsAndSymbols(repl, {}), newNumDims, 0);
  });
}

static int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0)))
    --q;
  return q;
}
static int64_t floorMod(int64_t a, int64_t b) { return a - floorDiv(a, b) * b; }

int64_t evalAffine(AffineExpr e, ArrayRef<int64_t> dims) {
  switch (e.getKind()) {
  case AffineExprKind::Constant:
    return cast<AffineConstantExpr>(e).getValue();
  case AffineExprKind::DimId:
    return dims[cast<AffineDimExpr>(e).getPosition()];
  case AffineExprKind::SymbolId:
    llvm_unreachable("texpr indices have no symbols");
  default:
    break;
  }
  auto bin = cast<AffineBinaryOpExpr>(e);
  int64_t l = evalAffine(bin.getLHS(), dims), r = evalAffine(bin.getRHS(), dims);
  switch (e.getKind()) {
  case AffineExprKind::Add:
    return l + r;
  case AffineExprKind::Mul:
    return l * r;
  case AffineExprKind::FloorDiv:
    return floorDiv(l, r);
  case AffineExprKind::CeilDiv:
    return -floorDiv(-l, r);
  case AffineExprKind::Mod:
    return floorMod(l, r);
  default:
    llvm_unreachable("unknown affine expr kind");
  }
}

std::pair<int64_t, int64_t> boundsOf(AffineExpr e, ArrayRef<Range> dims) {
  switch (e.getKind()) {
  case AffineExprKind::Constant: {
    int64_t v = cast<AffineConstantExpr>(e).getValue();
    return {v, v};
  }
  case AffineExprKind::DimId: {
    const Range &r = dims[cast<AffineDimExpr>(e).getPosition()];
    return {r.lo, r.hi - 1};
  }
  default:
    break;
  }
  auto bin = cast<AffineBinaryOpExpr>(e);
  auto [a0, a1] = boundsOf(bin.getLHS(), dims);
  auto [b0, b1] = boundsOf(bin.getRHS(), dims);
  switch (e.getKind()) {
  case AffineExprKind::Add:
    return {a0 + b0, a1 + b1};
  case AffineExprKind::Mul: {
    int64_t c[4] = {a0 * b0, a0 * b1, a1 * b0, a1 * b1};
    return {*std::min_element(c, c + 4), *std::max_element(c, c + 4)};
  }
  case AffineExprKind::FloorDiv:
    // Divisors are positive constants in well-formed affine exprs.
    return {floorDiv(a0, b1), floorDiv(a1, b0)};
  case AffineExprKind::CeilDiv:
    return {-floorDiv(-a0, b0), -floorDiv(-a1, b1)};
  case AffineExprKind::Mod:
    if (a1 - a0 + 1 < b0 && floorMod(a0, b0) <= floorMod(a1, b0))
      return {floorMod(a0, b0), floorMod(a1, b0)};
    return {0, b1 - 1};
  default:
    llvm_unreachable("unknown affine expr kind");
  }
}

bool usesDim(AffineExpr e, unsigned d) { return e.isFunctionOfDim(d); }

std::optional<int64_t> coeffOf(AffineExpr e, unsigned d) {
  switch (e.getKind()) {
  case AffineExprKind::Constant:
    return 0;
  case AffineExprKind::DimId:
    return cast<AffineDimExpr>(e).getPosition() == d ? 1 : 0;
  case AffineExprKind::Add: {
    auto bin = cast<AffineBinaryOpExpr>(e);
    auto l = coeffOf(bin.getLHS(), d), r = coeffOf(bin.getRHS(), d);
    if (!l || !r)
      return std::nullopt;
    return *l + *r;
  }
  case AffineExprKind::Mul: {
    auto bin = cast<AffineBinaryOpExpr>(e);
    auto c = dyn_cast<AffineConstantExpr>(bin.getRHS());
    if (!c)
      return std::nullopt;
    auto l = coeffOf(bin.getLHS(), d);
    if (!l)
      return std::nullopt;
    return *l * c.getValue();
  }
  default:
    if (!e.isFunctionOfDim(d))
      return 0;
    return std::nullopt;
  }
}

bool readsThroughGather(const Scope &s, const Node &a) {
  auto ranges = s.ranges();
  const Source &src = s.srcs[a.src];
  for (auto [k, e] : llvm::enumerate(a.idx)) {
    bool divmod = false;
    e.walk([&](AffineExpr x) {
      divmod |= x.getKind() == AffineExprKind::FloorDiv ||
                x.getKind() == AffineExprKind::CeilDiv ||
                x.getKind() == AffineExprKind::Mod;
    });
    if (divmod)
      return true;
    auto [lo, hi] = boundsOf(e, ranges);
    if (lo < 0 || hi >= src.shape[k])
      return true;
    if (auto d = dyn_cast<AffineDimExpr>(e);
        d && ranges[d.getPosition()].lo == 0 &&
        src.shape[k] != ranges[d.getPosition()].size())
      return true;
  }
  return false;
}

bool needsGather(const Scope &s) {
  bool gather = false;
  forEachAccess(s.body, [&](const Node &a) { gather |= readsThroughGather(s, a); });
  return gather;
}

//===----------------------------------------------------------------------===//
// Printing
//===----------------------------------------------------------------------===//

static void printNode(llvm::raw_ostream &os, const Scope &s, const Node &n);

static void printScope(llvm::raw_ostream &os, const Scope &s) {
  os << (s.layout ? "Layout<" : "L<");
  for (unsigned i = 0; i < s.loops.size(); ++i) {
    os << (i ? "," : "") << "d" << i << ":" << s.loops[i].lo << ":"
       << s.loops[i].hi;
    if (s.padLo[i] || s.padHi[i])
      os << "|pad" << s.padLo[i] << "," << s.padHi[i];
  }
  os << ">";
  if (!s.sums.empty()) {
    os << (s.maxCombiner ? "Max<" : "Sum<");
    for (unsigned i = 0; i < s.sums.size(); ++i)
      os << (i ? "," : "") << "d" << s.loops.size() + i << ":" << s.sums[i].lo
         << ":" << s.sums[i].hi;
    os << ">";
  }
  os << "{ ";
  printNode(os, s, s.body);
  os << " }";
}

static void printNode(llvm::raw_ostream &os, const Scope &s, const Node &n) {
  switch (n.kind) {
  case NodeKind::Access: {
    const Source &src = s.srcs[n.src];
    if (src.scope) {
      os << "{";
      printScope(os, *src.scope);
      os << "}";
    } else {
      os << "%" << src.input;
    }
    os << "[";
    llvm::interleaveComma(n.idx, os, [&](AffineExpr e) { e.print(os); });
    os << "]";
    return;
  }
  case NodeKind::Const:
    os << n.value;
    return;
  case NodeKind::Fn:
    os << n.fn << "(";
    printNode(os, s, n.ops[0]);
    os << ")";
    return;
  default:
    break;
  }
  const char *op = n.kind == NodeKind::Add   ? " + "
                   : n.kind == NodeKind::Sub ? " - "
                   : n.kind == NodeKind::Mul ? " * "
                   : n.kind == NodeKind::Div ? " / "
                                             : " max ";
  os << "(";
  printNode(os, s, n.ops[0]);
  os << op;
  printNode(os, s, n.ops[1]);
  os << ")";
}

std::string toString(const Scope &s) {
  std::string str;
  llvm::raw_string_ostream os(str);
  printScope(os, s);
  return str;
}

//===----------------------------------------------------------------------===//
// Fingerprints
//===----------------------------------------------------------------------===//

namespace {
uint64_t dbits(double d) {
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}
/// Hashes affine exprs with dims renamed through `dimKey`.
struct Hasher {
  const Scope &s;
  llvm::SmallVector<int64_t, 12> dimKey; ///< dim -> canonical key

  uint64_t expr(AffineExpr e) const {
    switch (e.getKind()) {
    case AffineExprKind::Constant:
      return llvm::hash_combine(1, cast<AffineConstantExpr>(e).getValue());
    case AffineExprKind::DimId:
      return llvm::hash_combine(2, dimKey[cast<AffineDimExpr>(e).getPosition()]);
    default: {
      auto bin = cast<AffineBinaryOpExpr>(e);
      uint64_t a = expr(bin.getLHS()), b = expr(bin.getRHS());
      if (e.getKind() == AffineExprKind::Add ||
          e.getKind() == AffineExprKind::Mul)
        if (a > b)
          std::swap(a, b);
      return llvm::hash_combine(3, (int)e.getKind(), a, b);
    }
    }
  }
  uint64_t node(const Node &n) const {
    switch (n.kind) {
    case NodeKind::Access: {
      const Source &src = s.srcs[n.src];
      uint64_t h = src.scope ? fingerprint(*src.scope)
                             : (uint64_t)llvm::hash_combine(7, src.input);
      for (int64_t d : src.shape)
        h = llvm::hash_combine(h, d);
      for (AffineExpr e : n.idx)
        h = llvm::hash_combine(h, expr(e));
      return llvm::hash_combine(h, dbits(n.value));
    }
    case NodeKind::Const:
      return llvm::hash_combine(4, dbits(n.value));
    default: {
      llvm::SmallVector<uint64_t, 2> hs;
      for (const Node &o : n.ops)
        hs.push_back(node(o));
      if (n.kind == NodeKind::Add || n.kind == NodeKind::Mul ||
          n.kind == NodeKind::Max)
        llvm::sort(hs);
      uint64_t h = llvm::hash_combine(5, (int)n.kind, n.fn);
      for (uint64_t x : hs)
        h = llvm::hash_combine(h, x);
      return h;
    }
    }
  }
};
} // namespace

uint64_t fingerprint(const Scope &s) {
  unsigned L = s.loops.size(), D = s.numDims();
  // Pass 1: summation dims all hash alike (by range), giving an order of
  // first use that does not depend on their numbering.
  Hasher h1{s, {}};
  for (unsigned i = 0; i < D; ++i)
    h1.dimKey.push_back(i < L ? (int64_t)i
                              : (int64_t)llvm::hash_combine(
                                    99, s.sums[i - L].lo, s.sums[i - L].hi));
  // Order summation dims by (range key, hash of the first access using them).
  llvm::SmallVector<std::pair<uint64_t, unsigned>, 6> order;
  for (unsigned i = L; i < D; ++i) {
    uint64_t first = 0;
    bool found = false;
    llvm::SmallVector<uint64_t, 8> uses;
    forEachAccess(s.body, [&](const Node &a) {
      for (auto [k, e] : llvm::enumerate(a.idx))
        if (usesDim(e, i)) {
          uses.push_back(llvm::hash_combine(h1.node(a), k, h1.expr(e)));
          found = true;
        }
    });
    llvm::sort(uses);
    for (uint64_t u : uses)
      first = llvm::hash_combine(first, u);
    (void)found;
    order.push_back({llvm::hash_combine(h1.dimKey[i], first), i});
  }
  llvm::sort(order);
  Hasher h2{s, h1.dimKey};
  for (auto [pos, p] : llvm::enumerate(order))
    h2.dimKey[p.second] = 1000 + pos;
  uint64_t h = llvm::hash_combine(11, s.maxCombiner, s.layout);
  for (unsigned i = 0; i < L; ++i)
    h = llvm::hash_combine(h, s.loops[i].lo, s.loops[i].hi, s.padLo[i],
                           s.padHi[i]);
  for (auto &p : order)
    h = llvm::hash_combine(h, s.sums[p.second - L].lo,
                           s.sums[p.second - L].hi);
  return llvm::hash_combine(h, h2.node(s.body));
}

ScopePtr replaceAt(const ScopePtr &root, ArrayRef<unsigned> path,
                   ScopePtr repl) {
  if (path.empty())
    return repl;
  auto copy = std::make_shared<Scope>(*root);
  Source &src = copy->srcs[path.front()];
  src.scope = replaceAt(src.scope, path.drop_front(), std::move(repl));
  return copy;
}

ScopePtr prune(const ScopePtr &s) {
  auto c = std::make_shared<Scope>(*s);
  std::vector<int> newIdx(c->srcs.size(), -1);
  std::vector<Source> srcs;
  forEachAccess(c->body, [&](const Node &a) {
    if (newIdx[a.src] < 0) {
      newIdx[a.src] = srcs.size();
      srcs.push_back(c->srcs[a.src]);
    }
  });
  forEachAccessMut(c->body, [&](Node &a) { a.src = newIdx[a.src]; });
  for (Source &x : srcs)
    if (x.scope)
      x.scope = prune(x.scope);
  c->srcs = std::move(srcs);
  return c;
}

ScopePtr scopeAt(ScopePtr root, ArrayRef<unsigned> path) {
  for (unsigned i : path)
    root = root->srcs[i].scope;
  return root;
}

std::vector<std::pair<ScopePtr, llvm::SmallVector<unsigned, 4>>>
allScopes(const ScopePtr &root) {
  std::vector<std::pair<ScopePtr, llvm::SmallVector<unsigned, 4>>> all;
  forEachScope(root, [&](const ScopePtr &s, ArrayRef<unsigned> path) {
    all.push_back({s, llvm::SmallVector<unsigned, 4>(path)});
  });
  return all;
}

static void forEachScopeImpl(
    const ScopePtr &s, llvm::SmallVectorImpl<unsigned> &path,
    const std::function<void(const ScopePtr &, ArrayRef<unsigned>)> &f) {
  f(s, path);
  for (auto [i, src] : llvm::enumerate(s->srcs))
    if (src.scope) {
      path.push_back(i);
      forEachScopeImpl(src.scope, path, f);
      path.pop_back();
    }
}
void forEachScope(
    const ScopePtr &root,
    const std::function<void(const ScopePtr &, ArrayRef<unsigned>)> &f) {
  llvm::SmallVector<unsigned, 4> path;
  forEachScopeImpl(root, path, f);
}

//===----------------------------------------------------------------------===//
// Interpreter
//===----------------------------------------------------------------------===//

double HostTensor::at(int64_t linear) const {
  if (!data.empty())
    return data[linear];
  // splitmix64 of (seed, index): uniform in [-1, 1).
  uint64_t z = seed * 0x9e3779b97f4a7c15ull + uint64_t(linear) + 1;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return double(z >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

double Evaluator::eval(const Scope &s, const Node &n, ArrayRef<int64_t> dims) {
  switch (n.kind) {
  case NodeKind::Access: {
    const Source &src = s.srcs[n.src];
    llvm::SmallVector<int64_t, 6> idx;
    for (auto [k, e] : llvm::enumerate(n.idx)) {
      int64_t v = evalAffine(e, dims);
      if (v < 0 || v >= src.shape[k])
        return n.value;
      idx.push_back(v);
    }
    if (src.scope)
      return at(*src.scope, idx);
    const HostTensor &t = inputs[src.input];
    int64_t lin = 0;
    for (auto [k, v] : llvm::enumerate(idx))
      lin = lin * t.shape[k] + v;
    return t.at(lin);
  }
  case NodeKind::Const:
    return n.value;
  case NodeKind::Fn: {
    double x = eval(s, n.ops[0], dims);
    if (n.fn == "relu")
      return x > 0 ? x : 0;
    if (n.fn == "tanh")
      return std::tanh(x);
    if (n.fn == "sigmoid")
      return 1 / (1 + std::exp(-x));
    if (n.fn == "exp")
      return std::exp(x);
    return -x; // neg
  }
  default:
    break;
  }
  double a = eval(s, n.ops[0], dims), b = eval(s, n.ops[1], dims);
  switch (n.kind) {
  case NodeKind::Add:
    return a + b;
  case NodeKind::Sub:
    return a - b;
  case NodeKind::Mul:
    return a * b;
  case NodeKind::Div:
    return a / b;
  default:
    return std::max(a, b);
  }
}

double Evaluator::at(const Scope &s, ArrayRef<int64_t> outIdx) {
  auto shape = s.shape();
  int64_t lin = 0;
  for (auto [k, v] : llvm::enumerate(outIdx))
    lin = lin * shape[k] + v;
  auto &m = memo[&s];
  if (auto it = m.find(lin); it != m.end())
    return it->second;
  llvm::SmallVector<int64_t, 12> dims;
  bool inside = true;
  for (unsigned i = 0; i < s.loops.size(); ++i) {
    int64_t x = outIdx[i] - s.padLo[i] + s.loops[i].lo;
    if (x < s.loops[i].lo || x >= s.loops[i].hi)
      inside = false;
    dims.push_back(x);
  }
  double acc = 0;
  if (inside) {
    unsigned L = s.loops.size();
    for (const Range &r : s.sums)
      dims.push_back(r.lo);
    acc = s.maxCombiner ? -std::numeric_limits<double>::infinity() : 0.0;
    while (true) {
      double v = eval(s, s.body, dims);
      acc = s.maxCombiner ? std::max(acc, v) : acc + v;
      unsigned k = s.sums.size();
      while (k > 0) {
        --k;
        if (++dims[L + k] < s.sums[k].hi)
          break;
        dims[L + k] = s.sums[k].lo;
        if (k == 0) {
          k = ~0u;
          break;
        }
      }
      if (s.sums.empty() || k == ~0u)
        break;
    }
  }
  m[lin] = acc;
  return acc;
}

} // namespace tessera::derive
