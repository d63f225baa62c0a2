//===- passes/autodiff/Autodiff.cpp - tessera-autodiff --------------------===//
//
// Forward function -> training step (see Passes.td). The backward pass walks
// the forward ops in reverse and applies one vector-Jacobian rule per op,
// written in tessera ops, so the result goes through the same pipeline
// (derive, remat, lowering) as any model.
//
//===----------------------------------------------------------------------===//

#include "passes/autodiff/Passes.h"

#include "dialects/Graph/ShapeInference.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tessera {
#define GEN_PASS_DEF_TESSERAAUTODIFF
#include "passes/autodiff/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

using Shape = SmallVector<int64_t>;

RankedTensorType tt(Value v) { return cast<RankedTensorType>(v.getType()); }
Shape shapeOf(Value v) { return Shape(tt(v).getShape()); }

/// Builds tessera ops with their result types computed here.
struct Emitter {
  OpBuilder &b;
  Location loc;

  Type f32() { return b.getF32Type(); }
  RankedTensorType ty(ArrayRef<int64_t> s, Type et) {
    return RankedTensorType::get(s, et);
  }
  Value scalar(double v, Type et) {
    auto t = ty({1}, et);
    return ConstantOp::create(
        b, loc, t,
        DenseElementsAttr::get(t, b.getFloatAttr(et, v).getValue()));
  }
  Value zerosLike(Value v) { return scalar(0.0, tt(v).getElementType()); }

  /// Numpy broadcasting of two shapes (the dialect's shape rule).
  static Shape bcast(ArrayRef<int64_t> a, ArrayRef<int64_t> c) {
    FailureOr<shape::Shape> s = shape::broadcast(a, c, std::nullopt);
    assert(succeeded(s) && "operands of a verified op broadcast");
    return Shape(s->begin(), s->end());
  }
  static Shape bcast(Value a, Value c) { return bcast(shapeOf(a), shapeOf(c)); }
  template <typename OpTy> Value binary(Value x, Value y) {
    return OpTy::create(b, loc, ty(bcast(x, y), tt(x).getElementType()), x, y);
  }
  template <typename OpTy> Value compare(Value x, Value y) {
    return OpTy::create(b, loc, ty(bcast(x, y), b.getI1Type()), x, y);
  }
  Value add(Value x, Value y) { return binary<AddOp>(x, y); }
  Value sub(Value x, Value y) { return binary<SubOp>(x, y); }
  Value mul(Value x, Value y) { return binary<MulOp>(x, y); }
  Value div(Value x, Value y) { return binary<DivOp>(x, y); }
  Value pow(Value x, Value y) { return binary<PowOp>(x, y); }
  template <typename OpTy> Value unary(Value x) {
    return OpTy::create(b, loc, x.getType(), x);
  }
  Value neg(Value x) { return unary<NegOp>(x); }
  Value where(Value c, Value x, Value y) {
    Shape out = bcast(bcast(c, x), shapeOf(y));
    return WhereOp::create(b, loc, ty(out, tt(x).getElementType()), c, x, y);
  }
  Value reshape(Value x, ArrayRef<int64_t> s) {
    if (shapeOf(x) == Shape(s))
      return x;
    return ReshapeOp::create(b, loc, ty(s, tt(x).getElementType()), x);
  }
  Value transpose(Value x, ArrayRef<int64_t> perm) {
    Shape in = shapeOf(x), out;
    for (int64_t p : perm)
      out.push_back(in[p]);
    return TransposeOp::create(b, loc, ty(out, tt(x).getElementType()), x,
                               b.getDenseI64ArrayAttr(perm));
  }
  Value swapLast(Value x) {
    int64_t r = tt(x).getRank();
    SmallVector<int64_t> perm(r);
    std::iota(perm.begin(), perm.end(), 0);
    std::swap(perm[r - 1], perm[r - 2]);
    return transpose(x, perm);
  }
  Value matmul(Value x, Value y) {
    Shape sx = shapeOf(x), sy = shapeOf(y);
    Shape out = bcast(ArrayRef(sx).drop_back(2), ArrayRef(sy).drop_back(2));
    out.push_back(sx[sx.size() - 2]);
    out.push_back(sy.back());
    return MatmulOp::create(b, loc, ty(out, tt(x).getElementType()), x, y);
  }
  /// True when every batch dimension of x is 1 (x acts as one matrix).
  static bool unbatched(Value x) {
    Shape s = shapeOf(x);
    return std::all_of(s.begin(), s.end() - 2, [](int64_t d) { return d == 1; });
  }
  static int64_t product(ArrayRef<int64_t> s) {
    return std::accumulate(s.begin(), s.end(), int64_t(1),
                           std::multiplies<int64_t>());
  }
  /// Gradient of C = A·B with respect to B. When B is one matrix broadcast
  /// over A's batch, the batch folds into the contraction:
  /// dB = reshape(A)^T · reshape(dC), one [K, N] matmul, instead of a
  /// [batch, K, N] product summed afterwards (128x the memory for a linear
  /// layer on [S, 1, E] activations).
  Value matmulGradRhs(Value g, Value a, Value bm) {
    Shape sa = shapeOf(a), sg = shapeOf(g);
    if (!unbatched(bm) || unbatched(a))
      return matmul(swapLast(a), g);
    // a's batch may be broadcast against g's: bring it to g's batch first.
    Shape full(sg.begin(), sg.end() - 2);
    full.append({sa[sa.size() - 2], sa.back()});
    Value af = broadcastTo(a, full);
    int64_t rows = product(ArrayRef(sg).drop_back(1));
    Value a2 = reshape(af, {rows, sa.back()});
    Value g2 = reshape(g, {rows, sg.back()});
    return matmul(transpose(a2, {1, 0}), g2);
  }
  /// Gradient of C = A·B with respect to A; folds B's batch when A is one
  /// matrix: dA = [M, batch·N] · [batch·N, K].
  Value matmulGradLhs(Value g, Value a, Value bm) {
    Shape sb = shapeOf(bm), sg = shapeOf(g);
    if (!unbatched(a) || unbatched(bm))
      return matmul(g, swapLast(bm));
    int64_t r = sg.size();
    Shape full(sg.begin(), sg.end() - 2);
    full.append({sb[sb.size() - 2], sb.back()});
    Value bf = broadcastTo(bm, full);
    // g: [P.., M, N] -> [M, P.., N] -> [M, P·N].
    SmallVector<int64_t> perm;
    perm.push_back(r - 2);
    for (int64_t i = 0; i < r - 2; ++i)
      perm.push_back(i);
    perm.push_back(r - 1);
    int64_t batch = product(ArrayRef(sg).drop_back(2));
    Value g2 = reshape(transpose(g, perm), {sg[r - 2], batch * sg.back()});
    // b: [P.., K, N] -> [P.., N, K] -> [P·N, K].
    Value b2 = reshape(swapLast(bf), {batch * sb.back(), sb[sb.size() - 2]});
    return matmul(g2, b2);
  }
  template <typename OpTy>
  Value reduce(Value x, ArrayRef<int64_t> axes, bool keep) {
    Shape in = shapeOf(x), out;
    for (int64_t i = 0; i < (int64_t)in.size(); ++i) {
      bool reduced = llvm::is_contained(axes, i);
      if (!reduced)
        out.push_back(in[i]);
      else if (keep)
        out.push_back(1);
    }
    return OpTy::create(b, loc, ty(out, tt(x).getElementType()), x,
                        b.getDenseI64ArrayAttr(axes), b.getBoolAttr(keep));
  }
  Value sum(Value x, ArrayRef<int64_t> axes, bool keep = true) {
    return reduce<ReduceSumOp>(x, axes, keep);
  }
  Value mean(Value x, ArrayRef<int64_t> axes, bool keep = true) {
    return reduce<ReduceMeanOp>(x, axes, keep);
  }
  Value broadcastTo(Value x, ArrayRef<int64_t> s) {
    if (shapeOf(x) == Shape(s))
      return x;
    return BroadcastOp::create(b, loc, ty(s, tt(x).getElementType()), x);
  }
  /// Sums a broadcast gradient back to `s` (numpy broadcasting undone).
  Value unbroadcast(Value g, ArrayRef<int64_t> s) {
    Shape gs = shapeOf(g);
    if (gs == Shape(s))
      return g;
    SmallVector<int64_t> axes;
    size_t lead = gs.size() - s.size();
    for (size_t i = 0; i < gs.size(); ++i)
      if (i < lead || (s[i - lead] == 1 && gs[i] != 1))
        axes.push_back(i);
    Value r = axes.empty() ? g : sum(g, axes, true);
    return reshape(r, s);
  }
  Value cast(Value x, Type et) {
    return CastOp::create(b, loc, tt(x).clone(et), x);
  }
  Value slice(Value x, ArrayRef<int64_t> starts, ArrayRef<int64_t> sizes) {
    SmallVector<int64_t> steps(starts.size(), 1);
    return SliceOp::create(b, loc, ty(sizes, tt(x).getElementType()), x,
                           b.getDenseI64ArrayAttr(starts),
                           b.getDenseI64ArrayAttr(steps));
  }
  Value pad(Value x, ArrayRef<int64_t> lo, ArrayRef<int64_t> hi, double v) {
    Shape s = shapeOf(x);
    for (size_t i = 0; i < s.size(); ++i)
      s[i] += lo[i] + hi[i];
    return PadOp::create(b, loc, ty(s, tt(x).getElementType()), x,
                         b.getDenseI64ArrayAttr(lo), b.getDenseI64ArrayAttr(hi),
                         b.getF64FloatAttr(v));
  }
  /// Weight gradient of an ungrouped conv y = conv(x, W), W of shape `ws`
  /// [F, C, KH, KW], g = dy:
  /// d W[f,c,i,j] = sum_{n,oh,ow} g[n,f,oh,ow] x[n,c,oh*s+i*d-p, ...], a conv
  /// of x^T [C, N, H, W] with g^T [F, N, OH, OW] as the kernel, stride and
  /// dilation swapped; rows past the kernel are sliced off.
  Value convWeightGrad(Value x, Value g, ArrayRef<int64_t> ws,
                       ArrayRef<int64_t> st, ArrayRef<int64_t> dl,
                       ArrayRef<int64_t> pd) {
    Shape xs = shapeOf(x), gs = shapeOf(g);
    Type et = tt(x).getElementType();
    SmallVector<int64_t> cs;
    for (int d = 0; d < 2; ++d)
      cs.push_back((xs[2 + d] + pd[d] + pd[d + 2] - st[d] * (gs[2 + d] - 1) -
                    1) / dl[d] + 1);
    Value c = ConvOp::create(
        b, loc, ty({xs[1], ws[0], cs[0], cs[1]}, et),
        transpose(x, {1, 0, 2, 3}), transpose(g, {1, 0, 2, 3}), Value(),
        b.getDenseI64ArrayAttr({dl[0], dl[1]}),
        b.getDenseI64ArrayAttr({st[0], st[1]}), b.getDenseI64ArrayAttr(pd),
        b.getI64IntegerAttr(1));
    if (cs[0] != ws[2] || cs[1] != ws[3])
      c = slice(c, {0, 0, 0, 0}, {xs[1], ws[0], ws[2], ws[3]});
    return transpose(c, {1, 0, 2, 3});
  }
  /// Pooling backward: `win` [N*C, K, OH, OW] holds, per kernel offset (or
  /// one channel for all), what each window sends back to its inputs; one
  /// conv_transpose with `kernel` [K, 1, KH, KW] (stride `st`, pads `pd`)
  /// scatters it onto the input, returned with the input's shape `xs`.
  FailureOr<Value> poolBackward(Value win, Value kernel, ArrayRef<int64_t> xs,
                                ArrayRef<int64_t> k, ArrayRef<int64_t> st,
                                ArrayRef<int64_t> pd) {
    Shape ws = shapeOf(win);
    SmallVector<int64_t> op2;
    for (int d = 0; d < 2; ++d)
      op2.push_back(xs[2 + d] + pd[d] + pd[d + 2] -
                    (st[d] * (ws[2 + d] - 1) + k[d]));
    if (op2[0] < 0 || op2[1] < 0)
      return failure();
    Value back = ConvTransposeOp::create(
        b, loc, ty({ws[0], 1, xs[2], xs[3]}, tt(win).getElementType()), win,
        kernel, Value(), b.getDenseI64ArrayAttr(st),
        b.getDenseI64ArrayAttr({1, 1}), b.getDenseI64ArrayAttr(pd),
        b.getDenseI64ArrayAttr(op2), b.getI64IntegerAttr(1));
    return reshape(back, xs);
  }
  Value concat(ValueRange xs, int64_t axis) {
    Shape s = shapeOf(xs[0]);
    s[axis] = 0;
    for (Value x : xs)
      s[axis] += shapeOf(x)[axis];
    return ConcatOp::create(b, loc, ty(s, tt(xs[0]).getElementType()), xs,
                            b.getI64IntegerAttr(axis));
  }
};

/// The gradient contributions of one op: (operand index, gradient).
using Contributions = SmallVector<std::pair<unsigned, Value>>;

/// Vector-Jacobian products. Returns failure for ops without a rule.
FailureOr<Contributions> vjp(Operation *op, Value g, Emitter &e,
                             const llvm::DenseSet<Value> &needs) {
  Contributions out;
  auto want = [&](unsigned i) { return needs.contains(op->getOperand(i)); };
  auto give = [&](unsigned i, Value v) {
    if (want(i))
      out.push_back({i, e.unbroadcast(v, shapeOf(op->getOperand(i)))});
  };
  Value y = op->getResult(0);
  if (isa<AddOp>(op)) {
    give(0, g);
    give(1, g);
  } else if (isa<SubOp>(op)) {
    give(0, g);
    if (want(1))
      give(1, e.neg(g));
  } else if (isa<MulOp>(op)) {
    if (want(0))
      give(0, e.mul(g, op->getOperand(1)));
    if (want(1))
      give(1, e.mul(g, op->getOperand(0)));
  } else if (isa<DivOp>(op)) {
    Value d = op->getOperand(1);
    if (want(0))
      give(0, e.div(g, d));
    if (want(1))
      give(1, e.neg(e.div(e.mul(g, y), d)));
  } else if (auto mm = dyn_cast<MatmulOp>(op)) {
    if (want(0))
      give(0, e.matmulGradLhs(g, mm.getLhs(), mm.getRhs()));
    if (want(1))
      give(1, e.matmulGradRhs(g, mm.getLhs(), mm.getRhs()));
  } else if (auto t = dyn_cast<TransposeOp>(op)) {
    ArrayRef<int64_t> perm = t.getPerm();
    SmallVector<int64_t> inv(perm.size());
    for (size_t i = 0; i < perm.size(); ++i)
      inv[perm[i]] = i;
    give(0, e.transpose(g, inv));
  } else if (isa<ReshapeOp>(op)) {
    give(0, e.reshape(g, shapeOf(op->getOperand(0))));
  } else if (isa<BroadcastOp>(op)) {
    give(0, g);
  } else if (isa<ReluOp>(op)) {
    Value x = op->getOperand(0);
    give(0, e.where(e.compare<GtOp>(x, e.zerosLike(x)), g, e.zerosLike(g)));
  } else if (auto c = dyn_cast<ClipOp>(op)) {
    // torch's hardtanh/clamp backward: zero where x is outside (min, max).
    Value x = op->getOperand(0);
    Type et = tt(x).getElementType();
    Value inside = AndOp::create(
        e.b, e.loc, tt(x).clone(e.b.getI1Type()),
        e.compare<GtOp>(x, e.scalar(c.getMin().convertToDouble(), et)),
        e.compare<LtOp>(x, e.scalar(c.getMax().convertToDouble(), et)));
    give(0, e.where(inside, g, e.zerosLike(g)));
  } else if (isa<NegOp>(op)) {
    give(0, e.neg(g));
  } else if (isa<ExpOp>(op)) {
    give(0, e.mul(g, y));
  } else if (isa<LogOp>(op)) {
    give(0, e.div(g, op->getOperand(0)));
  } else if (isa<TanhOp>(op)) {
    Type et = tt(y).getElementType();
    give(0, e.mul(g, e.sub(e.scalar(1, et), e.mul(y, y))));
  } else if (isa<SigmoidOp>(op)) {
    Type et = tt(y).getElementType();
    give(0, e.mul(g, e.mul(y, e.sub(e.scalar(1, et), y))));
  } else if (isa<SqrtOp>(op)) {
    Type et = tt(y).getElementType();
    give(0, e.div(g, e.mul(y, e.scalar(2, et))));
  } else if (isa<ErfOp>(op)) {
    Value x = op->getOperand(0);
    Type et = tt(x).getElementType();
    Value d = e.mul(e.scalar(2.0 / std::sqrt(M_PI), et),
                    e.unary<ExpOp>(e.neg(e.mul(x, x))));
    give(0, e.mul(g, d));
  } else if (isa<AbsOp>(op)) {
    Value x = op->getOperand(0);
    give(0, e.where(e.compare<GtOp>(x, e.zerosLike(x)), g,
                    e.where(e.compare<LtOp>(x, e.zerosLike(x)), e.neg(g),
                            e.zerosLike(g))));
  } else if (isa<RsqrtOp>(op)) {
    Type et = tt(y).getElementType();
    give(0, e.mul(g, e.mul(e.scalar(-0.5, et), e.mul(y, e.mul(y, y)))));
  } else if (isa<ReciprocalOp>(op)) {
    give(0, e.neg(e.mul(g, e.mul(y, y))));
  } else if (isa<SinOp>(op)) {
    give(0, e.mul(g, e.unary<CosOp>(op->getOperand(0))));
  } else if (isa<CosOp>(op)) {
    give(0, e.neg(e.mul(g, e.unary<SinOp>(op->getOperand(0)))));
  } else if (isa<FloorOp, CeilOp>(op)) {
    give(0, e.mul(g, e.zerosLike(g)));
  } else if (isa<GeluOp>(op)) {
    // d/dx x*Phi(x) = Phi(x) + x*phi(x).
    Value x = op->getOperand(0);
    Type et = tt(x).getElementType();
    Value cdf = e.mul(e.scalar(0.5, et),
                      e.add(e.scalar(1, et), e.unary<ErfOp>(e.mul(
                                                 x, e.scalar(M_SQRT1_2, et)))));
    Value pdf = e.mul(e.scalar(0.5 * M_2_SQRTPI * M_SQRT1_2, et),
                      e.unary<ExpOp>(e.mul(e.scalar(-0.5, et), e.mul(x, x))));
    give(0, e.mul(g, e.add(cdf, e.mul(x, pdf))));
  } else if (isa<SiluOp>(op)) {
    // d/dx x*s(x) = s + x*s*(1-s).
    Value x = op->getOperand(0);
    Type et = tt(x).getElementType();
    Value sg = e.unary<SigmoidOp>(x);
    give(0, e.mul(g, e.mul(sg, e.add(e.scalar(1, et),
                                     e.mul(x, e.sub(e.scalar(1, et), sg))))));
  } else if (isa<HardSwishOp>(op)) {
    // torch: 0 for x <= -3, g for x >= 3, g*(x/3 + 1/2) between.
    Value x = op->getOperand(0);
    Type et = tt(x).getElementType();
    Value mid = e.mul(g, e.add(e.mul(x, e.scalar(1.0 / 3, et)),
                               e.scalar(0.5, et)));
    give(0, e.where(e.compare<LeOp>(x, e.scalar(-3, et)), e.zerosLike(g),
                    e.where(e.compare<LtOp>(x, e.scalar(3, et)), mid, g)));
  } else if (auto lr = dyn_cast<LeakyReluOp>(op)) {
    Value x = op->getOperand(0);
    Type et = tt(x).getElementType();
    give(0, e.where(e.compare<GtOp>(x, e.zerosLike(x)), g,
                    e.mul(g, e.scalar(lr.getAlpha().convertToDouble(), et))));
  } else if (auto hs = dyn_cast<HardSigmoidOp>(op)) {
    // alpha where 0 < alpha*x + beta < 1, else 0 (torch's open interval).
    Value x = op->getOperand(0);
    Type et = tt(x).getElementType();
    double a = hs.getAlpha().convertToDouble(), c = hs.getBeta().convertToDouble();
    Value z = e.add(e.mul(x, e.scalar(a, et)), e.scalar(c, et));
    Value inside = AndOp::create(
        e.b, e.loc, tt(z).clone(e.b.getI1Type()),
        e.compare<GtOp>(z, e.zerosLike(z)), e.compare<LtOp>(z, e.scalar(1, et)));
    give(0, e.where(inside, e.mul(g, e.scalar(a, et)), e.zerosLike(g)));
  } else if (isa<PowOp>(op)) {
    // y = a^b: da = g * b * a^(b-1); db = g * y * log(a), 0 where a == 0
    // and b >= 0 (torch's mask; log(0) would make it NaN).
    Value a = op->getOperand(0), bb = op->getOperand(1);
    Type et = tt(y).getElementType();
    if (want(0))
      give(0, e.mul(g, e.mul(bb, e.pow(a, e.sub(bb, e.scalar(1, et))))));
    if (want(1)) {
      Value zeroBase = AndOp::create(
          e.b, e.loc, tt(y).clone(e.b.getI1Type()),
          e.compare<EqOp>(e.broadcastTo(a, shapeOf(y)), e.zerosLike(a)),
          e.compare<GeOp>(e.broadcastTo(bb, shapeOf(y)), e.zerosLike(bb)));
      give(1, e.where(zeroBase, e.zerosLike(g),
                      e.mul(g, e.mul(y, e.unary<LogOp>(a)))));
    }
  } else if (isa<MaxOp, MinOp>(op)) {
    // torch's maximum/minimum: the chosen side gets g, ties split it.
    Value a = op->getOperand(0), bb = op->getOperand(1);
    Type et = tt(y).getElementType();
    bool isMax = isa<MaxOp>(op);
    Value half = e.mul(g, e.scalar(0.5, et));
    Value tie = e.compare<EqOp>(a, bb);
    Value aWins = isMax ? e.compare<GtOp>(a, bb) : e.compare<LtOp>(a, bb);
    Value bWins = isMax ? e.compare<LtOp>(a, bb) : e.compare<GtOp>(a, bb);
    if (want(0))
      give(0, e.where(aWins, g, e.where(tie, half, e.zerosLike(g))));
    if (want(1))
      give(1, e.where(bWins, g, e.where(tie, half, e.zerosLike(g))));
  } else if (isa<ReduceMaxOp, ReduceMinOp>(op)) {
    // torch's amax/amin: g shared evenly among the elements equal to the
    // result.
    Value x = op->getOperand(0);
    Shape in = shapeOf(x), kept = in;
    ArrayRef<int64_t> axes = isa<ReduceMaxOp>(op)
                                 ? cast<ReduceMaxOp>(op).getAxes()
                                 : cast<ReduceMinOp>(op).getAxes();
    for (int64_t a : axes)
      kept[a] = 1;
    Type et = tt(x).getElementType();
    Value hit = e.compare<EqOp>(x, e.reshape(y, kept));
    Value ones = e.where(hit, e.scalar(1, et), e.zerosLike(x));
    Value count = e.sum(ones, SmallVector<int64_t>(axes), true);
    give(0, e.mul(ones, e.div(e.reshape(g, kept), count)));
  } else if (auto r = dyn_cast<ReduceSumOp>(op)) {
    Shape in = shapeOf(op->getOperand(0)), kept = in;
    for (int64_t a : r.getAxes())
      kept[a] = 1;
    give(0, e.broadcastTo(e.reshape(g, kept), in));
  } else if (auto r = dyn_cast<ReduceMeanOp>(op)) {
    Shape in = shapeOf(op->getOperand(0)), kept = in;
    double count = 1;
    for (int64_t a : r.getAxes()) {
      kept[a] = 1;
      count *= in[a];
    }
    Type et = tt(y).getElementType();
    give(0, e.broadcastTo(e.mul(e.reshape(g, kept), e.scalar(1 / count, et)),
                          in));
  } else if (auto s = dyn_cast<SoftmaxOp>(op)) {
    int64_t axis = s.getAxis();
    if (s.getLog())
      give(0, e.sub(g, e.mul(e.unary<ExpOp>(y), e.sum(g, {axis}))));
    else
      give(0, e.mul(y, e.sub(g, e.sum(e.mul(g, y), {axis}))));
  } else if (auto ln = dyn_cast<LayerNormOp>(op)) {
    Value x = ln.getInput();
    Type et = tt(x).getElementType();
    int64_t rank = tt(x).getRank();
    SmallVector<int64_t> axes;
    for (int64_t a = ln.getAxis(); a < rank; ++a)
      axes.push_back(a);
    Value mu = e.mean(x, axes);
    Value xc = e.sub(x, mu);
    Value var = e.mean(e.mul(xc, xc), axes);
    Value rstd = e.unary<RsqrtOp>(
        e.add(var, e.scalar(ln.getEpsilon().convertToDouble(), et)));
    Value xhat = e.mul(xc, rstd);
    Value gx = g;
    if (Value scale = ln.getScale()) {
      if (needs.contains(scale))
        out.push_back({1, e.unbroadcast(e.mul(g, xhat), shapeOf(scale))});
      gx = e.mul(g, scale);
    }
    if (Value bias = ln.getBias())
      if (needs.contains(bias))
        out.push_back({ln.getScale() ? 2u : 1u, e.unbroadcast(g, shapeOf(bias))});
    if (needs.contains(x)) {
      Value t = e.sub(e.sub(gx, e.mean(gx, axes)),
                      e.mul(xhat, e.mean(e.mul(gx, xhat), axes)));
      out.push_back({0, e.mul(rstd, t)});
    }
  } else if (auto s = dyn_cast<SliceOp>(op)) {
    if (llvm::any_of(s.getSteps(), [](int64_t st) { return st != 1; }))
      return failure();
    Shape in = shapeOf(s.getInput()), res = shapeOf(y);
    SmallVector<int64_t> lo(s.getStarts()), hi;
    for (size_t i = 0; i < in.size(); ++i)
      hi.push_back(in[i] - lo[i] - res[i]);
    give(0, e.pad(g, lo, hi, 0.0));
  } else if (auto pd = dyn_cast<PadOp>(op)) {
    // Constant padding: the input's gradient is g without the border.
    give(0, e.slice(g, pd.getLow(), shapeOf(pd.getInput())));
  } else if (auto c = dyn_cast<ConcatOp>(op)) {
    int64_t axis = c.getAxis(), at = 0;
    Shape gs = shapeOf(g);
    for (unsigned i = 0; i < op->getNumOperands(); ++i) {
      Shape s = shapeOf(op->getOperand(i));
      if (want(i)) {
        SmallVector<int64_t> starts(gs.size(), 0);
        starts[axis] = at;
        give(i, e.slice(g, starts, s));
      }
      at += s[axis];
    }
  } else if (auto w = dyn_cast<WhereOp>(op)) {
    if (want(1))
      give(1, e.where(w.getCond(), g, e.zerosLike(g)));
    if (want(2))
      give(2, e.where(w.getCond(), e.zerosLike(g), g));
  } else if (auto gop = dyn_cast<GatherOp>(op)) {
    // Embedding lookup: d table = onehot(indices)^T @ g.
    Value table = gop.getInput(), idx = gop.getIndices();
    Shape ts = shapeOf(table), is = shapeOf(idx);
    if (gop.getAxis() != 0 || ts.size() != 2)
      return failure();
    int64_t rows = 1;
    for (int64_t d : is)
      rows *= d;
    Type et = tt(table).getElementType();
    Type it = tt(idx).getElementType();
    auto iotaTy = RankedTensorType::get({1, ts[0]}, it);
    SmallVector<APInt> iota;
    for (int64_t i = 0; i < ts[0]; ++i)
      iota.push_back(APInt(it.getIntOrFloatBitWidth(), i));
    Value range = ConstantOp::create(e.b, e.loc, iotaTy,
                                     DenseElementsAttr::get(iotaTy, iota));
    Value hot = e.cast(e.compare<EqOp>(e.reshape(idx, {rows, 1}), range), et);
    give(0, e.matmul(e.transpose(hot, {1, 0}), e.reshape(g, {rows, ts[1]})));
  } else if (auto conv = dyn_cast<ConvOp>(op)) {
    Value x = conv.getInput(), w = conv.getWeight();
    Shape xs = shapeOf(x), ws = shapeOf(w), gs = shapeOf(g);
    const int64_t groups = conv.getGroups();
    const bool depthwise = groups != 1 && groups == xs[1] && groups == ws[0] &&
                           ws[1] == 1;
    ArrayRef<int64_t> st = conv.getStrides(), dl = conv.getDilations(),
                      pd = conv.getPads();
    Type et = tt(x).getElementType();
    if (conv.getBias() && needs.contains(conv.getBias()))
      out.push_back({2, e.sum(g, {0, 2, 3}, false)});
    if (needs.contains(x)) {
      // d input = conv_transpose(g, W): W [F, C, KH, KW] reads as [in=F,
      // out=C]; output_padding restores rows the forward stride dropped.
      SmallVector<int64_t> op2;
      for (int d = 0; d < 2; ++d)
        op2.push_back(xs[2 + d] - (st[d] * (gs[2 + d] - 1) +
                                   (ws[2 + d] - 1) * dl[d] + 1 - pd[d] -
                                   pd[d + 2]));
      Value gx = ConvTransposeOp::create(
          e.b, e.loc, e.ty(xs, et), g, w, Value(), e.b.getDenseI64ArrayAttr(st),
          e.b.getDenseI64ArrayAttr(dl), e.b.getDenseI64ArrayAttr(pd),
          e.b.getDenseI64ArrayAttr(op2), e.b.getI64IntegerAttr(groups));
      out.push_back({0, gx});
    }
    // Spatial size of the weight-gradient correlation (stride and dilation
    // swapped); at least the kernel's, extra rows are sliced off.
    SmallVector<int64_t> cs;
    for (int d = 0; d < 2; ++d)
      cs.push_back((xs[2 + d] + pd[d] + pd[d + 2] - st[d] * (gs[2 + d] - 1) -
                    1) / dl[d] + 1);
    if (needs.contains(w) && depthwise) {
      // Depthwise: d W[c,0,i,j] = sum_n (x[n,c] * g[n,c]) correlation; one
      // depthwise conv over [1, N*C, H, W] with g as N*C kernels, summed
      // over n.
      int64_t nc = xs[0] * xs[1];
      Value c = ConvOp::create(
          e.b, e.loc, e.ty({1, nc, cs[0], cs[1]}, et),
          e.reshape(x, {1, nc, xs[2], xs[3]}),
          e.reshape(g, {nc, 1, gs[2], gs[3]}), Value(),
          e.b.getDenseI64ArrayAttr({dl[0], dl[1]}),
          e.b.getDenseI64ArrayAttr({st[0], st[1]}),
          e.b.getDenseI64ArrayAttr(pd), e.b.getI64IntegerAttr(nc));
      if (cs[0] != ws[2] || cs[1] != ws[3])
        c = e.slice(c, {0, 0, 0, 0}, {1, nc, ws[2], ws[3]});
      c = e.sum(e.reshape(c, {xs[0], xs[1], ws[2], ws[3]}), {0}, true);
      out.push_back({1, e.reshape(c, ws)});
    } else if (needs.contains(w) && groups == 1) {
      out.push_back({1, e.convWeightGrad(x, g, ws, st, dl, pd)});
    } else if (needs.contains(w)) {
      // Grouped: group k's filters see input channels [k*C/G, (k+1)*C/G)
      // and produce output channels [k*F/G, (k+1)*F/G); one ungrouped
      // weight gradient per group, concatenated over the filters.
      const int64_t cg = xs[1] / groups, fg = ws[0] / groups;
      SmallVector<Value> parts;
      for (int64_t k = 0; k < groups; ++k) {
        Value xk = e.slice(x, {0, k * cg, 0, 0}, {xs[0], cg, xs[2], xs[3]});
        Value gk = e.slice(g, {0, k * fg, 0, 0}, {gs[0], fg, gs[2], gs[3]});
        parts.push_back(
            e.convWeightGrad(xk, gk, {fg, cg, ws[2], ws[3]}, st, dl, pd));
      }
      out.push_back({1, e.concat(parts, 0)});
    }
  } else if (auto ct = dyn_cast<ConvTransposeOp>(op)) {
    // y = conv_transpose(x, W) is the adjoint of a conv with the same
    // stride, dilation and pads: dx = conv(g, W) (W [C, F/G, ...] read as a
    // conv weight [out=C, in=F/G]); dW is that conv's weight gradient with
    // g as its input and x as its output gradient.
    Value x = ct.getInput(), w = ct.getWeight();
    Shape xs = shapeOf(x), ws = shapeOf(w), gs = shapeOf(g);
    ArrayRef<int64_t> st = ct.getStrides(), dl = ct.getDilations(),
                      pd = ct.getPads();
    Type et = tt(x).getElementType();
    if (ct.getGroups() != 1)
      return failure();
    if (ct.getBias() && needs.contains(ct.getBias()))
      out.push_back({2, e.sum(g, {0, 2, 3}, false)});
    if (needs.contains(x))
      out.push_back(
          {0, ConvOp::create(e.b, e.loc, e.ty(xs, et), g, w, Value(),
                             e.b.getDenseI64ArrayAttr(st),
                             e.b.getDenseI64ArrayAttr(dl),
                             e.b.getDenseI64ArrayAttr(pd),
                             e.b.getI64IntegerAttr(1))});
    if (needs.contains(w))
      out.push_back({1, e.convWeightGrad(g, x, ws, st, dl, pd)});
  } else if (auto ap = dyn_cast<AvgPoolOp>(op)) {
    // Each output's gradient, divided by its window's element count (as
    // the forward divides), goes back to every input of its window: one
    // conv_transpose with an all-ones kernel per channel.
    Value x = ap.getInput();
    Shape xs = shapeOf(x), gs = shapeOf(g);
    ArrayRef<int64_t> k = ap.getKernel(), st = ap.getStrides(),
                      pd = ap.getPads();
    Type et = tt(x).getElementType();
    const bool anyPad = llvm::any_of(pd, [](int64_t v) { return v != 0; });
    auto cntTy = e.ty({1, 1, gs[2], gs[3]}, e.f32());
    SmallVector<float> inv(gs[2] * gs[3]);
    for (int64_t oh = 0; oh < gs[2]; ++oh)
      for (int64_t ow = 0; ow < gs[3]; ++ow) {
        int64_t count = k[0] * k[1];
        if (!ap.getCountIncludePad() && anyPad) {
          auto extent = [](int64_t o, int64_t s, int64_t p, int64_t kk,
                           int64_t size) {
            int64_t lo = o * s - p;
            return std::min(lo + kk, size) - std::max<int64_t>(lo, 0);
          };
          count = extent(oh, st[0], pd[0], k[0], xs[2]) *
                  extent(ow, st[1], pd[1], k[1], xs[3]);
        }
        inv[oh * gs[3] + ow] = 1.0f / float(std::max<int64_t>(count, 1));
      }
    Value scale = ConstantOp::create(e.b, e.loc, cntTy,
                                     DenseElementsAttr::get(cntTy, ArrayRef(inv)));
    auto kt = e.ty({1, 1, k[0], k[1]}, e.f32());
    SmallVector<float> ones(k[0] * k[1], 1.0f);
    Value kv = ConstantOp::create(e.b, e.loc, kt,
                                  DenseElementsAttr::get(kt, ArrayRef(ones)));
    if (et != e.f32()) {
      scale = e.cast(scale, et);
      kv = e.cast(kv, et);
    }
    int64_t nc = xs[0] * xs[1];
    Value gm = e.reshape(e.mul(g, scale), {nc, 1, gs[2], gs[3]});
    FailureOr<Value> back = e.poolBackward(gm, kv, xs, k, st, pd);
    if (failed(back))
      return failure();
    give(0, *back);
  } else if (auto mp = dyn_cast<MaxPoolOp>(op)) {
    // Each kernel offset (i, j): the window element equal to the max, first
    // in row-major order as torch picks it, receives g. The masked
    // gradients, one channel per offset, go back to their input positions
    // through one conv_transpose with one-hot kernels.
    if (llvm::any_of(mp.getDilations(), [](int64_t d) { return d != 1; }))
      return failure();
    Value x = mp.getInput();
    Shape xs = shapeOf(x), gs = shapeOf(g);
    ArrayRef<int64_t> k = mp.getKernel(), st = mp.getStrides(),
                      pd = mp.getPads();
    Type et = tt(x).getElementType();
    int64_t nc = xs[0] * xs[1];
    Value xp = e.reshape(x, {nc, 1, xs[2], xs[3]});
    xp = e.pad(xp, {0, 0, pd[0], pd[1]}, {0, 0, pd[2], pd[3]},
               -std::numeric_limits<double>::infinity());
    Value ym = e.reshape(y, {nc, 1, gs[2], gs[3]});
    Value gm = e.reshape(g, {nc, 1, gs[2], gs[3]});
    Value taken;
    SmallVector<Value> parts;
    auto i1 = [&](Value v) { return tt(v).clone(e.b.getI1Type()); };
    for (int64_t i = 0; i < k[0]; ++i)
      for (int64_t j = 0; j < k[1]; ++j) {
        Value win = SliceOp::create(
            e.b, e.loc, e.ty({nc, 1, gs[2], gs[3]}, et), xp,
            e.b.getDenseI64ArrayAttr({0, 0, i, j}),
            e.b.getDenseI64ArrayAttr({1, 1, st[0], st[1]}));
        Value hit = e.compare<EqOp>(win, ym);
        if (taken) {
          Value fresh = AndOp::create(e.b, e.loc, i1(hit), hit,
                                      NotOp::create(e.b, e.loc, i1(taken), taken));
          taken = OrOp::create(e.b, e.loc, i1(hit), taken, hit);
          hit = fresh;
        } else {
          taken = hit;
        }
        parts.push_back(e.where(hit, gm, e.zerosLike(gm)));
      }
    Value stacked = e.concat(parts, 1); // [NC, KH*KW, OH, OW]
    SmallVector<float> kern(k[0] * k[1] * k[0] * k[1], 0.0f);
    for (int64_t c = 0; c < k[0] * k[1]; ++c)
      kern[c * k[0] * k[1] + c] = 1.0f;
    auto kt = e.ty({k[0] * k[1], 1, k[0], k[1]}, e.f32());
    Value kv = ConstantOp::create(e.b, e.loc, kt,
                                  DenseElementsAttr::get(kt, ArrayRef(kern)));
    if (et != e.f32())
      kv = e.cast(kv, et);
    FailureOr<Value> back = e.poolBackward(stacked, kv, xs, k, st, pd);
    if (failed(back))
      return failure();
    give(0, *back);
  } else if (auto cst = dyn_cast<CastOp>(op)) {
    give(0, e.cast(g, tt(cst.getInput()).getElementType()));
  } else {
    return failure();
  }
  return out;
}

std::string paramName(ConstantOp c, unsigned i) {
  if (auto r = dyn_cast<DenseResourceElementsAttr>(c.getValue()))
    return r.getRawHandle().getKey().str();
  if (auto nl = dyn_cast<NameLoc>(c.getLoc()))
    return nl.getName().str();
  return "param" + std::to_string(i);
}

struct TesseraAutodiffPass
    : public impl::TesseraAutodiffBase<TesseraAutodiffPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (loss != "mse" && loss != "cross-entropy") {
      module.emitError() << "tessera-autodiff: unknown loss '" << loss
                         << "' (mse or cross-entropy)";
      return signalPassFailure();
    }
    if (optimizer != "sgd" && optimizer != "adam" && optimizer != "none") {
      module.emitError() << "tessera-autodiff: unknown optimizer '"
                         << optimizer << "' (sgd, adam or none)";
      return signalPassFailure();
    }
    SmallVector<func::FuncOp> funcs;
    for (auto f : module.getOps<func::FuncOp>())
      if (!f.isDeclaration() && f.isPublic())
        funcs.push_back(f);
    if (funcs.size() != 1) {
      module.emitError() << "tessera-autodiff: expected one public function, "
                            "found "
                         << funcs.size();
      return signalPassFailure();
    }
    if (failed(run(funcs[0])))
      signalPassFailure();
  }

  LogicalResult run(func::FuncOp f) {
    if (!f.getBody().hasOneBlock() || f.getNumResults() == 0)
      return f.emitError() << "tessera-autodiff: @" << f.getSymName()
                           << " needs one block and at least one result";
    Block &body = f.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    Value out = ret.getOperand(0);
    auto outTy = dyn_cast<RankedTensorType>(out.getType());
    if (!outTy || !isa<FloatType>(outTy.getElementType()) ||
        !outTy.hasStaticShape())
      return f.emitError() << "tessera-autodiff: result 0 must be a static "
                              "float tensor, not "
                           << out.getType();
    Type et = outTy.getElementType();

    // Parameters: float constants, not splat, >= 2 elements, not only
    // batch-norm statistics.
    SmallVector<ConstantOp> params;
    for (Operation &op : body)
      if (auto c = dyn_cast<ConstantOp>(op)) {
        auto t = cast<RankedTensorType>(c.getType());
        if (!isa<FloatType>(t.getElementType()) || t.getNumElements() < 2)
          continue;
        if (auto d = dyn_cast<DenseElementsAttr>(c.getValue()); d && d.isSplat())
          continue;
        bool statsOnly = !c->use_empty() &&
                         llvm::all_of(c->getUses(), [](OpOperand &u) {
                           return isa<BatchNormOp>(u.getOwner()) &&
                                  u.getOperandNumber() >= 3;
                         });
        if (!statsOnly)
          params.push_back(c);
      }
    if (params.empty())
      return f.emitError() << "tessera-autodiff: @" << f.getSymName()
                           << " has no trainable parameters";

    OpBuilder b(f.getContext());
    auto nameAttr = [&](StringRef s) { return b.getStringAttr(s); };
    // New arguments: target, params, (adam) m, v, step.
    auto addArg = [&](Type t, StringRef name) {
      unsigned i = f.getNumArguments();
      (void)f.insertArgument(i, t, b.getDictionaryAttr({b.getNamedAttr(
                                       "tessera.name", nameAttr(name))}),
                             f.getLoc());
      return f.getArgument(i);
    };
    Value target = addArg(outTy, "target");
    SmallVector<Value> p, m, v;
    SmallVector<std::string> names;
    for (auto [i, c] : llvm::enumerate(params)) {
      names.push_back(paramName(c, i));
      p.push_back(addArg(c.getType(), names.back()));
    }
    Value step;
    if (optimizer == "adam") {
      for (auto [i, c] : llvm::enumerate(params))
        m.push_back(addArg(c.getType(), names[i] + ".adam_m"));
      for (auto [i, c] : llvm::enumerate(params))
        v.push_back(addArg(c.getType(), names[i] + ".adam_v"));
      step = addArg(RankedTensorType::get({1}, et), "adam_step");
    }
    for (auto [i, c] : llvm::enumerate(params)) {
      c.getResult().replaceAllUsesWith(p[i]);
      c.erase();
    }

    // Values that depend on a parameter need gradients.
    llvm::DenseSet<Value> needs(p.begin(), p.end());
    for (Operation &op : body.without_terminator())
      if (llvm::any_of(op.getOperands(),
                       [&](Value x) { return needs.contains(x); }))
        for (Value r : op.getResults())
          needs.insert(r);

    // The forward ops (the loss and backward ops are built after them).
    SmallVector<Operation *> fwd;
    for (Operation &op : body.without_terminator())
      fwd.push_back(&op);
    b.setInsertionPoint(ret);
    Location loc = ret.getLoc();
    Emitter e{b, loc};
    Shape os(outTy.getShape());
    int64_t numel = outTy.getNumElements();
    SmallVector<int64_t> all(os.size());
    std::iota(all.begin(), all.end(), 0);
    Value lossV, seed;
    if (loss == "mse") {
      Value d = e.sub(out, target);
      lossV = e.mean(e.mul(d, d), all, true);
      seed = e.mul(d, e.scalar(2.0 / double(numel), et));
    } else {
      int64_t last = os.size() - 1;
      double rows = double(numel) / double(os.back());
      Value ls = SoftmaxOp::create(b, loc, outTy, out, b.getI64IntegerAttr(last),
                                   b.getBoolAttr(true));
      lossV = e.mul(e.sum(e.mul(target, ls), all, true),
                    e.scalar(-1.0 / rows, et));
      Value sm = SoftmaxOp::create(b, loc, outTy, out, b.getI64IntegerAttr(last),
                                   b.getBoolAttr(false));
      seed = e.mul(e.sub(e.mul(sm, e.sum(target, {last})), target),
                   e.scalar(1.0 / rows, et));
    }
    lossV = e.reshape(lossV, {1});

    // Reverse sweep.
    llvm::DenseMap<Value, Value> grad;
    auto accumulate = [&](Value x, Value gx) {
      auto it = grad.find(x);
      if (it == grad.end())
        grad[x] = gx;
      else
        it->second = e.add(it->second, gx);
    };
    accumulate(out, seed);
    llvm::MapVector<StringRef, unsigned> missing;
    SmallVector<Operation *> missingOps;
    for (Operation *op : llvm::reverse(fwd)) {
      if (op->getNumResults() != 1)
        continue;
      Value r = op->getResult(0);
      if (!needs.contains(r))
        continue;
      auto it = grad.find(r);
      if (it == grad.end())
        continue; // does not reach the loss
      e.loc = op->getLoc();
      FailureOr<Contributions> cs = vjp(op, it->second, e, needs);
      if (failed(cs)) {
        ++missing[op->getName().getStringRef()];
        missingOps.push_back(op);
        continue;
      }
      for (auto &[i, gx] : *cs)
        accumulate(op->getOperand(i), gx);
    }
    e.loc = loc;
    if (!missing.empty()) {
      InFlightDiagnostic d = f.emitError()
                             << "tessera-autodiff: no gradient rule for:";
      for (auto &[name, count] : missing)
        d << " " << name << " (" << count << ")";
      for (Operation *op : missingOps)
        d.attachNote(op->getLoc()) << "here: " << op->getName();
      return failure();
    }

    SmallVector<Value> results{lossV};
    SmallVector<std::string> resultNames{"loss"};
    SmallVector<Value> grads;
    for (auto [i, pi] : llvm::enumerate(p)) {
      auto it = grad.find(pi);
      grads.push_back(it != grad.end() ? it->second
                                       : e.broadcastTo(e.scalar(0, et),
                                                       shapeOf(pi)));
    }
    if (optimizer == "sgd") {
      for (auto [i, pi] : llvm::enumerate(p)) {
        results.push_back(
            e.sub(pi, e.mul(grads[i], e.scalar(lr, tt(pi).getElementType()))));
        resultNames.push_back(names[i] + ".new");
      }
    } else if (optimizer == "adam") {
      Value one = e.scalar(1, et);
      Value t = e.add(step, one);
      Value c1 = e.sub(one, e.pow(e.scalar(beta1, et), t));
      Value c2 = e.sub(one, e.pow(e.scalar(beta2, et), t));
      SmallVector<Value> nm, nv;
      for (auto [i, pi] : llvm::enumerate(p)) {
        Value gi = grads[i];
        Value mi = e.add(e.mul(m[i], e.scalar(beta1, et)),
                         e.mul(gi, e.scalar(1 - beta1, et)));
        Value vi = e.add(e.mul(v[i], e.scalar(beta2, et)),
                         e.mul(e.mul(gi, gi), e.scalar(1 - beta2, et)));
        Value mhat = e.div(mi, c1), vhat = e.div(vi, c2);
        Value upd = e.div(mhat, e.add(e.unary<SqrtOp>(vhat), e.scalar(eps, et)));
        results.push_back(e.sub(pi, e.mul(upd, e.scalar(lr, et))));
        resultNames.push_back(names[i] + ".new");
        nm.push_back(mi);
        nv.push_back(vi);
      }
      for (auto [i, x] : llvm::enumerate(nm)) {
        results.push_back(x);
        resultNames.push_back(names[i] + ".adam_m.new");
      }
      for (auto [i, x] : llvm::enumerate(nv)) {
        results.push_back(x);
        resultNames.push_back(names[i] + ".adam_v.new");
      }
      results.push_back(t);
      resultNames.push_back("adam_step.new");
    }
    if (emitGradients || optimizer == "none")
      for (auto [i, gi] : llvm::enumerate(grads)) {
        results.push_back(gi);
        resultNames.push_back(names[i] + ".grad");
      }

    func::ReturnOp::create(b, loc, results);
    ret.erase();
    SmallVector<Type> types;
    for (Value r : results)
      types.push_back(r.getType());
    f.setFunctionType(FunctionType::get(f.getContext(),
                                        f.getFunctionType().getInputs(), types));
    SmallVector<DictionaryAttr> resAttrs;
    for (unsigned i = 0; i < results.size(); ++i)
      resAttrs.push_back(b.getDictionaryAttr(
          {b.getNamedAttr("tessera.name", nameAttr(resultNames[i]))}));
    f.setAllResultAttrs(resAttrs);
    f->setAttr("tessera.training_step",
               b.getDictionaryAttr(
                   {b.getNamedAttr("loss", nameAttr(loss)),
                    b.getNamedAttr("optimizer", nameAttr(optimizer)),
                    b.getNamedAttr("params", b.getI64IntegerAttr(p.size()))}));
    return success();
  }
};

} // namespace
} // namespace tessera
