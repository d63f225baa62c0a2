//===- Match.cpp - guided matching of scopes to library operators ---------===//
//
// Rule8 of OLLIE: an iterator table (which accesses each iterator appears in,
// with what offset) is compared with library patterns. Matmul is matched in
// general form (any number of batch, M, N and K iterators, each read with
// stride 1 and a constant offset; windows outside a tensor are zero-padded,
// windows inside are sliced); conv, g2bmm and gbmm in their canonical forms.
//
//===----------------------------------------------------------------------===//
#include "passes/derive/Derive.h"
#include "dialects/Graph/TesseraDialect.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace tessera::derive {

const char *libName(LibKind k) {
  switch (k) {
  case LibKind::Matmul:
    return "matmul";
  case LibKind::Conv:
    return "conv";
  case LibKind::G2bmm:
    return "g2bmm";
  case LibKind::Gbmm:
    return "gbmm";
  default:
    return "eop";
  }
}

namespace {
/// An index `d_j + offset` (j = -1: a constant).
struct Simple {
  int dim = -1;
  int64_t offset = 0;
};
std::optional<Simple> simpleIndex(AffineExpr e, unsigned D) {
  Simple s;
  for (unsigned k = 0; k < D; ++k) {
    auto c = coeffOf(e, k);
    if (!c)
      return std::nullopt;
    if (*c == 0)
      continue;
    if (*c != 1 || s.dim >= 0)
      return std::nullopt;
    s.dim = k;
  }
  AffineExpr rest = e;
  if (s.dim >= 0) {
    SmallVector<AffineExpr> repl;
    for (unsigned k = 0; k < D; ++k)
      repl.push_back(getAffineDimExpr(k, e.getContext()));
    repl[s.dim] = getAffineConstantExpr(0, e.getContext());
    rest = simplifyAffineExpr(e.replaceDimsAndSymbols(repl, {}), D, 0);
  }
  auto c = dyn_cast<AffineConstantExpr>(rest);
  if (!c)
    return std::nullopt;
  s.offset = c.getValue();
  return s;
}

/// The position of a plain dim index, or -1.
int pureDim(AffineExpr e) {
  auto d = dyn_cast<AffineDimExpr>(e);
  return d ? (int)d.getPosition() : -1;
}

struct TwoAccesses {
  const Node *a = nullptr, *b = nullptr;
};
std::optional<TwoAccesses> productOfTwo(const Scope &s) {
  if (s.maxCombiner || s.body.kind != NodeKind::Mul)
    return std::nullopt;
  const Node &x = s.body.ops[0], &y = s.body.ops[1];
  if (x.kind != NodeKind::Access || y.kind != NodeKind::Access ||
      x.value != 0 || y.value != 0)
    return std::nullopt;
  return TwoAccesses{&x, &y};
}

struct MatmulPlan {
  const Node *a, *b;
  SmallVector<unsigned> batch, m, n, k; ///< dims
  SmallVector<Simple> ia, ib;
};

std::optional<MatmulPlan> planMatmul(const Scope &s) {
  auto two = productOfTwo(s);
  if (!two || s.sums.empty())
    return std::nullopt;
  unsigned L = s.numLoops(), D = s.numDims();
  MatmulPlan p{two->a, two->b, {}, {}, {}, {}, {}, {}};
  SmallVector<int> inA(D, 0), inB(D, 0);
  for (auto [node, idx, in] :
       {std::tuple{p.a, &p.ia, &inA}, std::tuple{p.b, &p.ib, &inB}}) {
    for (AffineExpr e : node->idx) {
      auto si = simpleIndex(e, D);
      if (!si || si->dim < 0 || (*in)[si->dim])
        return std::nullopt;
      (*in)[si->dim] = 1;
      idx->push_back(*si);
    }
  }
  for (unsigned d = 0; d < D; ++d) {
    bool a = inA[d], b = inB[d];
    if (d >= L) {
      if (!(a && b))
        return std::nullopt;
      p.k.push_back(d);
    } else if (a && b) {
      p.batch.push_back(d);
    } else if (a) {
      p.m.push_back(d);
    } else if (b) {
      p.n.push_back(d);
    } else {
      return std::nullopt;
    }
  }
  return p;
}

double numel(ArrayRef<int64_t> s) {
  double n = 1;
  for (int64_t x : s)
    n *= x;
  return n;
}

/// Conv with any number of batch iterators:
///   X[batch..., c, st0*o0 + dl0*r - p0, st1*o1 + dl1*s - p1] (dims in any order)
///   * K[f, c, r, s]
/// with loops batch..., f, o0, o1 (any order) and sums c, r, s, all from 0.
struct ConvPlan {
  const Node *x = nullptr, *k = nullptr;
  SmallVector<unsigned> batch;  ///< loop dims, in X's dim order
  SmallVector<unsigned> xPerm;  ///< X dims ordered batch..., c, sp0, sp1
  unsigned f = 0, o[2] = {0, 0};
  int64_t st[2], dl[2], pad[2], after[2];
};
std::optional<ConvPlan> planConv(const Scope &s) {
  auto two = productOfTwo(s);
  if (!two || s.sums.size() != 3)
    return std::nullopt;
  for (const Range &r : s.ranges())
    if (r.lo != 0)
      return std::nullopt;
  unsigned L = s.numLoops(), D = s.numDims();
  for (bool swapped : {false, true}) {
    const Node *x = swapped ? two->b : two->a, *k = swapped ? two->a : two->b;
    if (k->idx.size() != 4)
      continue;
    int f = pureDim(k->idx[0]), c = pureDim(k->idx[1]), r = pureDim(k->idx[2]),
        sd = pureDim(k->idx[3]);
    if (f < 0 || (unsigned)f >= L || c < (int)L || r < (int)L || sd < (int)L ||
        c == r || c == sd || r == sd)
      continue;
    const auto &ks = s.srcs[k->src].shape;
    if (ks[0] != s.ranges()[f].size() || ks[1] != s.ranges()[c].size() ||
        ks[2] != s.ranges()[r].size() || ks[3] != s.ranges()[sd].size())
      continue;
    ConvPlan p;
    p.x = x;
    p.k = k;
    p.f = f;
    int xc = -1, xsp[2] = {-1, -1};
    SmallVector<int> used(D, 0);
    bool ok = true;
    const auto &xs = s.srcs[x->src].shape;
    for (auto [pos, e] : llvm::enumerate(x->idx)) {
      int d = pureDim(e);
      if (d == c) {
        xc = pos;
        used[c]++;
        if (xs[pos] != s.ranges()[c].size())
          ok = false;
        continue;
      }
      if (d >= 0 && d < (int)L && d != f) {
        p.batch.push_back(d);
        used[d]++;
        if (xs[pos] != s.ranges()[d].size())
          ok = false;
        continue;
      }
      // Spatial: st*o + dl*w - pad with w the kernel's r or s.
      int which = usesDim(e, r) ? 0 : usesDim(e, sd) ? 1 : -1;
      if (which < 0 || xsp[which] >= 0) {
        ok = false;
        break;
      }
      unsigned w = which ? sd : r;
      int o = -1;
      for (unsigned q = 0; q < L; ++q)
        if (usesDim(e, q)) {
          if (o >= 0 || (int)q == f)
            ok = false;
          o = q;
        }
      if (!ok || o < 0)
        break;
      auto st = coeffOf(e, o), dl = coeffOf(e, w);
      if (!st || !dl || *st <= 0 || *dl <= 0) {
        ok = false;
        break;
      }
      AffineExpr rest = simplifyAffineExpr(
          e - getAffineDimExpr(o, e.getContext()) * *st -
              getAffineDimExpr(w, e.getContext()) * *dl,
          D, 0);
      auto cst = dyn_cast<AffineConstantExpr>(rest);
      if (!cst || cst.getValue() > 0) {
        ok = false;
        break;
      }
      xsp[which] = pos;
      used[o]++;
      p.o[which] = o;
      p.st[which] = *st;
      p.dl[which] = *dl;
      p.pad[which] = -cst.getValue();
      int64_t in = xs[pos], out = s.ranges()[o].size(), kk = ks[2 + which];
      p.after[which] = std::max<int64_t>(
          0, (out - 1) * *st + *dl * (kk - 1) + 1 - in - p.pad[which]);
      if ((in + p.pad[which] + p.after[which] - *dl * (kk - 1) - 1) / *st + 1 !=
          out)
        ok = false;
    }
    if (!ok || xc < 0 || xsp[0] < 0 || xsp[1] < 0)
      continue;
    // Every loop is a batch loop, f, o0 or o1 -- once.
    unsigned counted = p.batch.size() + 3;
    if (counted != L || p.o[0] == p.o[1] ||
        llvm::any_of(used, [](int u) { return u > 1; }))
      continue;
    for (auto [pos, e] : llvm::enumerate(x->idx))
      if (pureDim(e) >= 0 && pureDim(e) < (int)L)
        p.xPerm.push_back(pos);
    p.xPerm.append({(unsigned)xc, (unsigned)xsp[0], (unsigned)xsp[1]});
    return p;
  }
  return std::nullopt;
}

/// g2bmm / gbmm with any number of batch iterators:
///   g2bmm: A[batch..., m, k] * B[batch..., m + D*x - D*W, k]  (loops batch, m, x; sum k)
///   gbmm:  A[batch..., m, x] * B[batch..., m + D*x - D*W, n]  (loops batch, m, n; sum x)
struct BandPlan {
  bool general = false;
  int64_t width = 0, dilation = 1;
  const Node *a = nullptr, *b = nullptr;
  SmallVector<unsigned> batch;
  unsigned m = 0, third = 0; ///< g2bmm: band loop x; gbmm: loop n
  int64_t shift = 0;         ///< B is read at row + shift
};
std::optional<BandPlan> planBand(const Scope &s) {
  auto two = productOfTwo(s);
  if (!two || s.sums.size() != 1)
    return std::nullopt;
  for (const Range &r : s.ranges())
    if (r.lo != 0)
      return std::nullopt;
  unsigned L = s.numLoops(), D = s.numDims(), sum = L;
  for (bool swapped : {false, true}) {
    const Node *a = swapped ? two->b : two->a, *b = swapped ? two->a : two->b;
    unsigned R = a->idx.size();
    if (R < 3 || b->idx.size() != R)
      continue;
    BandPlan p;
    p.a = a;
    p.b = b;
    bool ok = true;
    llvm::SmallSet<unsigned, 8> seen;
    for (unsigned i = 0; i + 2 < R; ++i) {
      int d = pureDim(a->idx[i]);
      if (d < 0 || d >= (int)L || a->idx[i] != b->idx[i] || !seen.insert(d).second ||
          s.srcs[a->src].shape[i] != s.ranges()[d].size() ||
          s.srcs[b->src].shape[i] != s.ranges()[d].size()) {
        ok = false;
        break;
      }
      p.batch.push_back(d);
    }
    int m = pureDim(a->idx[R - 2]), t = pureDim(a->idx[R - 1]);
    int last = pureDim(b->idx[R - 1]);
    if (!ok || m < 0 || m >= (int)L || t < 0 || last < 0 || !seen.insert(m).second ||
        s.srcs[a->src].shape[R - 2] != s.ranges()[m].size())
      continue;
    p.m = m;
    unsigned x; // band iterator
    if (t == (int)sum && last == (int)sum) {
      p.general = false;
      // band loop: the remaining loop
      int rem = -1; // the one loop left (-2: more than one)
      for (unsigned q = 0; q < L; ++q)
        if (!seen.count(q))
          rem = rem == -1 ? (int)q : -2;
      if (rem < 0)
        continue;
      x = rem;
      p.third = x;
    } else if (t == (int)sum && last < (int)L && !seen.count(last)) {
      p.general = true;
      x = sum;
      p.third = last;
      seen.insert(last);
      if (seen.size() != L)
        continue;
    } else {
      continue;
    }
    int64_t W2 = s.ranges()[x].size();
    if (W2 % 2 == 0)
      continue;
    p.width = W2 / 2;
    AffineExpr e = b->idx[R - 2];
    auto cm = coeffOf(e, m), cw = coeffOf(e, x);
    if (!cm || !cw || *cm != 1 || *cw <= 0)
      continue;
    bool others = false;
    for (unsigned q = 0; q < D; ++q)
      if (q != (unsigned)m && q != x && usesDim(e, q))
        others = true;
    if (others)
      continue;
    AffineExpr rest = simplifyAffineExpr(
        e - getAffineDimExpr(m, e.getContext()) -
            getAffineDimExpr(x, e.getContext()) * *cw,
        D, 0);
    auto c = dyn_cast<AffineConstantExpr>(rest);
    if (!c)
      continue;
    // B rows are read shifted by `shift` from the library's m + D*(x - W);
    // a shift past B's last row would read only zeros (no library form).
    p.shift = c.getValue() + *cw * p.width;
    if (p.shift >= s.srcs[b->src].shape[R - 2])
      continue;
    if (p.general && s.srcs[a->src].shape[R - 1] != W2)
      continue;
    if (!p.general && (s.srcs[a->src].shape[R - 1] != s.ranges()[sum].size() ||
                       s.srcs[b->src].shape[R - 1] != s.ranges()[sum].size()))
      continue;
    if (p.general &&
        s.srcs[b->src].shape[R - 1] != s.ranges()[p.third].size())
      continue;
    p.dilation = *cw;
    return p;
  }
  return std::nullopt;
}

Value reshape(OpBuilder &b, Location l, Value v, ArrayRef<int64_t> shape) {
  auto ty = cast<RankedTensorType>(v.getType());
  if (ty.getShape() == shape)
    return v;
  return ReshapeOp::create(b, l, RankedTensorType::get(shape, ty.getElementType()), v);
}
Value transpose(OpBuilder &b, Location l, Value v, ArrayRef<int64_t> perm) {
  bool id = true;
  for (auto [i, p] : llvm::enumerate(perm))
    id &= (int64_t)i == p;
  if (id)
    return v;
  auto ty = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(ty.getDimSize(p));
  return TransposeOp::create(b, l, RankedTensorType::get(shape, ty.getElementType()),
                             v, b.getDenseI64ArrayAttr(perm));
}
Value padTo(OpBuilder &b, Location l, Value v, ArrayRef<int64_t> lo,
            ArrayRef<int64_t> hi) {
  if (llvm::all_of(lo, [](int64_t x) { return x == 0; }) &&
      llvm::all_of(hi, [](int64_t x) { return x == 0; }))
    return v;
  auto ty = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape;
  for (unsigned i = 0; i < lo.size(); ++i)
    shape.push_back(ty.getDimSize(i) + lo[i] + hi[i]);
  return PadOp::create(b, l, RankedTensorType::get(shape, ty.getElementType()), v,
                       b.getDenseI64ArrayAttr(lo), b.getDenseI64ArrayAttr(hi),
                       b.getF64FloatAttr(0.0));
}

/// The window [lo+off, hi+off) of each dim of `v`, zero-padded where it
/// leaves the tensor.
Value window(OpBuilder &b, Location l, Value v, ArrayRef<Simple> idx,
             ArrayRef<Range> ranges) {
  auto ty = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> lo, hi, starts, sizes, steps;
  bool slice = false;
  for (auto [k, si] : llvm::enumerate(idx)) {
    int64_t n = ty.getDimSize(k);
    int64_t w0 = ranges[si.dim].lo + si.offset, w1 = ranges[si.dim].hi + si.offset;
    lo.push_back(std::max<int64_t>(0, -w0));
    hi.push_back(std::max<int64_t>(0, w1 - n));
    starts.push_back(w0 + lo.back());
    sizes.push_back(w1 - w0);
    steps.push_back(1);
    slice |= starts.back() != 0 || sizes.back() != n + lo.back() + hi.back();
  }
  v = padTo(b, l, v, lo, hi);
  if (!slice)
    return v;
  return SliceOp::create(b, l, RankedTensorType::get(sizes, ty.getElementType()), v,
                         b.getDenseI64ArrayAttr(starts),
                         b.getDenseI64ArrayAttr(steps));
}
} // namespace

LibMatch matchLibrary(const Scope &s) {
  LibMatch m;
  double out = numel(s.shape());
  auto srcBytes = [&]() {
    double b = out;
    for (const Source &x : s.srcs)
      b += numel(x.shape);
    return 4 * b;
  };
  if (auto p = planMatmul(s)) {
    m.kind = LibKind::Matmul;
    m.flops = 2 * s.points();
    m.bytes = srcBytes();
    auto prod = [&](ArrayRef<unsigned> ds) {
      int64_t n = 1;
      for (unsigned d : ds)
        n *= s.ranges()[d].size();
      return n;
    };
    m.desc = "batch " + std::to_string(prod(p->batch)) + ", M " +
             std::to_string(prod(p->m)) + ", N " + std::to_string(prod(p->n)) +
             ", K " + std::to_string(prod(p->k));
    return m;
  }
  if (planConv(s)) {
    m.kind = LibKind::Conv;
    m.flops = 2 * s.points();
    m.bytes = srcBytes();
    return m;
  }
  if (auto p = planBand(s)) {
    m.kind = p->general ? LibKind::Gbmm : LibKind::G2bmm;
    m.flops = 2 * s.points();
    m.bytes = srcBytes();
    m.desc = "width " + std::to_string(p->width) + ", dilation " +
             std::to_string(p->dilation);
    return m;
  }
  return m;
}

FailureOr<Value> emitLibrary(OpBuilder &b, Location l, const Scope &s,
                             ArrayRef<Value> operands) {
  auto ranges = s.ranges();
  Type et = cast<RankedTensorType>(operands.front().getType()).getElementType();
  SmallVector<int64_t> padLo(s.padLo), padHi(s.padHi);
  // Batch iterators are folded into one leading dim around the library op.
  auto batchSize = [&](ArrayRef<unsigned> batch) {
    int64_t n = 1;
    for (unsigned d : batch)
      n *= ranges[d].size();
    return n;
  };
  auto finish = [&](Value r, ArrayRef<unsigned> batch,
                    ArrayRef<unsigned> tail) -> Value {
    SmallVector<int64_t> full;
    SmallVector<unsigned> order;
    for (unsigned d : batch) {
      full.push_back(ranges[d].size());
      order.push_back(d);
    }
    for (unsigned d : tail) {
      full.push_back(ranges[d].size());
      order.push_back(d);
    }
    r = reshape(b, l, r, full);
    SmallVector<int64_t> perm;
    for (unsigned d = 0; d < s.numLoops(); ++d)
      perm.push_back(llvm::find(order, d) - order.begin());
    r = transpose(b, l, r, perm);
    return padTo(b, l, r, padLo, padHi);
  };
  if (auto p = planMatmul(s)) {
    auto size = batchSize; // product of iterator ranges
    auto prepare = [&](const Node *acc, ArrayRef<Simple> idx,
                       ArrayRef<unsigned> mid, ArrayRef<unsigned> last) {
      Value v = window(b, l, operands[acc->src], idx, ranges);
      SmallVector<int64_t> perm;
      for (auto group : {ArrayRef<unsigned>(p->batch), mid, last})
        for (unsigned d : group)
          for (auto [pos, si] : llvm::enumerate(idx))
            if (si.dim == (int)d)
              perm.push_back(pos);
      v = transpose(b, l, v, perm);
      return reshape(b, l, v, {size(p->batch), size(mid), size(last)});
    };
    Value a = prepare(p->a, p->ia, p->m, p->k);
    Value bb = prepare(p->b, p->ib, p->k, p->n);
    auto mmTy = RankedTensorType::get({size(p->batch), size(p->m), size(p->n)}, et);
    Value r = MatmulOp::create(b, l, mmTy, a, bb);
    SmallVector<unsigned> mn(p->m);
    mn.append(p->n.begin(), p->n.end());
    return finish(r, p->batch, mn);
  }
  if (auto p = planConv(s)) {
    Value x = operands[p->x->src];
    auto xs = cast<RankedTensorType>(x.getType()).getShape();
    SmallVector<int64_t> perm(p->xPerm.begin(), p->xPerm.end());
    x = transpose(b, l, x, perm);
    int64_t nb = batchSize(p->batch);
    unsigned R = xs.size();
    x = reshape(b, l, x, {nb, xs[perm[R - 3]], xs[perm[R - 2]], xs[perm[R - 1]]});
    auto ty = RankedTensorType::get(
        {nb, ranges[p->f].size(), ranges[p->o[0]].size(), ranges[p->o[1]].size()},
        et);
    Value r = ConvOp::create(
        b, l, ty, x, operands[p->k->src], Value(),
        b.getDenseI64ArrayAttr({p->st[0], p->st[1]}),
        b.getDenseI64ArrayAttr({p->dl[0], p->dl[1]}),
        b.getDenseI64ArrayAttr({p->pad[0], p->pad[1], p->after[0], p->after[1]}),
        b.getI64IntegerAttr(1));
    return finish(r, p->batch, {p->f, p->o[0], p->o[1]});
  }
  if (auto p = planBand(s)) {
    int64_t nb = batchSize(p->batch);
    auto fold = [&](const Node *acc) {
      Value v = operands[acc->src];
      auto sh = cast<RankedTensorType>(v.getType()).getShape();
      return reshape(b, l, v, {nb, sh[sh.size() - 2], sh.back()});
    };
    Value a = fold(p->a), v = fold(p->b);
    if (p->shift) { // v'[i] = v[i + shift]; rows outside read zero
      auto sh = cast<RankedTensorType>(v.getType()).getShape();
      if (p->shift < 0) {
        v = padTo(b, l, v, {0, -p->shift, 0}, {0, 0, 0});
      } else {
        v = SliceOp::create(
            b, l, RankedTensorType::get({sh[0], sh[1] - p->shift, sh[2]}, et), v,
            b.getDenseI64ArrayAttr({0, p->shift, 0}),
            b.getDenseI64ArrayAttr({1, 1, 1}));
      }
    }
    auto ty = RankedTensorType::get(
        {nb, ranges[p->m].size(), ranges[p->third].size()}, et);
    Value r;
    if (p->general)
      r = GbmmOp::create(b, l, ty, a, v, b.getI64IntegerAttr(p->width),
                         b.getI64IntegerAttr(p->dilation));
    else
      r = G2bmmOp::create(b, l, ty, a, v, b.getI64IntegerAttr(p->width),
                          b.getI64IntegerAttr(p->dilation));
    return finish(r, p->batch, {p->m, p->third});
  }
  return failure();
}

} // namespace tessera::derive
