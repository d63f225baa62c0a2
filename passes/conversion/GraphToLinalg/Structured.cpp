//===- Structured.cpp - contractions, windows, reductions, data movement --===//
#include "LoweringUtils.h"
#include "dialects/Graph/TesseraDialect.h"
#include "passes/conversion/GraphToTExpr/Passes.h"
#include "passes/conversion/TExprToLinalg/Passes.h"
#include "passes/derive/Bridge.h"
#include "mlir/IR/TypeUtilities.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace tessera::lowering {
namespace {
using utils::IteratorType;
constexpr IteratorType kPar = IteratorType::parallel;
constexpr IteratorType kRed = IteratorType::reduction;

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

AffineExpr d(MLIRContext *ctx, unsigned i) { return getAffineDimExpr(i, ctx); }

SmallVector<OpFoldResult> ofr(OpBuilder &b, ArrayRef<int64_t> v) {
  SmallVector<OpFoldResult> r;
  for (int64_t x : v)
    r.push_back(b.getIndexAttr(x));
  return r;
}

Value addF(OpBuilder &b, Location l, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return arith::AddFOp::create(b, l, x, y);
  return arith::AddIOp::create(b, l, x, y);
}
Value mulF(OpBuilder &b, Location l, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return arith::MulFOp::create(b, l, x, y);
  return arith::MulIOp::create(b, l, x, y);
}

/// Pads the two trailing spatial dims of an NCHW tensor with `value`.
/// Negative pads crop.
Value padSpatial(OpBuilder &b, Location l, Value in, ArrayRef<int64_t> pads,
                 double value) {
  auto ty = tensorType(in);
  // Crop negative pads first.
  SmallVector<int64_t> offs(4, 0), sizes(ty.getShape()), strides(4, 1);
  bool crop = false;
  for (int dim = 0; dim < 2; ++dim) {
    if (pads[dim] < 0) {
      offs[2 + dim] = -pads[dim];
      sizes[2 + dim] += pads[dim];
      crop = true;
    }
    if (pads[2 + dim] < 0) {
      sizes[2 + dim] += pads[2 + dim];
      crop = true;
    }
  }
  if (crop)
    in = tensor::ExtractSliceOp::create(b, l, in, ofr(b, offs), ofr(b, sizes),
                                        ofr(b, strides));
  SmallVector<int64_t> lo{0, 0, std::max<int64_t>(pads[0], 0),
                          std::max<int64_t>(pads[1], 0)};
  SmallVector<int64_t> hi{0, 0, std::max<int64_t>(pads[2], 0),
                          std::max<int64_t>(pads[3], 0)};
  if (llvm::all_of(lo, [](int64_t p) { return p == 0; }) &&
      llvm::all_of(hi, [](int64_t p) { return p == 0; }))
    return in;
  auto inTy = tensorType(in);
  SmallVector<int64_t> outShape(inTy.getShape());
  for (int i = 0; i < 4; ++i)
    outShape[i] += lo[i] + hi[i];
  auto outTy = RankedTensorType::get(outShape, inTy.getElementType());
  Value pv = scalar(b, l, inTy.getElementType(), value);
  return tensor::PadOp::create(b, l, outTy, in, ofr(b, lo), ofr(b, hi), pv);
}

/// Grouped 2-D convolution of an already padded NCHW input.
/// Loop order (n, g, fg, cg, kh, kw, oh, ow): the innermost loop walks the
/// output row contiguously.
Value convPadded(OpBuilder &b, Location l, Value in, Value w, Value bias,
                 ArrayRef<int64_t> strides, ArrayRef<int64_t> dil,
                 int64_t groups, RankedTensorType resTy) {
  MLIRContext *ctx = b.getContext();
  auto inTy = tensorType(in), wTy = tensorType(w);
  Type et = resTy.getElementType();
  int64_t N = inTy.getDimSize(0), C = inTy.getDimSize(1);
  int64_t F = wTy.getDimSize(0), KH = wTy.getDimSize(2), KW = wTy.getDimSize(3);
  int64_t OH = resTy.getDimSize(2), OW = resTy.getDimSize(3);
  int64_t G = groups, Cg = C / G, Fg = F / G;
  Value in5 = reshapeTo(b, l, in,
                        {N, G, Cg, inTy.getDimSize(2), inTy.getDimSize(3)});
  Value w5 = reshapeTo(b, l, w, {G, Fg, Cg, KH, KW});
  // Output initialised with the bias (or zero).
  SmallVector<int64_t> out5{N, G, Fg, OH, OW};
  Value init;
  if (bias) {
    Value b2 = reshapeTo(b, l, bias, {G, Fg});
    auto outTy = RankedTensorType::get(out5, et);
    init = elementwise(b, l, outTy, ValueRange{reshapeTo(b, l, b2, {1, G, Fg, 1, 1})},
                       [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  } else {
    init = filled(b, l, out5, et, 0.0);
  }
  // dims: 0 n, 1 g, 2 fg, 3 cg, 4 kh, 5 kw, 6 oh, 7 ow
  auto inMap = AffineMap::get(
      8, 0,
      {d(ctx, 0), d(ctx, 1), d(ctx, 3), d(ctx, 6) * strides[0] + d(ctx, 4) * dil[0],
       d(ctx, 7) * strides[1] + d(ctx, 5) * dil[1]},
      ctx);
  auto wMap = AffineMap::get(
      8, 0, {d(ctx, 1), d(ctx, 2), d(ctx, 3), d(ctx, 4), d(ctx, 5)}, ctx);
  auto outMap = AffineMap::get(
      8, 0, {d(ctx, 0), d(ctx, 1), d(ctx, 2), d(ctx, 6), d(ctx, 7)}, ctx);
  SmallVector<IteratorType> iters{kPar, kPar, kPar, kRed, kRed, kRed, kPar, kPar};
  auto gen = linalg::GenericOp::create(
      b, l, TypeRange{init.getType()}, ValueRange{in5, w5}, ValueRange{init},
      ArrayRef<AffineMap>{inMap, wMap, outMap}, iters,
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value p = mulF(nb, nl, a[0], a[1]);
        linalg::YieldOp::create(nb, nl, addF(nb, nl, a[2], p));
      });
  return reshapeTo(b, l, gen.getResult(0), resTy.getShape());
}

Value lowerConv(ConvOp op, OpBuilder &b) {
  Location l = op.getLoc();
  SmallVector<int64_t> pads(op.getPads());
  Value in = padSpatial(b, l, op.getInput(), pads, 0.0);
  return convPadded(b, l, in, op.getWeight(), op.getBias(), op.getStrides(),
                    op.getDilations(), op.getGroups(), op.getType());
}

/// Conv-transpose as a stride-1 conv over the zero-inserted input, padded by
/// dil*(k-1) - pad, with the kernel flipped and its channel dims swapped.
Value lowerConvTranspose(ConvTransposeOp op, OpBuilder &b) {
  Location l = op.getLoc();
  MLIRContext *ctx = b.getContext();
  auto inTy = tensorType(op.getInput()), wTy = tensorType(op.getWeight());
  Type et = inTy.getElementType();
  int64_t N = inTy.getDimSize(0), C = inTy.getDimSize(1);
  int64_t H = inTy.getDimSize(2), W = inTy.getDimSize(3);
  int64_t G = op.getGroups(), Cg = C / G, Fg = wTy.getDimSize(1);
  int64_t KH = wTy.getDimSize(2), KW = wTy.getDimSize(3);
  auto s = op.getStrides();
  auto dil = op.getDilations();
  auto p = op.getPads();
  auto op2 = op.getOutputPadding();
  // Zero-inserted input.
  Value x = op.getInput();
  if (s[0] != 1 || s[1] != 1) {
    SmallVector<int64_t> zshape{N, C, (H - 1) * s[0] + 1, (W - 1) * s[1] + 1};
    Value z = filled(b, l, zshape, et, 0.0);
    SmallVector<int64_t> offs(4, 0), sizes{N, C, H, W}, strides{1, 1, s[0], s[1]};
    x = tensor::InsertSliceOp::create(b, l, x, z, ofr(b, offs), ofr(b, sizes),
                                      ofr(b, strides));
  }
  SmallVector<int64_t> pads{dil[0] * (KH - 1) - p[0], dil[1] * (KW - 1) - p[1],
                            dil[0] * (KH - 1) - p[2] + op2[0],
                            dil[1] * (KW - 1) - p[3] + op2[1]};
  x = padSpatial(b, l, x, pads, 0.0);
  // Weight [C, Fg, KH, KW] = [G, Cg, Fg, KH, KW] -> flipped [G, Fg, Cg, KH, KW].
  Value w5 = reshapeTo(b, l, op.getWeight(), {G, Cg, Fg, KH, KW});
  auto flipTy = RankedTensorType::get({G, Fg, Cg, KH, KW}, et);
  auto inMap = AffineMap::get(
      5, 0,
      {d(ctx, 0), d(ctx, 2), d(ctx, 1), getAffineConstantExpr(KH - 1, ctx) - d(ctx, 3),
       getAffineConstantExpr(KW - 1, ctx) - d(ctx, 4)},
      ctx);
  auto gen = linalg::GenericOp::create(
      b, l, TypeRange{flipTy}, ValueRange{w5},
      ValueRange{emptyTensor(b, l, flipTy.getShape(), et)},
      ArrayRef<AffineMap>{inMap, b.getMultiDimIdentityMap(5)},
      SmallVector<IteratorType>(5, kPar),
      [](OpBuilder &nb, Location nl, ValueRange a) {
        linalg::YieldOp::create(nb, nl, a[0]);
      });
  Value wf = reshapeTo(b, l, gen.getResult(0), {G * Fg, Cg, KH, KW});
  SmallVector<int64_t> ones{1, 1};
  return convPadded(b, l, x, wf, op.getBias(), ones, dil, G, op.getType());
}

/// Window reduction over an NCHW tensor. Loop order (n, c, kh, kw, oh, ow).
Value poolWindow(OpBuilder &b, Location l, Value in, ArrayRef<int64_t> kernel,
                 ArrayRef<int64_t> strides, ArrayRef<int64_t> dil,
                 RankedTensorType resTy, bool isMax) {
  MLIRContext *ctx = b.getContext();
  Type et = resTy.getElementType();
  Value init = filled(b, l, resTy.getShape(), et, isMax ? lowest(et) : 0.0);
  Value window = emptyTensor(b, l, kernel, et);
  auto inMap = AffineMap::get(
      6, 0,
      {d(ctx, 0), d(ctx, 1), d(ctx, 4) * strides[0] + d(ctx, 2) * dil[0],
       d(ctx, 5) * strides[1] + d(ctx, 3) * dil[1]},
      ctx);
  auto winMap = AffineMap::get(6, 0, {d(ctx, 2), d(ctx, 3)}, ctx);
  auto outMap =
      AffineMap::get(6, 0, {d(ctx, 0), d(ctx, 1), d(ctx, 4), d(ctx, 5)}, ctx);
  SmallVector<IteratorType> iters{kPar, kPar, kRed, kRed, kPar, kPar};
  auto gen = linalg::GenericOp::create(
      b, l, TypeRange{resTy}, ValueRange{in, window}, ValueRange{init},
      ArrayRef<AffineMap>{inMap, winMap, outMap}, iters,
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value r = isMax ? (Value)arith::MaximumFOp::create(nb, nl, a[0], a[2])
                        : (Value)arith::AddFOp::create(nb, nl, a[0], a[2]);
        linalg::YieldOp::create(nb, nl, r);
      });
  return gen.getResult(0);
}

Value lowerMaxPool(MaxPoolOp op, OpBuilder &b) {
  Location l = op.getLoc();
  Value in = padSpatial(b, l, op.getInput(), op.getPads(),
                        lowest(op.getType().getElementType()));
  return poolWindow(b, l, in, op.getKernel(), op.getStrides(),
                    op.getDilations(), op.getType(), /*isMax=*/true);
}

Value lowerAvgPool(AvgPoolOp op, OpBuilder &b) {
  Location l = op.getLoc();
  auto resTy = op.getType();
  Type et = resTy.getElementType();
  auto k = op.getKernel();
  auto s = op.getStrides();
  auto p = op.getPads();
  Value in = padSpatial(b, l, op.getInput(), p, 0.0);
  SmallVector<int64_t> ones{1, 1};
  Value sum = poolWindow(b, l, in, k, s, ones, resTy, /*isMax=*/false);
  bool anyPad = llvm::any_of(p, [](int64_t v) { return v != 0; });
  if (op.getCountIncludePad() || !anyPad) {
    Value inv = scalar(b, l, et, 1.0 / double(k[0] * k[1]));
    return elementwise(b, l, resTy, sum,
                       [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                         return arith::MulFOp::create(nb, nl, a[0], inv);
                       });
  }
  // Divide by the number of in-bounds elements of each window.
  int64_t H = tensorType(op.getInput()).getDimSize(2);
  int64_t W = tensorType(op.getInput()).getDimSize(3);
  return elementwise(
      b, l, resTy, sum, [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        auto extent = [&](unsigned dim, int64_t stride, int64_t pad,
                          int64_t kk, int64_t size) -> Value {
          Value o = linalg::IndexOp::create(nb, nl, dim);
          auto ci = [&](int64_t v) {
            return arith::ConstantIndexOp::create(nb, nl, v);
          };
          Value start = arith::SubIOp::create(
              nb, nl, arith::MulIOp::create(nb, nl, o, ci(stride)), ci(pad));
          Value end = arith::AddIOp::create(nb, nl, start, ci(kk));
          Value lo = arith::MaxSIOp::create(nb, nl, start, ci(0));
          Value hi = arith::MinSIOp::create(nb, nl, end, ci(size));
          return arith::SubIOp::create(nb, nl, hi, lo);
        };
        Value cnt = arith::MulIOp::create(nb, nl, extent(2, s[0], p[0], k[0], H),
                                          extent(3, s[1], p[1], k[1], W));
        Value ci = arith::IndexCastOp::create(nb, nl, nb.getI64Type(), cnt);
        Value cf = arith::SIToFPOp::create(nb, nl, et, ci);
        return arith::DivFOp::create(nb, nl, a[0], cf);
      });
}

/// Reduces `in` over `axes` (sorted) without keeping dims.
Value reduceAxes(OpBuilder &b, Location l, Value in, ArrayRef<int64_t> axes,
                 double identity,
                 function_ref<Value(OpBuilder &, Location, Value, Value)> comb) {
  MLIRContext *ctx = b.getContext();
  auto ty = tensorType(in);
  int64_t rank = ty.getRank();
  SmallVector<int64_t> outShape;
  SmallVector<AffineExpr> outExprs;
  SmallVector<IteratorType> iters;
  for (int64_t i = 0; i < rank; ++i) {
    bool red = llvm::is_contained(axes, i);
    iters.push_back(red ? kRed : kPar);
    if (!red) {
      outShape.push_back(ty.getDimSize(i));
      outExprs.push_back(d(ctx, i));
    }
  }
  Value init = filled(b, l, outShape, ty.getElementType(), identity);
  auto gen = linalg::GenericOp::create(
      b, l, TypeRange{init.getType()}, ValueRange{in}, ValueRange{init},
      ArrayRef<AffineMap>{b.getMultiDimIdentityMap(rank),
                          AffineMap::get(rank, 0, outExprs, ctx)},
      iters, [&](OpBuilder &nb, Location nl, ValueRange a) {
        linalg::YieldOp::create(nb, nl, comb(nb, nl, a[0], a[1]));
      });
  return gen.getResult(0);
}

/// Shape of `in` with `axes` set to 1 (keepdims form).
SmallVector<int64_t> keptShape(RankedTensorType ty, ArrayRef<int64_t> axes) {
  SmallVector<int64_t> s(ty.getShape());
  for (int64_t a : axes)
    s[a] = 1;
  return s;
}

Value lowerReduce(Operation *op, ArrayRef<int64_t> axes, OpBuilder &b) {
  Location l = op->getLoc();
  Value in = op->getOperand(0);
  auto inTy = tensorType(in);
  auto resTy = cast<RankedTensorType>(op->getResult(0).getType());
  Type et = inTy.getElementType();
  bool f = isa<FloatType>(et);
  Value r;
  if (isa<ReduceSumOp, ReduceMeanOp>(op)) {
    r = reduceAxes(b, l, in, axes, 0.0, [](OpBuilder &nb, Location nl, Value x,
                                           Value acc) { return addF(nb, nl, x, acc); });
  } else if (isa<ReduceProdOp>(op)) {
    r = reduceAxes(b, l, in, axes, 1.0, [](OpBuilder &nb, Location nl, Value x,
                                           Value acc) { return mulF(nb, nl, x, acc); });
  } else if (isa<ReduceMaxOp>(op)) {
    r = reduceAxes(b, l, in, axes, lowest(et),
                   [f](OpBuilder &nb, Location nl, Value x, Value acc) -> Value {
                     if (f)
                       return arith::MaximumFOp::create(nb, nl, x, acc);
                     return arith::MaxSIOp::create(nb, nl, x, acc);
                   });
  } else {
    r = reduceAxes(b, l, in, axes, highest(et),
                   [f](OpBuilder &nb, Location nl, Value x, Value acc) -> Value {
                     if (f)
                       return arith::MinimumFOp::create(nb, nl, x, acc);
                     return arith::MinSIOp::create(nb, nl, x, acc);
                   });
  }
  if (isa<ReduceMeanOp>(op)) {
    int64_t count = 1;
    for (int64_t a : axes)
      count *= inTy.getDimSize(a);
    auto rTy = tensorType(r);
    r = elementwise(b, l, rTy, r,
                    [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                      if (f)
                        return arith::DivFOp::create(
                            nb, nl, a[0], scalar(nb, nl, et, double(count)));
                      return arith::DivSIOp::create(
                          nb, nl, a[0], scalar(nb, nl, et, double(count)));
                    });
  }
  return reshapeTo(b, l, r, resTy.getShape());
}

/// [..., M, K] x [..., K, N]; loop order (batch..., m, k, n).
Value lowerMatmul(MatmulOp op, OpBuilder &b) {
  Location l = op.getLoc();
  MLIRContext *ctx = b.getContext();
  auto resTy = op.getType();
  auto lTy = tensorType(op.getLhs()), rTy = tensorType(op.getRhs());
  int64_t rank = resTy.getRank(), nb = rank - 2;
  unsigned M = nb, K = nb + 1, Nd = nb + 2, nd = rank + 1;
  auto batchExprs = [&](RankedTensorType t) {
    SmallVector<AffineExpr> e;
    int64_t tb = t.getRank() - 2, off = nb - tb;
    for (int64_t i = 0; i < tb; ++i) {
      if (t.getDimSize(i) == 1 && resTy.getDimSize(i + off) != 1)
        e.push_back(getAffineConstantExpr(0, ctx));
      else
        e.push_back(d(ctx, i + off));
    }
    return e;
  };
  auto le = batchExprs(lTy);
  le.append({d(ctx, M), d(ctx, K)});
  auto re = batchExprs(rTy);
  re.append({d(ctx, K), d(ctx, Nd)});
  SmallVector<AffineExpr> oe;
  for (int64_t i = 0; i < nb; ++i)
    oe.push_back(d(ctx, i));
  oe.append({d(ctx, M), d(ctx, Nd)});
  SmallVector<IteratorType> iters(nd, kPar);
  iters[K] = kRed;
  Value init = filled(b, l, resTy.getShape(), resTy.getElementType(), 0.0);
  auto gen = linalg::GenericOp::create(
      b, l, TypeRange{resTy}, ValueRange{op.getLhs(), op.getRhs()},
      ValueRange{init},
      ArrayRef<AffineMap>{AffineMap::get(nd, 0, le, ctx),
                          AffineMap::get(nd, 0, re, ctx),
                          AffineMap::get(nd, 0, oe, ctx)},
      iters, [](OpBuilder &nb2, Location nl, ValueRange a) {
        Value p = mulF(nb2, nl, a[0], a[1]);
        linalg::YieldOp::create(nb2, nl, addF(nb2, nl, a[2], p));
      });
  return gen.getResult(0);
}

Value lowerBatchNorm(BatchNormOp op, OpBuilder &b) {
  Location l = op.getLoc();
  auto resTy = op.getType();
  int64_t rank = resTy.getRank();
  // Per-channel parameters as [1, C, 1, ...] for broadcasting.
  SmallVector<int64_t> pshape(rank, 1);
  pshape[1] = resTy.getDimSize(1);
  auto chan = [&](Value v) { return reshapeTo(b, l, v, pshape); };
  double eps = op.getEpsilon().convertToDouble();
  Type et = resTy.getElementType();
  return elementwise(
      b, l, resTy,
      ValueRange{op.getInput(), chan(op.getScale()), chan(op.getBias()),
                 chan(op.getMean()), chan(op.getVariance())},
      [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        Value ve = arith::AddFOp::create(nb, nl, a[4], scalar(nb, nl, et, eps));
        Value inv = math::RsqrtOp::create(nb, nl, ve);
        Value xc = arith::SubFOp::create(nb, nl, a[0], a[3]);
        Value y = arith::MulFOp::create(
            nb, nl, xc, arith::MulFOp::create(nb, nl, inv, a[1]));
        return arith::AddFOp::create(nb, nl, y, a[2]);
      });
}

Value lowerLayerNorm(LayerNormOp op, OpBuilder &b) {
  Location l = op.getLoc();
  auto resTy = op.getType();
  Type et = resTy.getElementType();
  int64_t rank = resTy.getRank(), axis = op.getAxis();
  SmallVector<int64_t> axes;
  int64_t count = 1;
  for (int64_t i = axis; i < rank; ++i) {
    axes.push_back(i);
    count *= resTy.getDimSize(i);
  }
  auto kept = keptShape(resTy, axes);
  Value invN = scalar(b, l, et, 1.0 / double(count));
  auto sum = [](OpBuilder &nb, Location nl, Value x, Value acc) {
    return addF(nb, nl, x, acc);
  };
  Value s = reshapeTo(b, l, reduceAxes(b, l, op.getInput(), axes, 0.0, sum), kept);
  auto keptTy = RankedTensorType::get(kept, et);
  Value mean = elementwise(b, l, keptTy, s,
                           [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                             return arith::MulFOp::create(nb, nl, a[0], invN);
                           });
  Value centered = elementwise(
      b, l, resTy, ValueRange{op.getInput(), mean},
      [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        return arith::SubFOp::create(nb, nl, a[0], a[1]);
      });
  Value sq = elementwise(b, l, resTy, centered,
                         [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                           return arith::MulFOp::create(nb, nl, a[0], a[0]);
                         });
  Value vs = reshapeTo(b, l, reduceAxes(b, l, sq, axes, 0.0, sum), kept);
  double eps = op.getEpsilon().convertToDouble();
  Value rstd = elementwise(
      b, l, keptTy, vs, [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        Value v = arith::MulFOp::create(nb, nl, a[0], invN);
        Value ve = arith::AddFOp::create(nb, nl, v, scalar(nb, nl, et, eps));
        return math::RsqrtOp::create(nb, nl, ve);
      });
  SmallVector<Value> ins{centered, rstd};
  if (op.getScale())
    ins.push_back(op.getScale());
  if (op.getBias())
    ins.push_back(op.getBias());
  bool hasScale = (bool)op.getScale(), hasBias = (bool)op.getBias();
  return elementwise(
      b, l, resTy, ins, [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        Value y = arith::MulFOp::create(nb, nl, a[0], a[1]);
        unsigned i = 2;
        if (hasScale)
          y = arith::MulFOp::create(nb, nl, y, a[i++]);
        if (hasBias)
          y = arith::AddFOp::create(nb, nl, y, a[i++]);
        return y;
      });
}

Value lowerSoftmax(SoftmaxOp op, OpBuilder &b) {
  Location l = op.getLoc();
  auto resTy = op.getType();
  Type et = resTy.getElementType();
  SmallVector<int64_t> axes{(int64_t)op.getAxis()};
  auto kept = keptShape(resTy, axes);
  Value mx = reshapeTo(
      b, l,
      reduceAxes(b, l, op.getInput(), axes, lowest(et),
                 [](OpBuilder &nb, Location nl, Value x, Value acc) -> Value {
                   return arith::MaximumFOp::create(nb, nl, x, acc);
                 }),
      kept);
  Value shifted = elementwise(
      b, l, resTy, ValueRange{op.getInput(), mx},
      [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        return arith::SubFOp::create(nb, nl, a[0], a[1]);
      });
  Value e = elementwise(b, l, resTy, shifted,
                        [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                          return math::ExpOp::create(nb, nl, a[0]);
                        });
  Value s = reshapeTo(b, l,
                      reduceAxes(b, l, e, axes, 0.0,
                                 [](OpBuilder &nb, Location nl, Value x,
                                    Value acc) { return addF(nb, nl, x, acc); }),
                      kept);
  if (op.getLog())
    return elementwise(b, l, resTy, ValueRange{shifted, s},
                       [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                         return arith::SubFOp::create(
                             nb, nl, a[0], math::LogOp::create(nb, nl, a[1]));
                       });
  return elementwise(b, l, resTy, ValueRange{e, s},
                     [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                       return arith::DivFOp::create(nb, nl, a[0], a[1]);
                     });
}

Value lowerConcat(ConcatOp op, OpBuilder &b) {
  Location l = op.getLoc();
  auto resTy = op.getType();
  Value acc = emptyTensor(b, l, resTy.getShape(), resTy.getElementType());
  int64_t axis = op.getAxis(), off = 0;
  for (Value in : op.getInputs()) {
    auto ty = tensorType(in);
    SmallVector<int64_t> offs(resTy.getRank(), 0), strides(resTy.getRank(), 1);
    offs[axis] = off;
    acc = tensor::InsertSliceOp::create(b, l, in, acc, ofr(b, offs),
                                        ofr(b, ty.getShape()), ofr(b, strides));
    off += ty.getDimSize(axis);
  }
  return acc;
}

Value lowerGather(GatherOp op, OpBuilder &b) {
  Location l = op.getLoc();
  MLIRContext *ctx = b.getContext();
  auto resTy = op.getType();
  auto inTy = tensorType(op.getInput());
  auto idxTy = tensorType(op.getIndices());
  int64_t axis = op.getAxis(), ir = idxTy.getRank(), rank = resTy.getRank();
  SmallVector<AffineExpr> idxExprs;
  for (int64_t i = 0; i < ir; ++i)
    idxExprs.push_back(d(ctx, axis + i));
  Value input = op.getInput();
  int64_t extent = inTy.getDimSize(axis);
  auto gen = linalg::GenericOp::create(
      b, l, TypeRange{resTy}, ValueRange{op.getIndices()},
      ValueRange{emptyTensor(b, l, resTy.getShape(), resTy.getElementType())},
      ArrayRef<AffineMap>{AffineMap::get(rank, 0, idxExprs, ctx),
                          b.getMultiDimIdentityMap(rank)},
      SmallVector<IteratorType>(rank, kPar),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value idx = arith::IndexCastOp::create(nb, nl, nb.getIndexType(), a[0]);
        auto ci = [&](int64_t v) {
          return arith::ConstantIndexOp::create(nb, nl, v);
        };
        // Negative indices count from the end; clamp to stay in bounds.
        Value neg = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt,
                                          idx, ci(0));
        Value wrapped = arith::AddIOp::create(nb, nl, idx, ci(extent));
        idx = arith::SelectOp::create(nb, nl, neg, wrapped, idx);
        idx = arith::MaxSIOp::create(nb, nl, idx, ci(0));
        idx = arith::MinSIOp::create(nb, nl, idx, ci(extent - 1));
        SmallVector<Value> coords;
        for (int64_t i = 0; i < axis; ++i)
          coords.push_back(linalg::IndexOp::create(nb, nl, i));
        coords.push_back(idx);
        for (int64_t i = axis + 1; i < inTy.getRank(); ++i)
          coords.push_back(linalg::IndexOp::create(nb, nl, i - 1 + ir));
        Value v = tensor::ExtractOp::create(nb, nl, input, coords);
        linalg::YieldOp::create(nb, nl, v);
      });
  return gen.getResult(0);
}

/// Strided slice. All-positive steps become tensor.extract_slice; a negative
/// step (a reversed walk) becomes a linalg.generic whose input map reads
/// `start + step * i` per dim, which affine maps express directly.
Value lowerSlice(SliceOp op, OpBuilder &b) {
  Location l = op.getLoc();
  auto resTy = op.getType();
  if (llvm::all_of(op.getSteps(), [](int64_t s) { return s > 0; }))
    return tensor::ExtractSliceOp::create(
        b, l, resTy, op.getInput(), ofr(b, op.getStarts()),
        ofr(b, resTy.getShape()), ofr(b, op.getSteps()));
  MLIRContext *ctx = b.getContext();
  int64_t rank = resTy.getRank();
  SmallVector<AffineExpr> in;
  for (int64_t i = 0; i < rank; ++i)
    in.push_back(d(ctx, i) * op.getSteps()[i] + op.getStarts()[i]);
  auto gen = linalg::GenericOp::create(
      b, l, TypeRange{resTy}, ValueRange{op.getInput()},
      ValueRange{emptyTensor(b, l, resTy.getShape(), resTy.getElementType())},
      ArrayRef<AffineMap>{AffineMap::get(rank, 0, in, ctx),
                          b.getMultiDimIdentityMap(rank)},
      SmallVector<IteratorType>(rank, kPar),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        linalg::YieldOp::create(nb, nl, a[0]);
      });
  return gen.getResult(0);
}
} // namespace

FailureOr<Value> lowerStructuredOp(Operation *op, OpBuilder &b) {
  Location l = op->getLoc();
  return llvm::TypeSwitch<Operation *, FailureOr<Value>>(op)
      .Case([&](ConstantOp c) -> FailureOr<Value> {
        return (Value)arith::ConstantOp::create(b, l, c.getType(),
                                                cast<TypedAttr>(c.getValue()));
      })
      .Case([&](MatmulOp o) -> FailureOr<Value> { return lowerMatmul(o, b); })
      .Case([&](ConvOp o) -> FailureOr<Value> { return lowerConv(o, b); })
      .Case<G2bmmOp, GbmmOp>([&](Operation *o) -> FailureOr<Value> {
        // Banded matmuls lower through their expression (one generic).
        std::string why;
        auto e = expressionOf(o, why);
        if (failed(e))
          return o->emitOpError() << why, failure();
        Value v = derive::scopeToOps(
            b, o->getLoc(), **e, SmallVector<Value>(o->getOperands()),
            getElementTypeOrSelf(o->getResult(0).getType()));
        auto scope = v.getDefiningOp<texpr::ScopeOp>();
        auto r = lowerScopeToLinalg(b, scope);
        scope.erase();
        return r;
      })
      .Case([&](ConvTransposeOp o) -> FailureOr<Value> {
        return lowerConvTranspose(o, b);
      })
      .Case([&](MaxPoolOp o) -> FailureOr<Value> { return lowerMaxPool(o, b); })
      .Case([&](AvgPoolOp o) -> FailureOr<Value> { return lowerAvgPool(o, b); })
      .Case([&](BatchNormOp o) -> FailureOr<Value> {
        return lowerBatchNorm(o, b);
      })
      .Case([&](LayerNormOp o) -> FailureOr<Value> {
        return lowerLayerNorm(o, b);
      })
      .Case([&](SoftmaxOp o) -> FailureOr<Value> { return lowerSoftmax(o, b); })
      .Case<ReduceSumOp, ReduceMeanOp, ReduceMaxOp, ReduceMinOp, ReduceProdOp>(
          [&](auto o) -> FailureOr<Value> {
            return lowerReduce(o, o.getAxes(), b);
          })
      .Case([&](ReshapeOp o) -> FailureOr<Value> {
        return reshapeTo(b, l, o.getInput(), o.getType().getShape());
      })
      .Case([&](TransposeOp o) -> FailureOr<Value> {
        Value init = emptyTensor(b, l, o.getType().getShape(),
                                 o.getType().getElementType());
        return linalg::TransposeOp::create(b, l, o.getInput(), init,
                                           o.getPerm())
            .getResult()[0];
      })
      .Case([&](ConcatOp o) -> FailureOr<Value> { return lowerConcat(o, b); })
      .Case([&](SliceOp o) -> FailureOr<Value> { return lowerSlice(o, b); })
      .Case([&](GatherOp o) -> FailureOr<Value> { return lowerGather(o, b); })
      .Case([&](PadOp o) -> FailureOr<Value> {
        auto ty = o.getType();
        Value pv =
            scalar(b, l, ty.getElementType(), o.getValue().convertToDouble());
        return (Value)tensor::PadOp::create(b, l, ty, o.getInput(),
                                            ofr(b, o.getLow()),
                                            ofr(b, o.getHigh()), pv);
      })
      .Default([&](Operation *) -> FailureOr<Value> {
        return lowerElementwiseOp(op, b);
      });
}

} // namespace tessera::lowering
