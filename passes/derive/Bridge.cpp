//===- Bridge.cpp - texpr IR <-> expression model -------------------------===//
#include "passes/derive/Bridge.h"
#include "dialects/TExpr/TExprDialect.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace tessera::derive {

static FailureOr<Node> readNode(Value v, texpr::ScopeOp scope,
                                ArrayRef<unsigned> argToSrc) {
  Operation *op = v.getDefiningOp();
  if (!op)
    return failure();
  if (auto a = dyn_cast<texpr::AccessOp>(op)) {
    auto arg = cast<BlockArgument>(a.getSource());
    AffineMap m = a.getMap();
    return Node::access(argToSrc[arg.getArgNumber()], m.getResults(),
                        a.getOob().convertToDouble());
  }
  if (auto c = dyn_cast<texpr::ConstOp>(op))
    return Node::constant(c.getValue().convertToDouble());
  if (auto f = dyn_cast<texpr::FnOp>(op)) {
    auto x = readNode(f.getInput(), scope, argToSrc);
    if (failed(x))
      return failure();
    return Node::unary(f.getKind().str(), std::move(*x));
  }
  NodeKind k = llvm::TypeSwitch<Operation *, NodeKind>(op)
                   .Case([](texpr::AddOp) { return NodeKind::Add; })
                   .Case([](texpr::SubOp) { return NodeKind::Sub; })
                   .Case([](texpr::MulOp) { return NodeKind::Mul; })
                   .Case([](texpr::DivOp) { return NodeKind::Div; })
                   .Case([](texpr::MaxOp) { return NodeKind::Max; })
                   .Default([](Operation *) { return NodeKind::Const; });
  if (k == NodeKind::Const)
    return failure();
  auto a = readNode(op->getOperand(0), scope, argToSrc);
  auto b = readNode(op->getOperand(1), scope, argToSrc);
  if (failed(a) || failed(b))
    return failure();
  return Node::binary(k, std::move(*a), std::move(*b));
}

FailureOr<ScopePtr> scopeFromOp(texpr::ScopeOp op,
                                SmallVectorImpl<Value> &inputs,
                                bool nestScopes) {
  auto s = std::make_shared<Scope>();
  s->ctx = op.getContext();
  auto loops = op.getLoops(), sums = op.getSums();
  for (unsigned i = 0; i < loops.size(); i += 2) {
    s->loops.push_back({loops[i], loops[i + 1]});
    s->padLo.push_back(op.getPadLo(i / 2));
    s->padHi.push_back(op.getPadHi(i / 2));
  }
  for (unsigned i = 0; i < sums.size(); i += 2)
    s->sums.push_back({sums[i], sums[i + 1]});
  s->maxCombiner = op.getCombiner() == "max";
  s->layout = op.getLayout();
  llvm::SmallVector<unsigned, 4> argToSrc;
  for (Value in : op.getInputs()) {
    Source src;
    auto ty = cast<RankedTensorType>(in.getType());
    src.shape.assign(ty.getShape().begin(), ty.getShape().end());
    auto inner = in.getDefiningOp<texpr::ScopeOp>();
    if (inner && nestScopes) {
      auto nested = scopeFromOp(inner, inputs);
      if (failed(nested))
        return failure();
      src.scope = *nested;
    } else {
      auto it = llvm::find(inputs, in);
      src.input = it - inputs.begin();
      if (it == inputs.end())
        inputs.push_back(in);
    }
    argToSrc.push_back(s->srcs.size());
    s->srcs.push_back(std::move(src));
  }
  auto y = cast<texpr::YieldOp>(op.getBody().front().getTerminator());
  auto body = readNode(y.getValue(), op, argToSrc);
  if (failed(body))
    return op.emitOpError() << "summand is not a texpr expression tree",
           failure();
  s->body = std::move(*body);
  return ScopePtr(s);
}

static Value writeNode(OpBuilder &b, Location loc, const Node &n,
                       ArrayRef<BlockArgument> args, unsigned numDims,
                       Type et) {
  switch (n.kind) {
  case NodeKind::Access: {
    auto m = AffineMap::get(numDims, 0, n.idx, b.getContext());
    auto a = texpr::AccessOp::create(b, loc, et, args[n.src],
                                     AffineMapAttr::get(m),
                                     b.getF64FloatAttr(n.value));
    return a;
  }
  case NodeKind::Const:
    return texpr::ConstOp::create(b, loc, et, b.getF64FloatAttr(n.value));
  case NodeKind::Fn: {
    Value x = writeNode(b, loc, n.ops[0], args, numDims, et);
    return texpr::FnOp::create(b, loc, x, b.getStringAttr(n.fn));
  }
  default:
    break;
  }
  Value x = writeNode(b, loc, n.ops[0], args, numDims, et);
  Value y = writeNode(b, loc, n.ops[1], args, numDims, et);
  switch (n.kind) {
  case NodeKind::Add:
    return texpr::AddOp::create(b, loc, x, y);
  case NodeKind::Sub:
    return texpr::SubOp::create(b, loc, x, y);
  case NodeKind::Mul:
    return texpr::MulOp::create(b, loc, x, y);
  case NodeKind::Div:
    return texpr::DivOp::create(b, loc, x, y);
  default:
    return texpr::MaxOp::create(b, loc, x, y);
  }
}

Value scopeToOps(OpBuilder &b, Location loc, const Scope &s,
                 ArrayRef<Value> inputs, Type et) {
  SmallVector<Value> operands;
  for (const Source &src : s.srcs)
    operands.push_back(src.scope ? scopeToOps(b, loc, *src.scope, inputs, et)
                                 : inputs[src.input]);
  SmallVector<int64_t> loops, sums, pad;
  for (unsigned i = 0; i < s.loops.size(); ++i) {
    loops.append({s.loops[i].lo, s.loops[i].hi});
    pad.append({s.padLo[i], s.padHi[i]});
  }
  for (const Range &r : s.sums)
    sums.append({r.lo, r.hi});
  auto resTy = RankedTensorType::get(s.shape(), et);
  auto op = texpr::ScopeOp::create(b, loc, resTy, operands, loops, sums, pad,
                                   s.maxCombiner ? "max" : "add", s.layout);
  OpBuilder::InsertionGuard g(b);
  Block &blk = op.getBody().front();
  b.setInsertionPointToStart(&blk);
  Value v = writeNode(b, loc, s.body, blk.getArguments(), s.numDims(), et);
  texpr::YieldOp::create(b, loc, v);
  return op.getResult();
}

} // namespace tessera::derive
