//===- TExprDialect.cpp - texpr dialect and verifiers ---------------------===//
#include "dialects/TExpr/TExprDialect.h"

#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace tessera::texpr;

#include "dialects/TExpr/TExprDialect.cpp.inc"

void TExprDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/TExpr/TExprOps.cpp.inc"
      >();
}

void ScopeOp::build(OpBuilder &b, OperationState &st, Type result,
                    ValueRange inputs, ArrayRef<int64_t> loops,
                    ArrayRef<int64_t> sums, ArrayRef<int64_t> pad,
                    StringRef combiner, bool layout) {
  st.addOperands(inputs);
  st.addAttribute(getLoopsAttrName(st.name), b.getDenseI64ArrayAttr(loops));
  st.addAttribute(getSumsAttrName(st.name), b.getDenseI64ArrayAttr(sums));
  if (llvm::any_of(pad, [](int64_t p) { return p != 0; }))
    st.addAttribute(getPadAttrName(st.name), b.getDenseI64ArrayAttr(pad));
  if (combiner != "add")
    st.addAttribute(getCombinerAttrName(st.name), b.getStringAttr(combiner));
  if (layout)
    st.addAttribute(getLayoutAttrName(st.name), b.getUnitAttr());
  st.addTypes(result);
  Region *r = st.addRegion();
  Block *blk = new Block();
  for (Value v : inputs)
    blk->addArgument(v.getType(), st.location);
  r->push_back(blk);
}

static LogicalResult checkRanges(Operation *op, StringRef what,
                                 ArrayRef<int64_t> r) {
  if (r.size() % 2)
    return op->emitOpError() << "'" << what
                             << "' must hold [lo, hi) pairs, got "
                             << r.size() << " values";
  for (size_t i = 0; i < r.size(); i += 2)
    if (r[i] >= r[i + 1])
      return op->emitOpError() << "'" << what << "' iterator " << i / 2
                               << " has an empty range [" << r[i] << ", "
                               << r[i + 1] << ")";
  return success();
}

LogicalResult ScopeOp::verify() {
  if (failed(checkRanges(*this, "loops", getLoops())) ||
      failed(checkRanges(*this, "sums", getSums())))
    return failure();
  unsigned L = getNumLoops();
  auto resTy = cast<RankedTensorType>(getResult().getType());
  if (resTy.getRank() != L)
    return emitOpError() << "result rank " << resTy.getRank()
                         << " differs from the number of traversal iterators "
                         << L;
  if (getPad() && getPad()->size() != 2 * L)
    return emitOpError() << "'pad' needs " << 2 * L << " values, got "
                         << getPad()->size();
  for (unsigned i = 0; i < L; ++i) {
    if (getPadLo(i) < 0 || getPadHi(i) < 0)
      return emitOpError() << "negative padding on iterator " << i;
    int64_t want = getPadLo(i) + getLoops()[2 * i + 1] - getLoops()[2 * i] +
                   getPadHi(i);
    if (resTy.getDimSize(i) != want)
      return emitOpError() << "result dim " << i << " is "
                           << resTy.getDimSize(i) << " but the iterator range "
                           << "and padding give " << want;
  }
  if (getCombiner() != "add" && getCombiner() != "max")
    return emitOpError() << "combiner must be 'add' or 'max', got '"
                         << getCombiner() << "'";
  for (Value in : getInputs()) {
    auto ty = cast<RankedTensorType>(in.getType());
    if (!ty.hasStaticShape())
      return emitOpError() << "operand shapes must be static, got " << ty;
    if (ty.getElementType() != resTy.getElementType())
      return emitOpError() << "operand element type " << ty.getElementType()
                           << " differs from the result's "
                           << resTy.getElementType();
  }
  Block &blk = getBody().front();
  if (blk.getNumArguments() != getInputs().size())
    return emitOpError() << "region has " << blk.getNumArguments()
                         << " arguments for " << getInputs().size()
                         << " operands";
  for (auto [a, v] : llvm::zip(blk.getArguments(), getInputs()))
    if (a.getType() != v.getType())
      return emitOpError() << "region argument " << a.getArgNumber()
                           << " type differs from its operand";
  auto y = dyn_cast<YieldOp>(blk.getTerminator());
  if (!y)
    return emitOpError() << "region must end in texpr.yield";
  if (y.getValue().getType() != resTy.getElementType())
    return emitOpError() << "yielded type " << y.getValue().getType()
                         << " differs from the result element type";
  for (Operation &op : blk.without_terminator())
    if (op.getDialect() != (*this)->getDialect() || isa<ScopeOp>(op))
      return op.emitOpError() << "is not allowed in a texpr.scope summand "
                                 "(texpr scalar ops only)";
  return success();
}

LogicalResult AccessOp::verify() {
  auto ty = cast<RankedTensorType>(getSource().getType());
  auto scope = (*this)->getParentOfType<ScopeOp>();
  if (!scope)
    return emitOpError() << "must be inside a texpr.scope";
  if (!isa<BlockArgument>(getSource()) ||
      cast<BlockArgument>(getSource()).getOwner() != &scope.getBody().front())
    return emitOpError() << "must read a block argument of its scope";
  AffineMap m = getMap();
  if (m.getNumResults() != ty.getRank())
    return emitOpError() << "map has " << m.getNumResults()
                         << " results for a rank-" << ty.getRank() << " tensor";
  unsigned want = scope.getNumLoops() + scope.getNumSums();
  if (m.getNumDims() != want || m.getNumSymbols() != 0)
    return emitOpError() << "map must have " << want
                         << " dims (traversal then summation iterators) and "
                            "no symbols";
  if (getResult().getType() != ty.getElementType())
    return emitOpError() << "result type differs from the element type";
  bool badDivisor = false;
  for (AffineExpr e : m.getResults())
    e.walk([&](AffineExpr x) {
      if (x.getKind() == AffineExprKind::FloorDiv ||
          x.getKind() == AffineExprKind::CeilDiv ||
          x.getKind() == AffineExprKind::Mod) {
        auto c = dyn_cast<AffineConstantExpr>(
            cast<AffineBinaryOpExpr>(x).getRHS());
        badDivisor |= !c || c.getValue() <= 0;
      }
    });
  if (badDivisor)
    return emitOpError() << "floordiv, ceildiv and mod need a positive "
                            "constant divisor";
  return success();
}

LogicalResult FnOp::verify() {
  static const char *kinds[] = {"relu", "tanh", "sigmoid", "exp", "neg"};
  bool ok = llvm::is_contained(kinds, getKind());
  if (!ok)
    return emitOpError() << "unknown function '" << getKind()
                         << "' (have relu, tanh, sigmoid, exp, neg)";
  return success();
}
