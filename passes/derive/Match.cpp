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

/// Canonical conv: A[n, c, oh*sh + r*dh - pt, ow*sw + s*dw - pl] * K[f, c, r, s]
/// with loops (n, f, oh, ow) and sums (c, r, s), all from 0, G = 1.
struct ConvPlan {
  int64_t sh, sw, dh, dw, pt, pl, pb, pr;
  bool swapped;
};
std::optional<ConvPlan> planConv(const Scope &s) {
  auto two = productOfTwo(s);
  if (!two || s.numLoops() != 4 || s.sums.size() != 3)
    return std::nullopt;
  for (const Range &r : s.ranges())
    if (r.lo != 0)
      return std::nullopt;
  for (bool swapped : {false, true}) {
    const Node *a = swapped ? two->b : two->a, *k = swapped ? two->a : two->b;
    if (a->idx.size() != 4 || k->idx.size() != 4)
      continue;
    auto d = [&](unsigned i) { return s.dim(i); };
    if (a->idx[0] != d(0) || a->idx[1] != d(4) || k->idx[0] != d(1) ||
        k->idx[1] != d(4) || k->idx[2] != d(5) || k->idx[3] != d(6))
      continue;
    ConvPlan p{};
    p.swapped = swapped;
    bool ok = true;
    for (int sp = 0; sp < 2; ++sp) {
      AffineExpr e = a->idx[2 + sp];
      auto st = coeffOf(e, 2 + sp), dl = coeffOf(e, 5 + sp);
      if (!st || !dl || *st <= 0 || *dl <= 0) {
        ok = false;
        break;
      }
      for (unsigned o : {0u, 1u, 4u, 2u + (1 - sp), 5u + (1 - sp)})
        if (usesDim(e, o))
          ok = false;
      AffineExpr rest =
          simplifyAffineExpr(e - d(2 + sp) * *st - d(5 + sp) * *dl, 7, 0);
      auto c = dyn_cast<AffineConstantExpr>(rest);
      if (!c || c.getValue() > 0) {
        ok = false;
        break;
      }
      int64_t pad = -c.getValue();
      int64_t in = s.srcs[a->src].shape[2 + sp];
      int64_t out = s.loops[2 + sp].size(), kk = s.sums[1 + sp].size();
      int64_t after = (out - 1) * *st + *dl * (kk - 1) + 1 - in - pad;
      if (after < 0 || s.srcs[k->src].shape[2 + sp] != kk)
        ok = false;
      (sp ? p.sw : p.sh) = *st;
      (sp ? p.dw : p.dh) = *dl;
      (sp ? p.pl : p.pt) = pad;
      (sp ? p.pr : p.pb) = after;
    }
    if (ok && s.srcs[a->src].shape[1] == s.sums[0].size() &&
        s.srcs[a->src].shape[0] == s.loops[0].size() &&
        s.srcs[k->src].shape[0] == s.loops[1].size())
      return p;
  }
  return std::nullopt;
}

/// Canonical g2bmm / gbmm (loops b, m, x; one sum), reading A[b, m, sum] and
/// B[b, m + D*x - D*W, sum] (g2bmm) or A[b, m, sum], B[b, m + D*sum - D*W, x] (gbmm).
struct BandPlan {
  bool general;
  int64_t width, dilation;
  bool swapped;
};
std::optional<BandPlan> planBand(const Scope &s) {
  auto two = productOfTwo(s);
  if (!two || s.numLoops() != 3 || s.sums.size() != 1)
    return std::nullopt;
  for (const Range &r : s.ranges())
    if (r.lo != 0)
      return std::nullopt;
  auto d = [&](unsigned i) { return s.dim(i); };
  for (bool swapped : {false, true}) {
    const Node *a = swapped ? two->b : two->a, *b = swapped ? two->a : two->b;
    if (a->idx.size() != 3 || b->idx.size() != 3 || a->idx[0] != d(0) ||
        a->idx[1] != d(1) || b->idx[0] != d(0) ||
        s.srcs[a->src].shape[0] != s.loops[0].size() ||
        s.srcs[a->src].shape[1] != s.loops[1].size())
      continue;
    for (bool general : {false, true}) {
      unsigned band = general ? 3 : 2, other = general ? 2 : 3;
      if (a->idx[2] != d(general ? 3 : 3) || b->idx[2] != d(other))
        continue;
      int64_t W2 = general ? s.sums[0].size() : s.loops[2].size();
      if (W2 % 2 == 0)
        continue;
      int64_t W = W2 / 2;
      AffineExpr e = b->idx[1];
      auto cm = coeffOf(e, 1), cw = coeffOf(e, band);
      if (!cm || !cw || *cm != 1 || *cw <= 0)
        continue;
      AffineExpr rest = simplifyAffineExpr(e - d(1) - d(band) * *cw, 4, 0);
      auto c = dyn_cast<AffineConstantExpr>(rest);
      if (!c || c.getValue() != -*cw * W)
        continue;
      if (general && s.srcs[a->src].shape[2] != W2)
        continue;
      return BandPlan{general, W, *cw, swapped};
    }
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
  if (auto p = planMatmul(s)) {
    auto size = [&](ArrayRef<unsigned> ds) {
      int64_t n = 1;
      for (unsigned d : ds)
        n *= ranges[d].size();
      return n;
    };
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
    SmallVector<int64_t> full;
    SmallVector<unsigned> order;
    for (auto group : {p->batch, p->m, p->n})
      for (unsigned d : group) {
        full.push_back(ranges[d].size());
        order.push_back(d);
      }
    r = reshape(b, l, r, full);
    SmallVector<int64_t> perm;
    for (unsigned d = 0; d < s.numLoops(); ++d)
      perm.push_back(llvm::find(order, d) - order.begin());
    r = transpose(b, l, r, perm);
    return padTo(b, l, r, padLo, padHi);
  }
  if (auto p = planConv(s)) {
    auto two = productOfTwo(s);
    const Node *a = p->swapped ? two->b : two->a, *k = p->swapped ? two->a : two->b;
    SmallVector<int64_t> shape;
    for (const Range &r : s.loops)
      shape.push_back(r.size());
    Value r = ConvOp::create(
        b, l, RankedTensorType::get(shape, et), operands[a->src], operands[k->src],
        Value(), b.getDenseI64ArrayAttr({p->sh, p->sw}),
        b.getDenseI64ArrayAttr({p->dh, p->dw}),
        b.getDenseI64ArrayAttr({p->pt, p->pl, p->pb, p->pr}), b.getI64IntegerAttr(1));
    return padTo(b, l, r, padLo, padHi);
  }
  if (auto p = planBand(s)) {
    auto two = productOfTwo(s);
    const Node *a = p->swapped ? two->b : two->a, *v = p->swapped ? two->a : two->b;
    SmallVector<int64_t> shape;
    for (const Range &r : s.loops)
      shape.push_back(r.size());
    auto ty = RankedTensorType::get(shape, et);
    Value r;
    if (p->general)
      r = GbmmOp::create(b, l, ty, operands[a->src], operands[v->src],
                         b.getI64IntegerAttr(p->width), b.getI64IntegerAttr(p->dilation));
    else
      r = G2bmmOp::create(b, l, ty, operands[a->src], operands[v->src],
                          b.getI64IntegerAttr(p->width), b.getI64IntegerAttr(p->dilation));
    return padTo(b, l, r, padLo, padHi);
  }
  return failure();
}

} // namespace tessera::derive
