//===- Elementwise.cpp - elementwise tessera ops to linalg.generic --------===//
#include "LoweringUtils.h"
#include "dialects/Graph/TesseraDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/TypeSwitch.h"
#include <cmath>
#include <limits>

using namespace mlir;

namespace tessera::lowering {

Value emptyTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                  Type elementType) {
  return tensor::EmptyOp::create(b, loc, shape, elementType);
}

Value scalar(OpBuilder &b, Location loc, Type type, double value) {
  if (auto ft = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(ft, value));
  if (type.isInteger(1))
    return arith::ConstantOp::create(b, loc, b.getBoolAttr(value != 0));
  if (auto it = dyn_cast<IntegerType>(type)) {
    // Clamp infinities to the integer range for reduction identities.
    unsigned w = it.getWidth();
    int64_t v;
    if (value >= std::ldexp(1.0, w - 1))
      v = (int64_t)((w >= 64) ? std::numeric_limits<int64_t>::max()
                              : (int64_t(1) << (w - 1)) - 1);
    else if (value <= -std::ldexp(1.0, w - 1))
      v = (w >= 64) ? std::numeric_limits<int64_t>::min()
                    : -(int64_t(1) << (w - 1));
    else
      v = (int64_t)value;
    return arith::ConstantOp::create(b, loc, b.getIntegerAttr(it, v));
  }
  llvm_unreachable("unsupported scalar type");
}

Value filled(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Type et,
             double value) {
  Value init = emptyTensor(b, loc, shape, et);
  Value v = scalar(b, loc, et, value);
  return linalg::FillOp::create(b, loc, v, init).getResult(0);
}

double lowest(Type t) {
  return isa<FloatType>(t) ? -std::numeric_limits<double>::infinity()
                           : -std::ldexp(1.0, 64);
}
double highest(Type t) {
  return isa<FloatType>(t) ? std::numeric_limits<double>::infinity()
                           : std::ldexp(1.0, 64);
}

AffineMap broadcastMap(MLIRContext *ctx, ArrayRef<int64_t> operandShape,
                       ArrayRef<int64_t> resultShape) {
  unsigned rank = resultShape.size();
  unsigned off = rank - operandShape.size();
  SmallVector<AffineExpr> exprs;
  for (auto [i, d] : llvm::enumerate(operandShape)) {
    if (d == 1 && resultShape[i + off] != 1)
      exprs.push_back(getAffineConstantExpr(0, ctx));
    else
      exprs.push_back(getAffineDimExpr(i + off, ctx));
  }
  return AffineMap::get(rank, 0, exprs, ctx);
}

Value elementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                  ValueRange inputs, BodyFn body) {
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps;
  for (Value in : inputs)
    maps.push_back(broadcastMap(
        ctx, cast<RankedTensorType>(in.getType()).getShape(),
        resultType.getShape()));
  maps.push_back(b.getMultiDimIdentityMap(resultType.getRank()));
  SmallVector<utils::IteratorType> iters(resultType.getRank(),
                                         utils::IteratorType::parallel);
  Value init = emptyTensor(b, loc, resultType.getShape(),
                           resultType.getElementType());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value r = body(nb, nl, args.drop_back());
        linalg::YieldOp::create(nb, nl, r);
      });
  return generic.getResult(0);
}

Value reshapeTo(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> shape) {
  auto srcTy = cast<RankedTensorType>(v.getType());
  if (srcTy.getShape() == shape)
    return v;
  auto dstTy = RankedTensorType::get(shape, srcTy.getElementType());
  // Collapse to rank 1 (or rank 0), then expand.
  Value flat = v;
  int64_t n = srcTy.getNumElements();
  if (srcTy.getRank() != 1) {
    SmallVector<ReassociationIndices> re;
    if (srcTy.getRank() > 0) {
      ReassociationIndices all;
      for (int64_t i = 0; i < srcTy.getRank(); ++i)
        all.push_back(i);
      re.push_back(all);
      flat = tensor::CollapseShapeOp::create(
          b, loc, RankedTensorType::get({n}, srcTy.getElementType()), v, re);
    } else {
      flat = tensor::ExpandShapeOp::create(
          b, loc, RankedTensorType::get({1}, srcTy.getElementType()), v, re);
    }
  }
  if (dstTy.getRank() == 1)
    return flat;
  SmallVector<ReassociationIndices> re;
  if (dstTy.getRank() == 0)
    return tensor::CollapseShapeOp::create(b, loc, dstTy, flat, re);
  ReassociationIndices all;
  for (int64_t i = 0; i < dstTy.getRank(); ++i)
    all.push_back(i);
  re.push_back(all);
  return tensor::ExpandShapeOp::create(b, loc, dstTy, flat, re);
}

namespace {
bool isF(Type t) { return isa<FloatType>(t); }

Value sigmoid(OpBuilder &b, Location l, Value x) {
  Type t = x.getType();
  Value one = scalar(b, l, t, 1.0);
  Value e = math::ExpOp::create(b, l, arith::NegFOp::create(b, l, x));
  return arith::DivFOp::create(b, l, one, arith::AddFOp::create(b, l, one, e));
}

Value maxOf(OpBuilder &b, Location l, Value x, Value y) {
  if (isF(x.getType()))
    return arith::MaximumFOp::create(b, l, x, y);
  if (x.getType().isInteger(1))
    return arith::OrIOp::create(b, l, x, y);
  return arith::MaxSIOp::create(b, l, x, y);
}
Value minOf(OpBuilder &b, Location l, Value x, Value y) {
  if (isF(x.getType()))
    return arith::MinimumFOp::create(b, l, x, y);
  if (x.getType().isInteger(1))
    return arith::AndIOp::create(b, l, x, y);
  return arith::MinSIOp::create(b, l, x, y);
}

/// Scalar body of a unary op, or null if unsupported for the element type.
Value unaryBody(Operation *op, OpBuilder &b, Location l, Value x) {
  Type t = x.getType();
  bool f = isF(t);
  auto fc = [&](double v) { return scalar(b, l, t, v); };
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](NegOp) -> Value {
        return f ? (Value)arith::NegFOp::create(b, l, x)
                 : (Value)arith::SubIOp::create(b, l, fc(0), x);
      })
      .Case([&](AbsOp) -> Value {
        return f ? (Value)math::AbsFOp::create(b, l, x)
                 : (Value)math::AbsIOp::create(b, l, x);
      })
      .Case([&](ReluOp) { return maxOf(b, l, x, fc(0)); })
      .Case([&](NotOp) -> Value {
        return t.isInteger(1) ? arith::XOrIOp::create(b, l, x, fc(1)) : nullptr;
      })
      .Case([&](ClipOp c) {
        auto cl = cast<ClipOp>(op);
        return minOf(b, l, maxOf(b, l, x, fc(cl.getMin().convertToDouble())),
                     fc(cl.getMax().convertToDouble()));
      })
      .Default([&](Operation *) -> Value {
        if (!f)
          return nullptr;
        return llvm::TypeSwitch<Operation *, Value>(op)
            .Case([&](SqrtOp) { return math::SqrtOp::create(b, l, x); })
            .Case([&](RsqrtOp) { return math::RsqrtOp::create(b, l, x); })
            .Case([&](ExpOp) { return math::ExpOp::create(b, l, x); })
            .Case([&](LogOp) { return math::LogOp::create(b, l, x); })
            .Case([&](TanhOp) { return math::TanhOp::create(b, l, x); })
            .Case([&](ErfOp) { return math::ErfOp::create(b, l, x); })
            .Case([&](FloorOp) { return math::FloorOp::create(b, l, x); })
            .Case([&](CeilOp) { return math::CeilOp::create(b, l, x); })
            .Case([&](SinOp) { return math::SinOp::create(b, l, x); })
            .Case([&](CosOp) { return math::CosOp::create(b, l, x); })
            .Case([&](ReciprocalOp) {
              return arith::DivFOp::create(b, l, fc(1), x);
            })
            .Case([&](SigmoidOp) { return sigmoid(b, l, x); })
            .Case([&](SiluOp) {
              return arith::MulFOp::create(b, l, x, sigmoid(b, l, x));
            })
            .Case([&](GeluOp) {
              Value s = arith::MulFOp::create(b, l, x, fc(M_SQRT1_2));
              Value e = math::ErfOp::create(b, l, s);
              Value p = arith::AddFOp::create(b, l, e, fc(1));
              Value h = arith::MulFOp::create(b, l, x, fc(0.5));
              return arith::MulFOp::create(b, l, h, p);
            })
            .Case([&](HardSwishOp) {
              Value s = arith::AddFOp::create(b, l, x, fc(3));
              Value r = minOf(b, l, maxOf(b, l, s, fc(0)), fc(6));
              Value m = arith::MulFOp::create(b, l, x, r);
              return arith::DivFOp::create(b, l, m, fc(6));
            })
            .Case([&](LeakyReluOp lr) {
              Value ax = arith::MulFOp::create(
                  b, l, x, fc(lr.getAlpha().convertToDouble()));
              Value ge = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE,
                                               x, fc(0));
              return arith::SelectOp::create(b, l, ge, x, ax);
            })
            .Case([&](HardSigmoidOp hs) {
              Value ax = arith::MulFOp::create(
                  b, l, x, fc(hs.getAlpha().convertToDouble()));
              Value y = arith::AddFOp::create(
                  b, l, ax, fc(hs.getBeta().convertToDouble()));
              return minOf(b, l, maxOf(b, l, y, fc(0)), fc(1));
            })
            .Default([](Operation *) -> Value { return nullptr; });
      });
}

Value binaryBody(Operation *op, OpBuilder &b, Location l, Value x, Value y) {
  Type t = x.getType();
  bool f = isF(t);
  using FP = arith::CmpFPredicate;
  using IP = arith::CmpIPredicate;
  auto cmp = [&](FP fp, IP ip) -> Value {
    if (f)
      return arith::CmpFOp::create(b, l, fp, x, y);
    return arith::CmpIOp::create(b, l, ip, x, y);
  };
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](AddOp) -> Value {
        return f ? (Value)arith::AddFOp::create(b, l, x, y)
                 : (Value)arith::AddIOp::create(b, l, x, y);
      })
      .Case([&](SubOp) -> Value {
        return f ? (Value)arith::SubFOp::create(b, l, x, y)
                 : (Value)arith::SubIOp::create(b, l, x, y);
      })
      .Case([&](MulOp) -> Value {
        return f ? (Value)arith::MulFOp::create(b, l, x, y)
                 : (Value)arith::MulIOp::create(b, l, x, y);
      })
      .Case([&](DivOp) -> Value {
        return f ? (Value)arith::DivFOp::create(b, l, x, y)
                 : (Value)arith::DivSIOp::create(b, l, x, y);
      })
      .Case([&](PowOp) -> Value {
        return f ? (Value)math::PowFOp::create(b, l, x, y) : nullptr;
      })
      .Case([&](MaxOp) { return maxOf(b, l, x, y); })
      .Case([&](MinOp) { return minOf(b, l, x, y); })
      .Case([&](AndOp) { return arith::AndIOp::create(b, l, x, y); })
      .Case([&](OrOp) { return arith::OrIOp::create(b, l, x, y); })
      .Case([&](EqOp) { return cmp(FP::OEQ, IP::eq); })
      .Case([&](LtOp) { return cmp(FP::OLT, IP::slt); })
      .Case([&](LeOp) { return cmp(FP::OLE, IP::sle); })
      .Case([&](GtOp) { return cmp(FP::OGT, IP::sgt); })
      .Case([&](GeOp) { return cmp(FP::OGE, IP::sge); })
      .Default([](Operation *) -> Value { return nullptr; });
}

Value castBody(OpBuilder &b, Location l, Value x, Type to) {
  Type from = x.getType();
  if (from == to)
    return x;
  auto ff = dyn_cast<FloatType>(from), tf = dyn_cast<FloatType>(to);
  if (ff && tf)
    return ff.getWidth() < tf.getWidth()
               ? (Value)arith::ExtFOp::create(b, l, to, x)
               : (Value)arith::TruncFOp::create(b, l, to, x);
  if (to.isInteger(1)) {
    if (ff)
      return arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNE, x,
                                   scalar(b, l, from, 0));
    return arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, x,
                                 scalar(b, l, from, 0));
  }
  if (tf)
    return from.isInteger(1) ? (Value)arith::UIToFPOp::create(b, l, to, x)
                             : (Value)arith::SIToFPOp::create(b, l, to, x);
  if (ff)
    return arith::FPToSIOp::create(b, l, to, x);
  unsigned fw = from.getIntOrFloatBitWidth(), tw = to.getIntOrFloatBitWidth();
  if (fw < tw)
    return from.isInteger(1) ? (Value)arith::ExtUIOp::create(b, l, to, x)
                             : (Value)arith::ExtSIOp::create(b, l, to, x);
  return arith::TruncIOp::create(b, l, to, x);
}
} // namespace

FailureOr<Value> lowerElementwiseOp(Operation *op, OpBuilder &b) {
  Location loc = op->getLoc();
  auto resTy = cast<RankedTensorType>(op->getResult(0).getType());
  bool unsupported = false;
  auto guard = [&](Value v) {
    if (!v)
      unsupported = true;
    return v ? v : scalar(b, loc, resTy.getElementType(), 0);
  };
  Value result;
  if (auto cast = dyn_cast<CastOp>(op)) {
    result = elementwise(b, loc, resTy, cast.getInput(),
                         [&](OpBuilder &nb, Location nl, ValueRange a) {
                           return castBody(nb, nl, a[0],
                                           resTy.getElementType());
                         });
  } else if (auto bc = dyn_cast<BroadcastOp>(op)) {
    result = elementwise(b, loc, resTy, bc.getInput(),
                         [](OpBuilder &, Location, ValueRange a) {
                           return a[0];
                         });
  } else if (auto w = dyn_cast<WhereOp>(op)) {
    result = elementwise(
        b, loc, resTy, ValueRange{w.getCond(), w.getLhs(), w.getRhs()},
        [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
          return arith::SelectOp::create(nb, nl, a[0], a[1], a[2]);
        });
  } else if (op->getNumOperands() == 1) {
    result = elementwise(b, loc, resTy, op->getOperand(0),
                         [&](OpBuilder &nb, Location nl, ValueRange a) {
                           return guard(unaryBody(op, nb, nl, a[0]));
                         });
  } else if (op->getNumOperands() == 2) {
    result = elementwise(b, loc, resTy, op->getOperands(),
                         [&](OpBuilder &nb, Location nl, ValueRange a) {
                           return guard(binaryBody(op, nb, nl, a[0], a[1]));
                         });
  } else {
    return failure();
  }
  if (unsupported) {
    if (Operation *def = result.getDefiningOp())
      def->erase();
    return op->emitOpError("is not supported for element type ")
           << getElementTypeOrSelf(op->getOperand(0).getType());
  }
  return result;
}

} // namespace tessera::lowering
