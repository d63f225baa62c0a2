//===- GraphToTExpr.cpp - tessera ops as tensor-algebra expressions -------===//
#include "passes/conversion/GraphToTExpr/Passes.h"
#include "dialects/Graph/TesseraDialect.h"
#include "passes/derive/Bridge.h"

#include "llvm/ADT/TypeSwitch.h"

#include <limits>

using namespace mlir;
using namespace tessera::derive;

namespace tessera {
#define GEN_PASS_DEF_CONVERTTESSERATOTEXPR
#include "passes/conversion/GraphToTExpr/Passes.h.inc"

namespace {
ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

/// A fresh scope over the op's result shape with `numSums` summation
/// iterators; sources are the op's operands.
std::shared_ptr<Scope> newScope(Operation *op, ArrayRef<Range> sums,
                                ArrayRef<int64_t> outShape = {}) {
  auto s = std::make_shared<Scope>();
  s->ctx = op->getContext();
  if (outShape.empty())
    outShape = shapeOf(op->getResult(0));
  for (int64_t d : outShape) {
    s->loops.push_back({0, d});
    s->padLo.push_back(0);
    s->padHi.push_back(0);
  }
  s->sums.assign(sums.begin(), sums.end());
  for (auto [i, v] : llvm::enumerate(op->getOperands())) {
    Source src;
    src.input = i;
    src.shape.assign(shapeOf(v).begin(), shapeOf(v).end());
    s->srcs.push_back(src);
  }
  return s;
}

/// Numpy-broadcast read of operand `src` at the scope's loop dims.
Node broadcastRead(const Scope &s, unsigned src) {
  ArrayRef<int64_t> sh = s.srcs[src].shape;
  unsigned L = s.numLoops(), off = L - sh.size();
  SmallVector<AffineExpr> idx;
  for (unsigned k = 0; k < sh.size(); ++k)
    idx.push_back(sh[k] == 1 && s.loops[off + k].size() != 1
                      ? getAffineConstantExpr(0, s.ctx)
                      : s.dim(off + k));
  return Node::access(src, idx);
}

/// Adds bias[f] (operand `src`, dim `fDim`) in an outer stage over `inner`.
ScopePtr withBias(Operation *op, ScopePtr inner, unsigned biasOperand,
                  unsigned fDim) {
  auto outer = newScope(op, {});
  Source in;
  in.scope = inner;
  in.shape = inner->shape();
  outer->srcs.push_back(in);
  unsigned L = outer->numLoops();
  SmallVector<AffineExpr> all;
  for (unsigned k = 0; k < L; ++k)
    all.push_back(outer->dim(k));
  outer->body = Node::binary(
      NodeKind::Add, Node::access(outer->srcs.size() - 1, all),
      Node::access(biasOperand, {outer->dim(fDim)}));
  return outer;
}

FailureOr<ScopePtr> conv(ConvOp op, std::string &why) {
  auto in = shapeOf(op.getInput()), w = shapeOf(op.getWeight());
  int64_t G = op.getGroups(), Cg = w[1], Fg = w[0] / G;
  auto st = op.getStrides(), dl = op.getDilations(), p = op.getPads();
  auto s = newScope(op, {{0, Cg}, {0, w[2]}, {0, w[3]}});
  (void)in;
  // dims: 0 n, 1 f, 2 oh, 3 ow, 4 c, 5 r, 6 s
  auto d = [&](unsigned i) { return s->dim(i); };
  AffineExpr ch = G == 1 ? d(4) : d(1).floorDiv(Fg) * Cg + d(4);
  Node a = Node::access(0, {d(0), ch, d(2) * st[0] + d(5) * dl[0] - p[0],
                            d(3) * st[1] + d(6) * dl[1] - p[1]});
  Node k = Node::access(1, {d(1), d(4), d(5), d(6)});
  s->body = Node::binary(NodeKind::Mul, std::move(a), std::move(k));
  if (op.getBias())
    return withBias(op, s, 2, 1);
  return ScopePtr(s);
}

FailureOr<ScopePtr> convTranspose(ConvTransposeOp op, std::string &why) {
  auto w = shapeOf(op.getWeight());
  auto out = shapeOf(op.getResult());
  auto st = op.getStrides(), dl = op.getDilations(), p = op.getPads();
  if (dl[0] != 1 || dl[1] != 1) {
    why = "conv_transpose with dilation != 1 has no expression";
    return failure();
  }
  int64_t G = op.getGroups(), Fg = w[1], Cg = w[0] / G;
  int64_t sh = st[0], sw = st[1];
  int64_t J = (w[2] + sh - 1) / sh, J2 = (w[3] + sw - 1) / sw;
  // q = (oh + pt) floordiv s over the output rows.
  int64_t q0 = p[0] / sh, q1 = (out[2] - 1 + p[0]) / sh + 1;
  int64_t r0 = p[1] / sw, r1 = (out[3] - 1 + p[1]) / sw + 1;
  // Inner T[n, f, q, m, q2, m2] = Sum_{c, j, j2} I[n, c, q-j, q2-j2] *
  //                                W[c, f, s*j+m, s*j2+m2].
  auto t = newScope(op, {{0, Cg}, {0, J}, {0, J2}},
                    {out[0], out[1], q1 - q0, sh, r1 - r0, sw});
  t->loops[2] = {q0, q1};
  t->loops[4] = {r0, r1};
  auto d = [&](unsigned i) { return t->dim(i); };
  AffineExpr ch = G == 1 ? d(6) : d(1).floorDiv(Fg) * Cg + d(6);
  AffineExpr fo = G == 1 ? d(1) : d(1) % Fg;
  Node a = Node::access(0, {d(0), ch, d(2) - d(7), d(4) - d(8)});
  Node k = Node::access(1, {ch, fo, d(7) * sh + d(3), d(8) * sw + d(5)});
  t->body = Node::binary(NodeKind::Mul, std::move(a), std::move(k));
  // Outer O[n, f, oh, ow] = T[n, f, (oh+pt) div s - q0, (oh+pt) mod s, ...].
  auto o = newScope(op, {});
  Source src;
  src.scope = t;
  src.shape = t->shape();
  o->srcs.push_back(src);
  unsigned ti = o->srcs.size() - 1;
  auto e = [&](unsigned i) { return o->dim(i); };
  o->body = Node::access(
      ti, {e(0), e(1), (e(2) + p[0]).floorDiv(sh) - q0, (e(2) + p[0]) % sh,
           (e(3) + p[1]).floorDiv(sw) - r0, (e(3) + p[1]) % sw});
  if (op.getBias())
    return withBias(op, o, 2, 1);
  return ScopePtr(o);
}

template <typename PoolOp>
FailureOr<ScopePtr> pool(PoolOp op, bool isMax, std::string &why) {
  auto k = op.getKernel(), st = op.getStrides(), p = op.getPads();
  SmallVector<int64_t> dl{1, 1};
  if constexpr (std::is_same_v<PoolOp, MaxPoolOp>)
    dl.assign(op.getDilations().begin(), op.getDilations().end());
  else if (!op.getCountIncludePad() &&
           llvm::any_of(p, [](int64_t x) { return x != 0; })) {
    why = "avg_pool without count_include_pad over padding has a "
          "position-dependent divisor";
    return failure();
  }
  auto s = newScope(op, {{0, k[0]}, {0, k[1]}});
  auto d = [&](unsigned i) { return s->dim(i); };
  double oob = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
  Node a = Node::access(0, {d(0), d(1), d(2) * st[0] + d(4) * dl[0] - p[0],
                            d(3) * st[1] + d(5) * dl[1] - p[1]},
                        oob);
  s->maxCombiner = isMax;
  s->body = isMax ? std::move(a)
                  : Node::binary(NodeKind::Mul, std::move(a),
                                 Node::constant(1.0 / double(k[0] * k[1])));
  return ScopePtr(s);
}

FailureOr<ScopePtr> matmul(MatmulOp op) {
  auto a = shapeOf(op.getLhs()), b = shapeOf(op.getRhs());
  auto out = shapeOf(op.getResult());
  auto s = newScope(op, {{0, a.back()}});
  unsigned L = out.size(), K = L;
  auto read = [&](unsigned src, ArrayRef<int64_t> sh, AffineExpr r0,
                  AffineExpr r1) {
    SmallVector<AffineExpr> idx;
    unsigned off = (L - 2) - (sh.size() - 2);
    for (unsigned i = 0; i + 2 < sh.size(); ++i)
      idx.push_back(sh[i] == 1 && out[off + i] != 1
                        ? getAffineConstantExpr(0, s->ctx)
                        : s->dim(off + i));
    idx.push_back(r0);
    idx.push_back(r1);
    return Node::access(src, idx);
  };
  s->body = Node::binary(NodeKind::Mul,
                         read(0, a, s->dim(L - 2), s->dim(K)),
                         read(1, b, s->dim(K), s->dim(L - 1)));
  return ScopePtr(s);
}

FailureOr<ScopePtr> banded(Operation *op, int64_t W, int64_t D, bool general) {
  auto a = shapeOf(op->getOperand(0));
  auto s = newScope(op, {{0, general ? 2 * W + 1 : a[2]}});
  auto d = [&](unsigned i) { return s->dim(i); };
  if (!general) // O[b, m, w] = Sum_k A[b, m, k] * B[b, m + D(w - W), k]
    s->body = Node::binary(NodeKind::Mul, Node::access(0, {d(0), d(1), d(3)}),
                           Node::access(1, {d(0), d(1) + (d(2) - W) * D, d(3)}));
  else // O[b, m, k] = Sum_w A[b, m, w] * V[b, m + D(w - W), k]
    s->body = Node::binary(NodeKind::Mul, Node::access(0, {d(0), d(1), d(3)}),
                           Node::access(1, {d(0), d(1) + (d(3) - W) * D, d(2)}));
  return ScopePtr(s);
}

FailureOr<ScopePtr> elementwise(Operation *op, std::string &why) {
  auto s = newScope(op, {});
  if (!isa<FloatType>(getElementTypeOrSelf(op->getResult(0).getType()))) {
    why = "only float elementwise ops have expressions";
    return failure();
  }
  std::optional<std::string> fn =
      llvm::TypeSwitch<Operation *, std::optional<std::string>>(op)
          .Case([](ReluOp) { return "relu"; })
          .Case([](TanhOp) { return "tanh"; })
          .Case([](SigmoidOp) { return "sigmoid"; })
          .Case([](ExpOp) { return "exp"; })
          .Case([](NegOp) { return "neg"; })
          .Default([](Operation *) { return std::nullopt; });
  if (fn) {
    s->body = Node::unary(*fn, broadcastRead(*s, 0));
    return ScopePtr(s);
  }
  std::optional<NodeKind> k =
      llvm::TypeSwitch<Operation *, std::optional<NodeKind>>(op)
          .Case([](AddOp) { return NodeKind::Add; })
          .Case([](SubOp) { return NodeKind::Sub; })
          .Case([](MulOp) { return NodeKind::Mul; })
          .Case([](DivOp) { return NodeKind::Div; })
          .Case([](MaxOp) { return NodeKind::Max; })
          .Default([](Operation *) { return std::nullopt; });
  if (!k) {
    why = "no expression for '" + op->getName().getStringRef().str() + "'";
    return failure();
  }
  s->body = Node::binary(*k, broadcastRead(*s, 0), broadcastRead(*s, 1));
  return ScopePtr(s);
}
} // namespace

FailureOr<ScopePtr> expressionOf(Operation *op, std::string &why) {
  SmallVector<Type> types(op->getResultTypes());
  llvm::append_range(types, op->getOperandTypes());
  for (Type t : types)
    if (auto rt = dyn_cast<RankedTensorType>(t); !rt || !rt.hasStaticShape()) {
      why = "dynamic shapes have no expression";
      return failure();
    }
  if (op->getNumResults() != 1) {
    why = "not a single-result op";
    return failure();
  }
  for (Value v : op->getOperands())
    if (auto rt = dyn_cast<RankedTensorType>(v.getType());
        rt && llvm::is_contained(rt.getShape(), 0)) {
      why = "zero-size tensors have no expression";
      return failure();
    }
  if (llvm::is_contained(
          cast<RankedTensorType>(op->getResult(0).getType()).getShape(), 0)) {
    why = "zero-size tensors have no expression";
    return failure();
  }
  auto r = llvm::TypeSwitch<Operation *, FailureOr<ScopePtr>>(op)
      .Case([&](ConvOp o) { return conv(o, why); })
      .Case([&](ConvTransposeOp o) { return convTranspose(o, why); })
      .Case([&](MaxPoolOp o) { return pool(o, true, why); })
      .Case([&](AvgPoolOp o) { return pool(o, false, why); })
      .Case([&](MatmulOp o) { return matmul(o); })
      .Case([&](G2bmmOp o) {
        return banded(o, o.getWidth(), o.getDilation(), false);
      })
      .Case([&](GbmmOp o) {
        return banded(o, o.getWidth(), o.getDilation(), true);
      })
      .Default([&](Operation *o) { return elementwise(o, why); });
  if (failed(r))
    return failure();
  return prune(*r);
}

namespace {
struct ConvertTesseraToTExprPass
    : impl::ConvertTesseraToTExprBase<ConvertTesseraToTExprPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<Operation *> todo;
    getOperation().walk([&](Operation *op) {
      if (!isa<TesseraDialect>(op->getDialect()) || isa<ConstantOp>(op))
        return;
      StringRef name = op->getName().stripDialect();
      if (!ops.empty() && !llvm::is_contained(ops, name.str()))
        return;
      todo.push_back(op);
    });
    for (Operation *op : todo) {
      std::string why;
      auto e = expressionOf(op, why);
      if (failed(e))
        continue;
      OpBuilder b(op);
      Type et = getElementTypeOrSelf(op->getResult(0).getType());
      Value v = scopeToOps(b, op->getLoc(), **e,
                           SmallVector<Value>(op->getOperands()), et);
      op->getResult(0).replaceAllUsesWith(v);
      op->erase();
    }
  }
};
} // namespace
} // namespace tessera
