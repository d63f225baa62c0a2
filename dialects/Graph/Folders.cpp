//===- Folders.cpp - tessera folders and canonicalizations ----------------===//
#include "dialects/Graph/TesseraDialect.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include <cmath>
#include <functional>

using namespace mlir;
using namespace tessera;

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

namespace {
/// Folds a binary op whose operands are both dense (non-resource) constants
/// of the result shape, or splats. Integer and float element types.
Attribute foldBinary(Operation *op, Attribute lhsAttr, Attribute rhsAttr,
                     std::function<APFloat(APFloat, APFloat)> ff,
                     std::function<APInt(APInt, APInt)> fi) {
  auto lhs = dyn_cast_or_null<DenseElementsAttr>(lhsAttr);
  auto rhs = dyn_cast_or_null<DenseElementsAttr>(rhsAttr);
  auto resTy = cast<RankedTensorType>(op->getResult(0).getType());
  if (!lhs || !rhs || !resTy.hasStaticShape())
    return {};
  auto fits = [&](DenseElementsAttr a) {
    return a.isSplat() || a.getType().getShape() == resTy.getShape();
  };
  if (!fits(lhs) || !fits(rhs) || resTy.getNumElements() > 4096)
    return {};
  if (lhs.getElementType() != resTy.getElementType())
    return {};
  int64_t n = resTy.getNumElements();
  if (isa<FloatType>(resTy.getElementType())) {
    if (!ff)
      return {};
    auto lv = lhs.getValues<APFloat>(), rv = rhs.getValues<APFloat>();
    SmallVector<APFloat> out;
    for (int64_t i = 0; i < n; ++i)
      out.push_back(ff(lhs.isSplat() ? lv[0] : lv[i], rhs.isSplat() ? rv[0] : rv[i]));
    return DenseElementsAttr::get(resTy, out);
  }
  if (isa<IntegerType>(resTy.getElementType()) && fi) {
    auto lv = lhs.getValues<APInt>(), rv = rhs.getValues<APInt>();
    SmallVector<APInt> out;
    for (int64_t i = 0; i < n; ++i)
      out.push_back(fi(lhs.isSplat() ? lv[0] : lv[i], rhs.isSplat() ? rv[0] : rv[i]));
    return DenseElementsAttr::get(resTy, out);
  }
  return {};
}

/// x op c -> x when c is a splat identity and no broadcasting happens.
OpFoldResult foldIdentity(Operation *op, Attribute rhsAttr, double identity) {
  auto rhs = dyn_cast_or_null<DenseElementsAttr>(rhsAttr);
  Value lhs = op->getOperand(0);
  if (!rhs || !rhs.isSplat() || lhs.getType() != op->getResult(0).getType())
    return {};
  if (auto f = dyn_cast<FloatType>(rhs.getElementType())) {
    if (rhs.getSplatValue<APFloat>().convertToDouble() == identity)
      return lhs;
  } else if (isa<IntegerType>(rhs.getElementType())) {
    if (rhs.getSplatValue<APInt>().getSExtValue() == (int64_t)identity)
      return lhs;
  }
  return {};
}
} // namespace

OpFoldResult AddOp::fold(FoldAdaptor a) {
  if (auto r = foldBinary(*this, a.getLhs(), a.getRhs(),
                          [](APFloat x, APFloat y) { return x + y; },
                          [](APInt x, APInt y) { return x + y; }))
    return r;
  return foldIdentity(*this, a.getRhs(), 0.0);
}
OpFoldResult SubOp::fold(FoldAdaptor a) {
  if (auto r = foldBinary(*this, a.getLhs(), a.getRhs(),
                          [](APFloat x, APFloat y) { return x - y; },
                          [](APInt x, APInt y) { return x - y; }))
    return r;
  return foldIdentity(*this, a.getRhs(), 0.0);
}
OpFoldResult MulOp::fold(FoldAdaptor a) {
  if (auto r = foldBinary(*this, a.getLhs(), a.getRhs(),
                          [](APFloat x, APFloat y) { return x * y; },
                          [](APInt x, APInt y) { return x * y; }))
    return r;
  return foldIdentity(*this, a.getRhs(), 1.0);
}
OpFoldResult DivOp::fold(FoldAdaptor a) {
  if (auto r = foldBinary(*this, a.getLhs(), a.getRhs(),
                          [](APFloat x, APFloat y) { return x / y; }, nullptr))
    return r;
  return foldIdentity(*this, a.getRhs(), 1.0);
}

OpFoldResult ReshapeOp::fold(FoldAdaptor a) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(a.getInput()))
    if (getType().hasStaticShape())
      return dense.reshape(getType());
  return {};
}

namespace {
/// reshape(reshape(x)) -> reshape(x)
struct FoldReshapeChain : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    auto producer = op.getInput().getDefiningOp<ReshapeOp>();
    if (!producer)
      return failure();
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(),
                                           producer.getInput());
    return success();
  }
};
} // namespace

void ReshapeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                            MLIRContext *context) {
  results.add<FoldReshapeChain>(context);
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  for (auto [i, p] : llvm::enumerate(getPerm()))
    if ((int64_t)i != p)
      return {};
  return getInput();
}

OpFoldResult BroadcastOp::fold(FoldAdaptor a) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(a.getInput()))
    if (dense.isSplat() && getType().hasStaticShape())
      return DenseElementsAttr::get(getType(), dense.getSplatValue<Attribute>());
  return {};
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  if (getInput().getType() != getType())
    return {};
  for (auto [s, t] : llvm::zip(getStarts(), getSteps()))
    if (s != 0 || t != 1)
      return {};
  return getInput();
}
