//===- Verifiers.cpp - tessera op verifiers -------------------------------===//
//
// Every verifier delegates the shape rule to ShapeInference.h and then checks
// that the declared result type matches what the rule computes.
//
//===----------------------------------------------------------------------===//
#include "dialects/Graph/ShapeInference.h"
#include "dialects/Graph/TesseraDialect.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace tessera;

namespace {
ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

LogicalResult checkResult(Operation *op, FailureOr<shape::Shape> expected) {
  if (failed(expected))
    return failure();
  auto actual = shapeOf(op->getResult(0));
  if (actual.size() != expected->size())
    return op->emitOpError("result rank ") << actual.size()
           << " does not match the inferred rank " << expected->size();
  for (auto [a, e] : llvm::zip(actual, *expected))
    if (a != e && !ShapedType::isDynamic(a) && !ShapedType::isDynamic(e))
      return op->emitOpError("result shape [")
             << llvm::make_range(actual.begin(), actual.end())
             << "] does not match the inferred shape ["
             << llvm::make_range(expected->begin(), expected->end()) << "]";
  return success();
}

LogicalResult sameElementType(Operation *op, ArrayRef<Value> values,
                              Type expected) {
  for (Value v : values)
    if (getElementTypeOrSelf(v.getType()) != expected)
      return op->emitOpError("operand element type ")
             << getElementTypeOrSelf(v.getType())
             << " differs from the result element type " << expected;
  return success();
}

bool isComparison(Operation *op) {
  return isa<EqOp, LtOp, LeOp, GtOp, GeOp>(op);
}

LogicalResult verifyBinary(Operation *op) {
  Value lhs = op->getOperand(0), rhs = op->getOperand(1);
  Type lt = getElementTypeOrSelf(lhs), rt = getElementTypeOrSelf(rhs);
  Type resT = getElementTypeOrSelf(op->getResult(0));
  if (lt != rt)
    return op->emitOpError("operand element types differ: ") << lt << " vs "
                                                             << rt;
  if (isComparison(op)) {
    if (!resT.isInteger(1))
      return op->emitOpError("comparison must produce i1, got ") << resT;
  } else if (resT != lt) {
    return op->emitOpError("result element type ")
           << resT << " differs from operand element type " << lt;
  }
  if (isa<AndOp, OrOp>(op) && !lt.isInteger(1))
    return op->emitOpError("logical ops need i1 operands, got ") << lt;
  return checkResult(
      op, shape::broadcast(shapeOf(lhs), shapeOf(rhs), op->getLoc()));
}
} // namespace

LogicalResult ConstantOp::verify() {
  if (getValue().getType() != getType())
    return emitOpError("value type ")
           << getValue().getType() << " differs from result type " << getType();
  return success();
}

#define TESSERA_BINARY_VERIFY(OP)                                              \
  LogicalResult OP::verify() { return verifyBinary(getOperation()); }
TESSERA_BINARY_VERIFY(AddOp)
TESSERA_BINARY_VERIFY(SubOp)
TESSERA_BINARY_VERIFY(MulOp)
TESSERA_BINARY_VERIFY(DivOp)
TESSERA_BINARY_VERIFY(PowOp)
TESSERA_BINARY_VERIFY(MaxOp)
TESSERA_BINARY_VERIFY(MinOp)
TESSERA_BINARY_VERIFY(AndOp)
TESSERA_BINARY_VERIFY(OrOp)
TESSERA_BINARY_VERIFY(EqOp)
TESSERA_BINARY_VERIFY(LtOp)
TESSERA_BINARY_VERIFY(LeOp)
TESSERA_BINARY_VERIFY(GtOp)
TESSERA_BINARY_VERIFY(GeOp)
#undef TESSERA_BINARY_VERIFY

LogicalResult WhereOp::verify() {
  Type et = getElementTypeOrSelf(getResult());
  if (failed(sameElementType(*this, {getLhs(), getRhs()}, et)))
    return failure();
  auto ab = shape::broadcast(shapeOf(getLhs()), shapeOf(getRhs()), getLoc());
  if (failed(ab))
    return failure();
  return checkResult(*this, shape::broadcast(shapeOf(getCond()), *ab, getLoc()));
}

LogicalResult MatmulOp::verify() {
  if (failed(sameElementType(*this, {getLhs(), getRhs()},
                             getElementTypeOrSelf(getResult()))))
    return failure();
  return checkResult(*this, shape::matmul(shapeOf(getLhs()), shapeOf(getRhs()),
                                          getLoc()));
}

/// g2bmm (general = false) and gbmm (general = true).
template <typename BandOp>
static LogicalResult verifyBanded(BandOp op, bool general) {
  if (failed(sameElementType(op, {op.getLhs(), op.getRhs()},
                             getElementTypeOrSelf(op.getResult()))))
    return failure();
  return checkResult(op, shape::bandedMatmul(shapeOf(op.getLhs()),
                                             shapeOf(op.getRhs()), op.getWidth(),
                                             op.getDilation(), general,
                                             op.getLoc()));
}

LogicalResult G2bmmOp::verify() { return verifyBanded(*this, false); }
LogicalResult GbmmOp::verify() { return verifyBanded(*this, true); }

/// The optional bias of conv / conv_transpose has shape [F].
static LogicalResult checkBias(Operation *op, Value bias,
                               FailureOr<shape::Shape> r) {
  if (failed(checkResult(op, r)))
    return failure();
  if (bias) {
    auto b = shapeOf(bias);
    if (b.size() != 1 || b[0] != (*r)[1])
      return op->emitOpError("bias must have shape [") << (*r)[1] << "]";
  }
  return success();
}

LogicalResult ConvOp::verify() {
  auto r = shape::conv2d(shapeOf(getInput()), shapeOf(getWeight()),
                         getStrides(), getDilations(), getPads(), getGroups(),
                         getLoc());
  return checkBias(*this, getBias(), r);
}

LogicalResult ConvTransposeOp::verify() {
  auto r = shape::convTranspose2d(shapeOf(getInput()), shapeOf(getWeight()),
                                  getStrides(), getDilations(), getPads(),
                                  getOutputPadding(), getGroups(), getLoc());
  return checkBias(*this, getBias(), r);
}

LogicalResult MaxPoolOp::verify() {
  return checkResult(*this, shape::pool2d(shapeOf(getInput()), getKernel(),
                                          getStrides(), getDilations(),
                                          getPads(), getLoc()));
}

LogicalResult AvgPoolOp::verify() {
  SmallVector<int64_t> dil(2, 1);
  return checkResult(*this, shape::pool2d(shapeOf(getInput()), getKernel(),
                                          getStrides(), dil, getPads(),
                                          getLoc()));
}

LogicalResult BatchNormOp::verify() {
  auto in = shapeOf(getInput());
  if (in.size() < 2)
    return emitOpError("[batch_norm] input must have rank >= 2");
  for (Value v : {getScale(), getBias(), getMean(), getVariance()}) {
    auto s = shapeOf(v);
    if (s.size() != 1 || s[0] != in[1])
      return emitOpError("[batch_norm] scale/bias/mean/variance must have "
                         "shape [")
             << in[1] << "]";
  }
  return checkResult(*this, shape::Shape(in.begin(), in.end()));
}

LogicalResult LayerNormOp::verify() {
  auto in = shapeOf(getInput());
  int64_t axis = getAxis();
  if (axis < 0 || axis >= (int64_t)in.size())
    return emitOpError("[layer_norm] axis ")
           << axis << " out of range for rank " << in.size();
  ArrayRef<int64_t> norm = in.drop_front(axis);
  for (Value v : {getScale(), getBias()}) {
    if (!v)
      continue;
    if (failed(shape::broadcastableTo(shapeOf(v), norm, getLoc())))
      return failure();
  }
  return checkResult(*this, shape::Shape(in.begin(), in.end()));
}

LogicalResult SoftmaxOp::verify() {
  int64_t rank = shapeOf(getInput()).size();
  int64_t axis = static_cast<int64_t>(getAxis()); // I64Attr reads as uint64_t
  if (axis < 0 || axis >= rank)
    return emitOpError("[softmax] axis ")
           << axis << " out of range for rank " << rank;
  return success();
}

#define TESSERA_REDUCE_VERIFY(OP)                                              \
  LogicalResult OP::verify() {                                                 \
    return checkResult(*this, shape::reduce(shapeOf(getInput()), getAxes(),    \
                                            getKeepdims(), getLoc()));         \
  }
TESSERA_REDUCE_VERIFY(ReduceSumOp)
TESSERA_REDUCE_VERIFY(ReduceMeanOp)
TESSERA_REDUCE_VERIFY(ReduceMaxOp)
TESSERA_REDUCE_VERIFY(ReduceMinOp)
TESSERA_REDUCE_VERIFY(ReduceProdOp)
#undef TESSERA_REDUCE_VERIFY

LogicalResult ReshapeOp::verify() {
  if (getElementTypeOrSelf(getInput()) != getElementTypeOrSelf(getResult()))
    return emitOpError("[reshape] element type must not change");
  return shape::reshape(shapeOf(getInput()), shapeOf(getResult()), getLoc());
}

LogicalResult TransposeOp::verify() {
  return checkResult(*this,
                     shape::transpose(shapeOf(getInput()), getPerm(), getLoc()));
}

LogicalResult BroadcastOp::verify() {
  return shape::broadcastableTo(shapeOf(getInput()), shapeOf(getResult()),
                                getLoc());
}

LogicalResult ConcatOp::verify() {
  SmallVector<shape::Shape> shapes;
  for (Value v : getInputs()) {
    auto s = shapeOf(v);
    shapes.emplace_back(s.begin(), s.end());
  }
  if (failed(sameElementType(*this, llvm::to_vector(getInputs()),
                             getElementTypeOrSelf(getResult()))))
    return failure();
  return checkResult(*this, shape::concat(shapes, getAxis(), getLoc()));
}

LogicalResult SliceOp::verify() {
  return shape::slice(shapeOf(getInput()), getStarts(), getSteps(),
                      shapeOf(getResult()), getLoc());
}

LogicalResult GatherOp::verify() {
  return checkResult(*this, shape::gather(shapeOf(getInput()),
                                          shapeOf(getIndices()), getAxis(),
                                          getLoc()));
}

LogicalResult PadOp::verify() {
  return checkResult(*this, shape::pad(shapeOf(getInput()), getLow(),
                                       getHigh(), getLoc()));
}
