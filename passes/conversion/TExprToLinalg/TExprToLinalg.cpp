//===- TExprToLinalg.cpp - eOperators to linalg.generic -------------------===//
#include "passes/conversion/TExprToLinalg/Passes.h"
#include "dialects/TExpr/TExprDialect.h"
#include "passes/derive/Bridge.h"

#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace tessera::derive;

namespace tessera {
#define GEN_PASS_DEF_CONVERTTEXPRTOLINALG
#include "passes/conversion/TExprToLinalg/Passes.h.inc"

namespace {
struct BodyBuilder {
  OpBuilder &b;
  Location loc;
  const Scope &s;
  ArrayRef<Value> inputs;
  Type et;
  ArrayRef<int> inputArg;  ///< per access (pre-order): block arg or -1
  ValueRange args;
  SmallVector<Value> dims;
  unsigned counter = 0;

  Value cst(double v) {
    return arith::ConstantOp::create(b, loc, et, b.getFloatAttr(et, v));
  }
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

  Value node(const Node &n) {
    switch (n.kind) {
    case NodeKind::Access:
      return access(n);
    case NodeKind::Const:
      return cst(n.value);
    case NodeKind::Fn: {
      Value x = node(n.ops[0]);
      if (n.fn == "relu")
        return arith::MaximumFOp::create(b, loc, x, cst(0));
      if (n.fn == "tanh")
        return math::TanhOp::create(b, loc, x);
      if (n.fn == "exp")
        return math::ExpOp::create(b, loc, x);
      if (n.fn == "neg")
        return arith::NegFOp::create(b, loc, x);
      Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
      return arith::DivFOp::create(b, loc, cst(1),
                                   arith::AddFOp::create(b, loc, cst(1), e));
    }
    default:
      break;
    }
    Value x = node(n.ops[0]), y = node(n.ops[1]);
    switch (n.kind) {
    case NodeKind::Add:
      return arith::AddFOp::create(b, loc, x, y);
    case NodeKind::Sub:
      return arith::SubFOp::create(b, loc, x, y);
    case NodeKind::Mul:
      return arith::MulFOp::create(b, loc, x, y);
    case NodeKind::Div:
      return arith::DivFOp::create(b, loc, x, y);
    default:
      return arith::MaximumFOp::create(b, loc, x, y);
    }
  }

  Value access(const Node &n) {
    int arg = inputArg[counter++];
    if (arg >= 0)
      return args[arg];
    const Source &src = s.srcs[n.src];
    Value ok;
    SmallVector<Value> clamped;
    for (auto [k, e] : llvm::enumerate(n.idx)) {
      Value v = affine::expandAffineExpr(b, loc, e, dims, {});
      Value lo = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, v,
                                       idx(0));
      Value hi = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, v,
                                       idx(src.shape[k]));
      Value in = arith::AndIOp::create(b, loc, lo, hi);
      ok = ok ? arith::AndIOp::create(b, loc, ok, in).getResult() : in;
      Value c = arith::MaxSIOp::create(b, loc, v, idx(0));
      clamped.push_back(
          arith::MinSIOp::create(b, loc, c, idx(src.shape[k] - 1)));
    }
    Value x = tensor::ExtractOp::create(b, loc, inputs[src.input], clamped);
    if (!ok)
      return x;
    return arith::SelectOp::create(b, loc, ok, x, cst(n.value));
  }
};
} // namespace

FailureOr<Value> lowerScopeToLinalg(OpBuilder &b, texpr::ScopeOp op) {
  SmallVector<Value> inputs;
  auto sp = scopeFromOp(op, inputs, /*nestScopes=*/false);
  if (failed(sp))
    return failure();
  const Scope &s = **sp;
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  auto resTy = cast<RankedTensorType>(op.getType());
  Type et = resTy.getElementType();
  unsigned L = s.numLoops(), D = s.numDims();
  auto ranges = s.ranges();

  // Iteration variable i_k = x_k - lo_k.
  SmallVector<AffineExpr> shift;
  for (unsigned k = 0; k < D; ++k)
    shift.push_back(getAffineDimExpr(k, ctx) + ranges[k].lo);

  SmallVector<Value> genInputs;
  SmallVector<AffineMap> maps;
  SmallVector<int> inputArg;
  forEachAccess(s.body, [&](const Node &a) {
    if (readsThroughGather(s, a)) {
      inputArg.push_back(-1);
      return;
    }
    const Source &src = s.srcs[a.src];
    SmallVector<AffineExpr> res;
    for (AffineExpr e : a.idx)
      res.push_back(e.replaceDimsAndSymbols(shift, {}));
    inputArg.push_back(genInputs.size());
    genInputs.push_back(inputs[src.input]);
    maps.push_back(AffineMap::get(D, 0, res, ctx));
  });
  // Every loop dim must appear alone in some map: the output covers the
  // traversal dims; a carrier operand covers uncovered summation dims.
  llvm::SmallBitVector covered(D);
  for (unsigned k = 0; k < L; ++k)
    covered.set(k);
  for (AffineMap m : maps)
    for (AffineExpr e : m.getResults())
      if (auto d = dyn_cast<AffineDimExpr>(e))
        covered.set(d.getPosition());
  SmallVector<AffineExpr> carrierDims;
  SmallVector<int64_t> carrierShape;
  for (unsigned k = L; k < D; ++k)
    if (!covered.test(k)) {
      carrierDims.push_back(getAffineDimExpr(k, ctx));
      carrierShape.push_back(ranges[k].size());
    }
  if (!carrierDims.empty()) {
    genInputs.push_back(tensor::EmptyOp::create(b, loc, carrierShape, et));
    maps.push_back(AffineMap::get(D, 0, carrierDims, ctx));
  }
  SmallVector<int64_t> outShape;
  SmallVector<AffineExpr> outDims;
  for (unsigned k = 0; k < L; ++k) {
    outShape.push_back(ranges[k].size());
    outDims.push_back(getAffineDimExpr(k, ctx));
  }
  maps.push_back(AffineMap::get(D, 0, outDims, ctx));
  double init = s.maxCombiner ? -std::numeric_limits<double>::infinity() : 0.0;
  Value empty = tensor::EmptyOp::create(b, loc, outShape, et);
  Value initV = arith::ConstantOp::create(b, loc, et, b.getFloatAttr(et, init));
  Value out = linalg::FillOp::create(b, loc, initV, empty).getResult(0);
  SmallVector<utils::IteratorType> iters(L, utils::IteratorType::parallel);
  iters.append(D - L, utils::IteratorType::reduction);
  auto gen = linalg::GenericOp::create(
      b, loc, TypeRange{out.getType()}, genInputs, ValueRange{out}, maps,
      iters, [&](OpBuilder &nb, Location nl, ValueRange args) {
        BodyBuilder bb{nb, nl, s, inputs, et, inputArg, args, {}};
        for (unsigned k = 0; k < D; ++k) {
          Value i = linalg::IndexOp::create(nb, nl, k);
          bb.dims.push_back(ranges[k].lo
                                ? arith::AddIOp::create(nb, nl, i,
                                                        bb.idx(ranges[k].lo))
                                      .getResult()
                                : i);
        }
        Value v = bb.node(s.body);
        Value acc = args.back();
        Value r = s.maxCombiner
                      ? arith::MaximumFOp::create(nb, nl, acc, v).getResult()
                      : arith::AddFOp::create(nb, nl, acc, v).getResult();
        linalg::YieldOp::create(nb, nl, r);
      });
  Value result = gen.getResult(0);
  bool padded = false;
  SmallVector<OpFoldResult> lo, hi;
  for (unsigned k = 0; k < L; ++k) {
    padded |= s.padLo[k] || s.padHi[k];
    lo.push_back(b.getIndexAttr(s.padLo[k]));
    hi.push_back(b.getIndexAttr(s.padHi[k]));
  }
  if (padded) {
    Value zero = arith::ConstantOp::create(b, loc, et, b.getFloatAttr(et, 0));
    result = tensor::PadOp::create(b, loc, resTy, result, lo, hi, zero);
  }
  return result;
}

namespace {
struct ConvertTExprToLinalgPass
    : impl::ConvertTExprToLinalgBase<ConvertTExprToLinalgPass> {
  void runOnOperation() override {
    SmallVector<texpr::ScopeOp> scopes;
    getOperation().walk([&](texpr::ScopeOp op) { scopes.push_back(op); });
    // Operands before users: walk order is program order.
    for (texpr::ScopeOp op : scopes) {
      OpBuilder b(op);
      auto v = lowerScopeToLinalg(b, op);
      if (failed(v))
        return signalPassFailure();
      op.getResult().replaceAllUsesWith(*v);
      op.erase();
    }
  }
};
} // namespace
} // namespace tessera
