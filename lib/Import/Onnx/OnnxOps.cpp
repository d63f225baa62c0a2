//===- OnnxOps.cpp - per-operator ONNX converters -------------------------===//
//
// One converter per ONNX op type. Converters compute result types with the
// shared shape rules (dialects/Graph/ShapeInference.h) and evaluate shape
// computations (Shape, Gather, Concat, ... on known tensors) at import time,
// so that models exported with static shapes import to static tessera IR.
//
//===----------------------------------------------------------------------===//
#include "dialects/Graph/ShapeInference.h"
#include "lib/Import/Onnx/ImporterImpl.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <numeric>

namespace tessera::onnx_import {
namespace {

using NodeRef = const onnx::NodeProto &;
using HostPtr = std::shared_ptr<HostTensor>;
constexpr int64_t kHostFoldLimit = 1 << 16;

RankedTensorType tyOf(Value v) { return cast<RankedTensorType>(v.getType()); }
ArrayRef<int64_t> shapeOf(Value v) { return tyOf(v).getShape(); }

int64_t normAxis(int64_t a, int64_t rank) { return a < 0 ? a + rank : a; }

bool allHost(Importer &im, NodeRef n, int64_t limit = kHostFoldLimit) {
  for (int i = 0; i < n.input_size(); ++i) {
    if (n.input(i).empty())
      continue;
    auto it = im.values.find(n.input(i));
    if (it == im.values.end() || !it->second.host ||
        !it->second.host->hasValues() || it->second.host->numElements() > limit)
      return false;
  }
  return true;
}

HostPtr makeHost(RankedTensorType t) {
  auto h = std::make_shared<HostTensor>();
  h->type = t;
  if (isa<FloatType>(t.getElementType()))
    h->floats.assign(t.getNumElements(), 0.0);
  else
    h->ints.assign(t.getNumElements(), 0);
  return h;
}

void hostSet(HostTensor &h, int64_t i, double v) {
  if (h.isFloat())
    h.floats[i] = v;
  else
    h.ints[i] = h.type.getElementType().isInteger(1) ? (v != 0) : (int64_t)v;
}

HostPtr reshapeHost(const HostTensor &h, ArrayRef<int64_t> shape) {
  auto r = std::make_shared<HostTensor>(h);
  r->type = RankedTensorType::get(shape, h.type.getElementType());
  return r;
}

/// Linear index in `shape` (broadcast source) of the multi-index `idx` over
/// `out` shape.
int64_t bcastIndex(ArrayRef<int64_t> shape, ArrayRef<int64_t> out,
                   ArrayRef<int64_t> idx) {
  int64_t off = out.size() - shape.size(), lin = 0;
  for (size_t i = 0; i < shape.size(); ++i)
    lin = lin * shape[i] + (shape[i] == 1 ? 0 : idx[i + off]);
  return lin;
}

void forEachIndex(ArrayRef<int64_t> shape,
                  llvm::function_ref<void(ArrayRef<int64_t>, int64_t)> fn) {
  int64_t n = shape::numElements(shape);
  SmallVector<int64_t> idx(shape.size(), 0);
  for (int64_t lin = 0; lin < n; ++lin) {
    fn(idx, lin);
    for (int64_t d = (int64_t)shape.size() - 1; d >= 0; --d) {
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
  }
}

// --- generic op creation ----------------------------------------------------

template <typename OpTy>
Value unary(Importer &im, Value x) {
  return OpTy::create(im.b, im.loc, x.getType(), x);
}

/// Casts `v` to element type `et` (no-op if equal).
Value castTo(Importer &im, Value v, Type et) {
  if (tyOf(v).getElementType() == et)
    return v;
  return CastOp::create(im.b, im.loc, tyOf(v).clone(et), v);
}

Value reshape(Importer &im, Value v, ArrayRef<int64_t> shape) {
  if (shapeOf(v) == shape)
    return v;
  return ReshapeOp::create(im.b, im.loc, tyOf(v).clone(shape), v);
}

template <typename OpTy>
FailureOr<Value> binary(Importer &im, Value a, Value b, bool isCompare = false) {
  auto s = shape::broadcast(shapeOf(a), shapeOf(b), im.loc);
  if (failed(s))
    return failure();
  Type et = isCompare ? im.b.getI1Type() : tyOf(a).getElementType();
  return (Value)OpTy::create(im.b, im.loc, RankedTensorType::get(*s, et), a, b);
}

// --- converters ---------------------------------------------------------------

template <typename OpTy>
LogicalResult convUnary(Importer &im, NodeRef n) {
  auto x = im.value(n, 0);
  if (failed(x))
    return failure();
  im.setOutput(n, 0, unary<OpTy>(im, *x));
  return success();
}

LogicalResult convIdentity(Importer &im, NodeRef n) {
  auto e = im.input(n, 0);
  if (failed(e))
    return failure();
  if (n.output_size() > 0 && !n.output(0).empty())
    im.values[n.output(0)] = **e;
  return success();
}

/// One ONNX binary operator: how it folds on the host and which tessera op
/// it builds. The single table below serves both.
struct BinaryKind {
  StringRef name;
  double (*host)(double x, double y, bool isInt);
  FailureOr<Value> (*build)(Importer &im, Value a, Value b);
  bool compare;
};

template <typename OpTy, bool Compare = false>
FailureOr<Value> buildAs(Importer &im, Value a, Value b) {
  return binary<OpTy>(im, a, b, Compare);
}

const BinaryKind kBinaryKinds[] = {
    {"Add", [](double x, double y, bool) { return x + y; }, buildAs<AddOp>,
     false},
    {"Sum", [](double x, double y, bool) { return x + y; }, buildAs<AddOp>,
     false},
    {"Sub", [](double x, double y, bool) { return x - y; }, buildAs<SubOp>,
     false},
    {"Mul", [](double x, double y, bool) { return x * y; }, buildAs<MulOp>,
     false},
    {"Div",
     [](double x, double y, bool isInt) {
       return isInt ? (double)((int64_t)x / (int64_t)y) : x / y;
     },
     buildAs<DivOp>, false},
    {"Pow", [](double x, double y, bool) { return std::pow(x, y); },
     buildAs<PowOp>, false},
    {"Max", [](double x, double y, bool) { return std::max(x, y); },
     buildAs<MaxOp>, false},
    {"Min", [](double x, double y, bool) { return std::min(x, y); },
     buildAs<MinOp>, false},
    {"And", [](double x, double y, bool) { return double(x != 0 && y != 0); },
     buildAs<AndOp>, false},
    {"Or", [](double x, double y, bool) { return double(x != 0 || y != 0); },
     buildAs<OrOp>, false},
    {"Equal", [](double x, double y, bool) { return double(x == y); },
     buildAs<EqOp, true>, true},
    {"Less", [](double x, double y, bool) { return double(x < y); },
     buildAs<LtOp, true>, true},
    {"LessOrEqual", [](double x, double y, bool) { return double(x <= y); },
     buildAs<LeOp, true>, true},
    {"Greater", [](double x, double y, bool) { return double(x > y); },
     buildAs<GtOp, true>, true},
    {"GreaterOrEqual", [](double x, double y, bool) { return double(x >= y); },
     buildAs<GeOp, true>, true},
};

const BinaryKind *binaryKind(StringRef op) {
  for (const BinaryKind &k : kBinaryKinds)
    if (k.name == op)
      return &k;
  return nullptr;
}

FailureOr<Value> buildBinary(Importer &im, const BinaryKind &k, Value a,
                             Value b) {
  // Pow's exponent may have another type; every other op needs equal types.
  if (k.build == buildAs<PowOp>)
    b = castTo(im, b, tyOf(a).getElementType());
  else if (tyOf(a).getElementType() != tyOf(b).getElementType())
    return im.error(
        Twine(k.name) + ": operand element types differ (" +
        Twine(std::string(llvm::formatv("{0}", tyOf(a).getElementType()))) +
        " vs " +
        Twine(std::string(llvm::formatv("{0}", tyOf(b).getElementType()))) +
        ")");
  return k.build(im, a, b);
}

/// Binary and variadic elementwise ops (Add, Sum, Max, ...), folded on the
/// host when every input is known.
LogicalResult convBinary(Importer &im, NodeRef n) {
  StringRef op = n.op_type();
  const BinaryKind *kind = binaryKind(op);
  if (!kind)
    return im.error(Twine("unsupported binary op ") + op);
  if (im.numInputs(n) < 1)
    return im.error(Twine(op) + " needs at least one input");
  bool fold = allHost(im, n);
  if (fold) {
    // Fold on the host only when the broadcast result stays small.
    shape::Shape s(im.values[n.input(0)].type.getShape());
    for (int i = 1; i < n.input_size() && fold; ++i) {
      auto r = shape::broadcast(s, im.values[n.input(i)].type.getShape(),
                                std::nullopt);
      fold = succeeded(r) && shape::numElements(*r) <= kHostFoldLimit;
      if (fold)
        s = *r;
    }
  }
  if (fold) {
    HostPtr acc;
    for (int i = 0; i < n.input_size(); ++i) {
      HostTensor *h = im.values[n.input(i)].host.get();
      if (!acc) {
        acc = std::make_shared<HostTensor>(*h);
        continue;
      }
      auto s = shape::broadcast(acc->type.getShape(), h->type.getShape(), im.loc);
      if (failed(s))
        return failure();
      Type et = kind->compare ? im.b.getI1Type() : acc->type.getElementType();
      auto r = makeHost(RankedTensorType::get(*s, et));
      bool isInt = !acc->isFloat();
      forEachIndex(*s, [&](ArrayRef<int64_t> idx, int64_t lin) {
        double x = acc->getF(bcastIndex(acc->type.getShape(), *s, idx));
        double y = h->getF(bcastIndex(h->type.getShape(), *s, idx));
        hostSet(*r, lin, kind->host(x, y, isInt));
      });
      acc = r;
    }
    im.setOutputHost(n, 0, acc);
    return success();
  }
  auto acc = im.value(n, 0);
  if (failed(acc))
    return failure();
  Value v = *acc;
  for (int i = 1; i < n.input_size(); ++i) {
    auto rhs = im.value(n, i);
    if (failed(rhs))
      return failure();
    auto r = buildBinary(im, *kind, v, *rhs);
    if (failed(r))
      return failure();
    v = *r;
  }
  im.setOutput(n, 0, v);
  return success();
}

LogicalResult convMean(Importer &im, NodeRef n) {
  auto acc = im.value(n, 0);
  if (failed(acc))
    return failure();
  Value v = *acc;
  for (int i = 1; i < n.input_size(); ++i) {
    auto rhs = im.value(n, i);
    if (failed(rhs))
      return failure();
    auto r = binary<AddOp>(im, v, *rhs);
    if (failed(r))
      return failure();
    v = *r;
  }
  Value c = im.scalarLike(tyOf(v).getElementType(), n.input_size());
  auto r = binary<DivOp>(im, v, c);
  if (failed(r))
    return failure();
  im.setOutput(n, 0, *r);
  return success();
}

LogicalResult convNot(Importer &im, NodeRef n) {
  if (allHost(im, n)) {
    auto h = std::make_shared<HostTensor>(*im.values[n.input(0)].host);
    for (auto &v : h->ints)
      v = !v;
    im.setOutputHost(n, 0, h);
    return success();
  }
  return convUnary<NotOp>(im, n);
}

LogicalResult convWhere(Importer &im, NodeRef n) {
  if (allHost(im, n)) {
    HostTensor *c = im.values[n.input(0)].host.get();
    HostTensor *x = im.values[n.input(1)].host.get();
    HostTensor *y = im.values[n.input(2)].host.get();
    auto s1 = shape::broadcast(x->type.getShape(), y->type.getShape(), im.loc);
    if (failed(s1))
      return failure();
    auto s = shape::broadcast(c->type.getShape(), *s1, im.loc);
    if (failed(s))
      return failure();
    if (shape::numElements(*s) > kHostFoldLimit)
      return im.error("Where: constant result is too large to fold");
    auto r = makeHost(RankedTensorType::get(*s, x->type.getElementType()));
    forEachIndex(*s, [&](ArrayRef<int64_t> idx, int64_t lin) {
      bool cv = c->getI(bcastIndex(c->type.getShape(), *s, idx)) != 0;
      HostTensor *src = cv ? x : y;
      hostSet(*r, lin, src->getF(bcastIndex(src->type.getShape(), *s, idx)));
    });
    im.setOutputHost(n, 0, r);
    return success();
  }
  auto c = im.value(n, 0), x = im.value(n, 1), y = im.value(n, 2);
  if (failed(c) || failed(x) || failed(y))
    return failure();
  auto s1 = shape::broadcast(shapeOf(*x), shapeOf(*y), im.loc);
  if (failed(s1))
    return failure();
  auto s = shape::broadcast(shapeOf(*c), *s1, im.loc);
  if (failed(s))
    return failure();
  im.setOutput(n, 0,
               WhereOp::create(im.b, im.loc, tyOf(*x).clone(*s), *c, *x, *y));
  return success();
}

LogicalResult convCast(Importer &im, NodeRef n) {
  Type et;
  if (n.op_type() == "CastLike") {
    auto t = im.input(n, 1);
    if (failed(t))
      return failure();
    et = (*t)->type.getElementType();
  } else {
    et = im.elementType(im.attrInt(n, "to", 0));
    if (!et)
      return im.error("Cast to an unsupported element type " +
                      Twine(im.attrInt(n, "to", 0)));
  }
  if (allHost(im, n)) {
    HostTensor *h = im.values[n.input(0)].host.get();
    auto r = makeHost(h->type.clone(et));
    for (int64_t i = 0; i < h->numElements(); ++i)
      hostSet(*r, i, r->isFloat() ? h->getF(i) : std::trunc(h->getF(i)));
    im.setOutputHost(n, 0, r);
    return success();
  }
  auto x = im.value(n, 0);
  if (failed(x))
    return failure();
  im.setOutput(n, 0, castTo(im, *x, et));
  return success();
}

LogicalResult convLeakyRelu(Importer &im, NodeRef n) {
  auto x = im.value(n, 0);
  if (failed(x))
    return failure();
  im.setOutput(n, 0,
               LeakyReluOp::create(im.b, im.loc, x->getType(), *x,
                                   im.b.getF64FloatAttr(
                                       im.attrFloat(n, "alpha", 0.01))));
  return success();
}

LogicalResult convHardSigmoid(Importer &im, NodeRef n) {
  auto x = im.value(n, 0);
  if (failed(x))
    return failure();
  im.setOutput(n, 0,
               HardSigmoidOp::create(
                   im.b, im.loc, x->getType(), *x,
                   im.b.getF64FloatAttr(im.attrFloat(n, "alpha", 0.2)),
                   im.b.getF64FloatAttr(im.attrFloat(n, "beta", 0.5))));
  return success();
}

LogicalResult convClip(Importer &im, NodeRef n) {
  auto x = im.value(n, 0);
  if (failed(x))
    return failure();
  double lo = -INFINITY, hi = INFINITY;
  if (im.opset < 11) {
    lo = im.attrFloat(n, "min", lo);
    hi = im.attrFloat(n, "max", hi);
  } else {
    if (im.hasInput(n, 1)) {
      auto c = im.constant(n, 1, "min");
      if (failed(c))
        return failure();
      lo = (*c)->getF(0);
    }
    if (im.hasInput(n, 2)) {
      auto c = im.constant(n, 2, "max");
      if (failed(c))
        return failure();
      hi = (*c)->getF(0);
    }
  }
  if (!isa<FloatType>(tyOf(*x).getElementType())) {
    lo = std::max(lo, -9.2e18);
    hi = std::min(hi, 9.2e18);
  }
  im.setOutput(n, 0,
               ClipOp::create(im.b, im.loc, x->getType(), *x,
                              im.b.getF64FloatAttr(lo),
                              im.b.getF64FloatAttr(hi)));
  return success();
}

LogicalResult convGelu(Importer &im, NodeRef n) {
  if (im.attrString(n, "approximate", "none") != "none")
    return im.error("Gelu with approximate='tanh' is not supported");
  return convUnary<GeluOp>(im, n);
}

LogicalResult convDropout(Importer &im, NodeRef n) {
  if (n.output_size() > 1 && !n.output(1).empty())
    return im.error("Dropout's mask output is not supported (inference only)");
  return convIdentity(im, n);
}

/// MatMul with numpy semantics for rank-1 operands.
FailureOr<Value> matmul(Importer &im, Value a, Value b) {
  bool aVec = tyOf(a).getRank() == 1, bVec = tyOf(b).getRank() == 1;
  if (aVec)
    a = reshape(im, a, {1, shapeOf(a)[0]});
  if (bVec)
    b = reshape(im, b, {shapeOf(b)[0], 1});
  auto s = shape::matmul(shapeOf(a), shapeOf(b), im.loc);
  if (failed(s))
    return failure();
  Value r = MatmulOp::create(im.b, im.loc, tyOf(a).clone(*s), a, b);
  SmallVector<int64_t> out(*s);
  if (bVec)
    out.erase(out.end() - 1);
  if (aVec)
    out.erase(out.end() - (bVec ? 1 : 2));
  return reshape(im, r, out);
}

LogicalResult convMatMul(Importer &im, NodeRef n) {
  auto a = im.value(n, 0), b = im.value(n, 1);
  if (failed(a) || failed(b))
    return failure();
  auto r = matmul(im, *a, *b);
  if (failed(r))
    return failure();
  im.setOutput(n, 0, *r);
  return success();
}

Value transpose(Importer &im, Value v, ArrayRef<int64_t> perm) {
  auto s = shape::transpose(shapeOf(v), perm, im.loc);
  return TransposeOp::create(im.b, im.loc, tyOf(v).clone(*s), v,
                             im.b.getDenseI64ArrayAttr(perm));
}

LogicalResult convGemm(Importer &im, NodeRef n) {
  auto a = im.value(n, 0), b = im.value(n, 1);
  if (failed(a) || failed(b))
    return failure();
  if (tyOf(*a).getRank() != 2 || tyOf(*b).getRank() != 2)
    return im.error("Gemm expects rank-2 A and B");
  Value A = *a, B = *b;
  if (im.attrInt(n, "transA", 0))
    A = transpose(im, A, {1, 0});
  if (im.attrInt(n, "transB", 0))
    B = transpose(im, B, {1, 0});
  auto r = matmul(im, A, B);
  if (failed(r))
    return failure();
  Value y = *r;
  Type et = tyOf(y).getElementType();
  double alpha = im.attrFloat(n, "alpha", 1.0), beta = im.attrFloat(n, "beta", 1.0);
  if (alpha != 1.0)
    y = *binary<MulOp>(im, y, im.scalarLike(et, alpha));
  if (im.hasInput(n, 2) && beta != 0.0) {
    auto c = im.value(n, 2);
    if (failed(c))
      return failure();
    Value C = *c;
    if (beta != 1.0)
      C = *binary<MulOp>(im, C, im.scalarLike(et, beta));
    auto s = binary<AddOp>(im, y, C);
    if (failed(s))
      return failure();
    y = *s;
  }
  im.setOutput(n, 0, y);
  return success();
}

/// Resolves auto_pad into explicit [top, left, bottom, right] pads.
FailureOr<SmallVector<int64_t>> windowPads(Importer &im, NodeRef n,
                                           ArrayRef<int64_t> in,
                                           ArrayRef<int64_t> k,
                                           ArrayRef<int64_t> s,
                                           ArrayRef<int64_t> d) {
  std::string autoPad = im.attrString(n, "auto_pad", "NOTSET");
  SmallVector<int64_t> pads(4, 0);
  if (autoPad == "NOTSET") {
    if (auto p = im.attrInts(n, "pads")) {
      if (p->size() != 4)
        return im.error(Twine(n.op_type()) + ": expected 4 pads for 2-D, got " +
                        Twine(p->size()));
      pads.assign(p->begin(), p->end());
    }
  } else if (autoPad == "VALID") {
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (int i = 0; i < 2; ++i) {
      int64_t out = (in[i] + s[i] - 1) / s[i];
      int64_t total =
          std::max<int64_t>(0, (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in[i]);
      int64_t small = total / 2, big = total - small;
      pads[i] = autoPad == "SAME_UPPER" ? small : big;
      pads[2 + i] = autoPad == "SAME_UPPER" ? big : small;
    }
  } else {
    return im.error(Twine(n.op_type()) + ": unknown auto_pad '" + autoPad + "'");
  }
  return pads;
}

std::vector<int64_t> intsOr(Importer &im, NodeRef n, StringRef name,
                            std::vector<int64_t> dflt) {
  auto v = im.attrInts(n, name);
  return v ? *v : dflt;
}

/// Conv on 1-D inputs is imported as a 2-D conv over [N, C, 1, L].
LogicalResult convConv(Importer &im, NodeRef n) {
  auto x = im.value(n, 0), w = im.value(n, 1);
  if (failed(x) || failed(w))
    return failure();
  Value X = *x, W = *w;
  int64_t rank = tyOf(X).getRank();
  bool is1d = rank == 3;
  if (rank != 4 && !is1d)
    return im.error("Conv supports 1-D and 2-D convolutions; input has rank " +
                    Twine(rank));
  auto attr2 = [&](StringRef name, int64_t dflt) {
    auto v = intsOr(im, n, name, {});
    if (v.empty())
      v.assign(2, dflt);
    else if (is1d)
      v.insert(v.begin(), dflt);
    return SmallVector<int64_t>(v.begin(), v.end());
  };
  if (is1d) {
    auto xs = shapeOf(X), ws = shapeOf(W);
    X = reshape(im, X, {xs[0], xs[1], 1, xs[2]});
    W = reshape(im, W, {ws[0], ws[1], 1, ws[2]});
  }
  SmallVector<int64_t> strides = attr2("strides", 1), dil = attr2("dilations", 1);
  SmallVector<int64_t> k{shapeOf(W)[2], shapeOf(W)[3]};
  SmallVector<int64_t> pads;
  if (is1d && im.attrString(n, "auto_pad", "NOTSET") == "NOTSET") {
    auto p = intsOr(im, n, "pads", {0, 0});
    if (p.size() != 2)
      return im.error("Conv 1-D expects 2 pads");
    pads = {0, p[0], 0, p[1]};
  } else {
    auto p = windowPads(im, n, shapeOf(X).drop_front(2), k, strides, dil);
    if (failed(p))
      return failure();
    pads = *p;
  }
  int64_t groups = im.attrInt(n, "group", 1);
  auto s = shape::conv2d(shapeOf(X), shapeOf(W), strides, dil, pads, groups,
                         im.loc);
  if (failed(s))
    return failure();
  Value bias;
  if (im.hasInput(n, 2)) {
    auto bv = im.value(n, 2);
    if (failed(bv))
      return failure();
    bias = *bv;
  }
  Value r = ConvOp::create(im.b, im.loc, tyOf(X).clone(*s), X, W, bias,
                           im.b.getDenseI64ArrayAttr(strides),
                           im.b.getDenseI64ArrayAttr(dil),
                           im.b.getDenseI64ArrayAttr(pads),
                           im.b.getI64IntegerAttr(groups));
  if (is1d)
    r = reshape(im, r, {(*s)[0], (*s)[1], (*s)[3]});
  im.setOutput(n, 0, r);
  return success();
}

LogicalResult convConvTranspose(Importer &im, NodeRef n) {
  auto x = im.value(n, 0), w = im.value(n, 1);
  if (failed(x) || failed(w))
    return failure();
  if (tyOf(*x).getRank() != 4)
    return im.error("ConvTranspose supports 2-D only; input has rank " +
                    Twine(tyOf(*x).getRank()));
  if (im.attr(n, "output_shape"))
    return im.error("ConvTranspose with output_shape is not supported; give "
                    "pads and output_padding");
  std::string autoPad = im.attrString(n, "auto_pad", "NOTSET");
  if (autoPad != "NOTSET" && autoPad != "VALID")
    return im.error("ConvTranspose auto_pad '" + autoPad + "' is not supported");
  auto strides = intsOr(im, n, "strides", {1, 1});
  auto dil = intsOr(im, n, "dilations", {1, 1});
  auto pads = intsOr(im, n, "pads", {0, 0, 0, 0});
  auto outPad = intsOr(im, n, "output_padding", {0, 0});
  int64_t groups = im.attrInt(n, "group", 1);
  auto s = shape::convTranspose2d(shapeOf(*x), shapeOf(*w), strides, dil, pads,
                                  outPad, groups, im.loc);
  if (failed(s))
    return failure();
  Value bias;
  if (im.hasInput(n, 2)) {
    auto bv = im.value(n, 2);
    if (failed(bv))
      return failure();
    bias = *bv;
  }
  im.setOutput(n, 0,
               ConvTransposeOp::create(
                   im.b, im.loc, tyOf(*x).clone(*s), *x, *w, bias,
                   im.b.getDenseI64ArrayAttr(strides),
                   im.b.getDenseI64ArrayAttr(dil), im.b.getDenseI64ArrayAttr(pads),
                   im.b.getDenseI64ArrayAttr(outPad), im.b.getI64IntegerAttr(groups)));
  return success();
}

LogicalResult convPool(Importer &im, NodeRef n) {
  bool isMax = n.op_type() == "MaxPool";
  if (isMax && n.output_size() > 1 && !n.output(1).empty())
    return im.error("MaxPool's Indices output is not supported");
  auto x = im.value(n, 0);
  if (failed(x))
    return failure();
  if (tyOf(*x).getRank() != 4)
    return im.error(Twine(n.op_type()) + " supports 2-D only; input has rank " +
                    Twine(tyOf(*x).getRank()));
  auto kernel = intsOr(im, n, "kernel_shape", {});
  if (kernel.size() != 2)
    return im.error(Twine(n.op_type()) + " needs a 2-element kernel_shape");
  auto strides = intsOr(im, n, "strides", {1, 1});
  auto dil = intsOr(im, n, "dilations", {1, 1});
  auto in = shapeOf(*x);
  auto p = windowPads(im, n, in.drop_front(2), kernel, strides, dil);
  if (failed(p))
    return failure();
  SmallVector<int64_t> pads = *p;
  bool countIncludePad = im.attrInt(n, "count_include_pad", 0) != 0;
  if (im.attrInt(n, "ceil_mode", 0)) {
    // Extra end padding yields the ceil-mode output size.
    for (int i = 0; i < 2; ++i) {
      int64_t eff = (kernel[i] - 1) * dil[i] + 1;
      int64_t span = in[2 + i] + pads[i] + pads[2 + i] - eff;
      int64_t outCeil = (span + strides[i] - 1) / strides[i] + 1;
      // The last window must start inside the input or left padding.
      if ((outCeil - 1) * strides[i] >= in[2 + i] + pads[i])
        --outCeil;
      int64_t extra = (outCeil - 1) * strides[i] + eff - (in[2 + i] + pads[i] + pads[2 + i]);
      if (extra > 0) {
        if (!isMax && countIncludePad)
          return im.error("AveragePool with ceil_mode=1 and "
                          "count_include_pad=1 is not supported");
        pads[2 + i] += extra;
      }
    }
  }
  auto s = shape::pool2d(in, kernel, strides, dil, pads, im.loc);
  if (failed(s))
    return failure();
  auto resTy = tyOf(*x).clone(*s);
  Value r;
  if (isMax) {
    r = MaxPoolOp::create(im.b, im.loc, resTy, *x,
                          im.b.getDenseI64ArrayAttr(kernel),
                          im.b.getDenseI64ArrayAttr(strides),
                          im.b.getDenseI64ArrayAttr(dil),
                          im.b.getDenseI64ArrayAttr(pads));
  } else {
    if (dil != std::vector<int64_t>{1, 1})
      return im.error("AveragePool with dilations is not supported");
    r = AvgPoolOp::create(im.b, im.loc, resTy, *x,
                          im.b.getDenseI64ArrayAttr(kernel),
                          im.b.getDenseI64ArrayAttr(strides),
                          im.b.getDenseI64ArrayAttr(pads),
                          im.b.getBoolAttr(countIncludePad));
  }
  im.setOutput(n, 0, r);
  return success();
}

template <typename OpTy>
Value reduceOp(Importer &im, Value x, ArrayRef<int64_t> axes, bool keepdims) {
  auto s = shape::reduce(shapeOf(x), axes, keepdims, im.loc);
  return OpTy::create(im.b, im.loc, tyOf(x).clone(*s), x,
                      im.b.getDenseI64ArrayAttr(axes), im.b.getBoolAttr(keepdims));
}

LogicalResult convGlobalPool(Importer &im, NodeRef n) {
  auto x = im.value(n, 0);
  if (failed(x))
    return failure();
  SmallVector<int64_t> axes;
  for (int64_t i = 2; i < tyOf(*x).getRank(); ++i)
    axes.push_back(i);
  Value r = n.op_type() == "GlobalMaxPool"
                ? reduceOp<ReduceMaxOp>(im, *x, axes, true)
                : reduceOp<ReduceMeanOp>(im, *x, axes, true);
  im.setOutput(n, 0, r);
  return success();
}

LogicalResult convReduce(Importer &im, NodeRef n) {
  StringRef op = n.op_type();
  auto x = im.value(n, 0);
  if (failed(x))
    return failure();
  int64_t rank = tyOf(*x).getRank();
  bool axesAsInput = op == "ReduceSum" ? im.opset >= 13 : im.opset >= 18;
  std::vector<int64_t> axes;
  bool haveAxes = false;
  if (axesAsInput) {
    if (im.hasInput(n, 1)) {
      auto c = im.constant(n, 1, "axes");
      if (failed(c))
        return failure();
      for (int64_t i = 0; i < (*c)->numElements(); ++i)
        axes.push_back((*c)->getI(i));
      haveAxes = true;
    }
  } else if (auto a = im.attrInts(n, "axes")) {
    axes = *a;
    haveAxes = true;
  }
  if (!haveAxes || axes.empty()) {
    if (im.attrInt(n, "noop_with_empty_axes", 0)) {
      im.setOutput(n, 0, *x);
      return success();
    }
    axes.clear();
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  }
  for (auto &a : axes) {
    a = normAxis(a, rank);
    if (a < 0 || a >= rank)
      return im.error(Twine(op) + ": axis out of range for rank " + Twine(rank));
  }
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  bool keep = im.attrInt(n, "keepdims", 1) != 0;
  Value r;
  if (op == "ReduceSum")
    r = reduceOp<ReduceSumOp>(im, *x, axes, keep);
  else if (op == "ReduceMean")
    r = reduceOp<ReduceMeanOp>(im, *x, axes, keep);
  else if (op == "ReduceMax")
    r = reduceOp<ReduceMaxOp>(im, *x, axes, keep);
  else if (op == "ReduceMin")
    r = reduceOp<ReduceMinOp>(im, *x, axes, keep);
  else if (op == "ReduceProd")
    r = reduceOp<ReduceProdOp>(im, *x, axes, keep);
  else if (op == "ReduceSumSquare") {
    r = reduceOp<ReduceSumOp>(im, *binary<MulOp>(im, *x, *x), axes, keep);
  } else if (op == "ReduceL2") {
    Value ss = reduceOp<ReduceSumOp>(im, *binary<MulOp>(im, *x, *x), axes, keep);
    r = unary<SqrtOp>(im, ss);
  } else
    return im.error(Twine("unsupported reduction ") + op);
  im.setOutput(n, 0, r);
  return success();
}

LogicalResult convBatchNorm(Importer &im, NodeRef n) {
  if (im.attrInt(n, "training_mode", 0))
    return im.error("BatchNormalization in training mode is not supported");
  SmallVector<Value> v;
  for (int i = 0; i < 5; ++i) {
    auto x = im.value(n, i);
    if (failed(x))
      return failure();
    v.push_back(*x);
  }
  im.setOutput(n, 0,
               BatchNormOp::create(im.b, im.loc, v[0].getType(), v[0], v[1],
                                   v[2], v[3], v[4],
                                   im.b.getF64FloatAttr(
                                       im.attrFloat(n, "epsilon", 1e-5))));
  return success();
}

LogicalResult convLayerNorm(Importer &im, NodeRef n) {
  for (int o = 1; o < n.output_size(); ++o)
    if (!n.output(o).empty())
      return im.error("LayerNormalization's Mean/InvStdDev outputs are not "
                      "supported");
  auto x = im.value(n, 0);
  if (failed(x))
    return failure();
  Value scale, bias;
  if (im.hasInput(n, 1)) {
    auto s = im.value(n, 1);
    if (failed(s))
      return failure();
    scale = *s;
  }
  if (im.hasInput(n, 2)) {
    auto s = im.value(n, 2);
    if (failed(s))
      return failure();
    bias = *s;
  }
  int64_t axis = normAxis(im.attrInt(n, "axis", -1), tyOf(*x).getRank());
  im.setOutput(n, 0,
               LayerNormOp::create(im.b, im.loc, x->getType(), *x, scale, bias,
                                   im.b.getI64IntegerAttr(axis),
                                   im.b.getF64FloatAttr(
                                       im.attrFloat(n, "epsilon", 1e-5))));
  return success();
}

LogicalResult convSoftmax(Importer &im, NodeRef n) {
  auto x = im.value(n, 0);
  if (failed(x))
    return failure();
  bool isLog = n.op_type() == "LogSoftmax";
  int64_t rank = tyOf(*x).getRank();
  int64_t axis = normAxis(im.attrInt(n, "axis", im.opset >= 13 ? -1 : 1), rank);
  if (axis < 0 || axis >= rank)
    return im.error(Twine(n.op_type()) + ": axis out of range");
  Value in = *x;
  auto shape = shapeOf(in);
  if (im.opset < 13 && axis != rank - 1) {
    // Old semantics: softmax over the flattened trailing dims.
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < rank; ++i)
      (i < axis ? outer : inner) *= shape[i];
    SmallVector<int64_t> orig(shape);
    Value f = reshape(im, in, {outer, inner});
    Value s = SoftmaxOp::create(im.b, im.loc, f.getType(), f,
                                im.b.getI64IntegerAttr(1), im.b.getBoolAttr(isLog));
    im.setOutput(n, 0, reshape(im, s, orig));
    return success();
  }
  im.setOutput(n, 0,
               SoftmaxOp::create(im.b, im.loc, in.getType(), in,
                                 im.b.getI64IntegerAttr(axis),
                                 im.b.getBoolAttr(isLog)));
  return success();
}

// --- shape and data movement ------------------------------------------------

/// Sets output 0 to `v` reshaped, folding on the host when the input is known.
LogicalResult reshapeOut(Importer &im, NodeRef n, ArrayRef<int64_t> shape) {
  auto e = im.input(n, 0);
  if (failed(e))
    return failure();
  if (failed(shape::reshape((*e)->type.getShape(), shape, im.loc)))
    return failure();
  if ((*e)->host) {
    im.setOutputHost(n, 0, reshapeHost(*(*e)->host, shape));
    return success();
  }
  im.setOutput(n, 0, reshape(im, (*e)->value, shape));
  return success();
}

LogicalResult convReshape(Importer &im, NodeRef n) {
  auto e = im.input(n, 0);
  if (failed(e))
    return failure();
  auto c = im.constant(n, 1, "the target shape");
  if (failed(c))
    return failure();
  auto in = (*e)->type.getShape();
  bool allowZero = im.attrInt(n, "allowzero", 0) != 0;
  SmallVector<int64_t> shape;
  int64_t inferIdx = -1, known = 1;
  for (int64_t i = 0; i < (*c)->numElements(); ++i) {
    int64_t d = (*c)->getI(i);
    if (d == 0 && !allowZero) {
      if (i >= (int64_t)in.size())
        return im.error("Reshape: 0 at position " + Twine(i) +
                        " copies a dim the input does not have");
      d = in[i];
    }
    if (d == -1) {
      if (inferIdx >= 0)
        return im.error("Reshape: more than one -1 in the target shape");
      inferIdx = i;
      shape.push_back(1);
      continue;
    }
    if (d < 0)
      return im.error("Reshape: invalid target dim " + Twine(d));
    known *= d;
    shape.push_back(d);
  }
  int64_t total = shape::numElements(in);
  if (inferIdx >= 0) {
    if (known == 0 || total % known != 0)
      return im.error("Reshape: cannot infer -1: " + Twine(total) +
                      " elements are not divisible by " + Twine(known));
    shape[inferIdx] = total / known;
  }
  return reshapeOut(im, n, shape);
}

LogicalResult convFlatten(Importer &im, NodeRef n) {
  auto e = im.input(n, 0);
  if (failed(e))
    return failure();
  auto in = (*e)->type.getShape();
  int64_t axis = normAxis(im.attrInt(n, "axis", 1), in.size());
  int64_t a = 1, b = 1;
  for (int64_t i = 0; i < (int64_t)in.size(); ++i)
    (i < axis ? a : b) *= in[i];
  return reshapeOut(im, n, {a, b});
}

FailureOr<std::vector<int64_t>> axesFrom(Importer &im, NodeRef n, int inputIdx,
                                         bool *present) {
  std::vector<int64_t> axes;
  *present = false;
  if (im.opset >= 13) {
    if (im.hasInput(n, inputIdx)) {
      auto c = im.constant(n, inputIdx, "axes");
      if (failed(c))
        return failure();
      for (int64_t i = 0; i < (*c)->numElements(); ++i)
        axes.push_back((*c)->getI(i));
      *present = true;
    }
  } else if (auto a = im.attrInts(n, "axes")) {
    axes = *a;
    *present = true;
  }
  return axes;
}

LogicalResult convSqueeze(Importer &im, NodeRef n) {
  auto e = im.input(n, 0);
  if (failed(e))
    return failure();
  auto in = (*e)->type.getShape();
  bool present;
  auto axes = axesFrom(im, n, 1, &present);
  if (failed(axes))
    return failure();
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < (int64_t)in.size(); ++i) {
    bool listed = llvm::any_of(*axes, [&](int64_t a) {
      return normAxis(a, in.size()) == i;
    });
    if (listed && in[i] != 1)
      return im.error("Squeeze: dim " + Twine(i) + " has size " + Twine(in[i]) +
                      ", not 1");
    if ((present && listed) || (!present && in[i] == 1))
      continue;
    shape.push_back(in[i]);
  }
  return reshapeOut(im, n, shape);
}

LogicalResult convUnsqueeze(Importer &im, NodeRef n) {
  auto e = im.input(n, 0);
  if (failed(e))
    return failure();
  auto in = (*e)->type.getShape();
  bool present;
  auto axes = axesFrom(im, n, 1, &present);
  if (failed(axes))
    return failure();
  int64_t outRank = in.size() + axes->size();
  std::vector<bool> ins(outRank, false);
  for (int64_t a : *axes) {
    a = normAxis(a, outRank);
    if (a < 0 || a >= outRank || ins[a])
      return im.error("Unsqueeze: invalid or repeated axis " + Twine(a));
    ins[a] = true;
  }
  SmallVector<int64_t> shape;
  size_t j = 0;
  for (int64_t i = 0; i < outRank; ++i)
    shape.push_back(ins[i] ? 1 : in[j++]);
  return reshapeOut(im, n, shape);
}

LogicalResult convTranspose(Importer &im, NodeRef n) {
  auto e = im.input(n, 0);
  if (failed(e))
    return failure();
  int64_t rank = (*e)->type.getRank();
  std::vector<int64_t> perm;
  if (auto p = im.attrInts(n, "perm"))
    perm = *p;
  else
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  auto s = shape::transpose((*e)->type.getShape(), perm, im.loc);
  if (failed(s))
    return failure();
  if ((*e)->host && (*e)->host->hasValues()) {
    HostTensor &h = *(*e)->host;
    auto r = makeHost(h.type.clone(*s));
    auto inShape = h.type.getShape();
    forEachIndex(*s, [&](ArrayRef<int64_t> idx, int64_t lin) {
      int64_t src = 0;
      SmallVector<int64_t> inIdx(rank);
      for (int64_t i = 0; i < rank; ++i)
        inIdx[perm[i]] = idx[i];
      for (int64_t i = 0; i < rank; ++i)
        src = src * inShape[i] + inIdx[i];
      hostSet(*r, lin, h.getF(src));
    });
    im.setOutputHost(n, 0, r);
    return success();
  }
  im.setOutput(n, 0, transpose(im, im.materialize(**e, n.input(0)), perm));
  return success();
}

LogicalResult convShape(Importer &im, NodeRef n) {
  auto e = im.input(n, 0);
  if (failed(e))
    return failure();
  auto in = (*e)->type.getShape();
  int64_t rank = in.size();
  int64_t start = im.attrInt(n, "start", 0), end = im.attrInt(n, "end", rank);
  start = std::clamp<int64_t>(normAxis(start, rank), 0, rank);
  end = std::clamp<int64_t>(normAxis(end, rank), 0, rank);
  auto h = std::make_shared<HostTensor>();
  h->type = RankedTensorType::get({std::max<int64_t>(0, end - start)},
                                  im.b.getI64Type());
  for (int64_t i = start; i < end; ++i)
    h->ints.push_back(in[i]);
  im.setOutputHost(n, 0, h);
  return success();
}

LogicalResult convSize(Importer &im, NodeRef n) {
  auto e = im.input(n, 0);
  if (failed(e))
    return failure();
  auto h = std::make_shared<HostTensor>();
  h->type = RankedTensorType::get({}, im.b.getI64Type());
  h->ints = {shape::numElements((*e)->type.getShape())};
  im.setOutputHost(n, 0, h);
  return success();
}

LogicalResult convConstant(Importer &im, NodeRef n) {
  if (n.attribute_size() != 1)
    return im.error("Constant needs exactly one attribute");
  const auto &a = n.attribute(0);
  auto h = std::make_shared<HostTensor>();
  if (a.name() == "value") {
    auto d = im.decodeTensor(a.t(), n.output(0));
    if (failed(d))
      return failure();
    h = *d;
  } else if (a.name() == "value_float") {
    h->type = RankedTensorType::get({}, im.b.getF32Type());
    h->floats = {a.f()};
  } else if (a.name() == "value_floats") {
    h->type = RankedTensorType::get({(int64_t)a.floats_size()}, im.b.getF32Type());
    h->floats.assign(a.floats().begin(), a.floats().end());
  } else if (a.name() == "value_int") {
    h->type = RankedTensorType::get({}, im.b.getI64Type());
    h->ints = {a.i()};
  } else if (a.name() == "value_ints") {
    h->type = RankedTensorType::get({(int64_t)a.ints_size()}, im.b.getI64Type());
    h->ints.assign(a.ints().begin(), a.ints().end());
  } else {
    return im.error("Constant attribute '" + a.name() + "' is not supported");
  }
  im.setOutputHost(n, 0, h);
  return success();
}

LogicalResult convConstantOfShape(Importer &im, NodeRef n) {
  auto c = im.constant(n, 0, "the shape");
  if (failed(c))
    return failure();
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < (*c)->numElements(); ++i) {
    if ((*c)->getI(i) < 0)
      return im.error("ConstantOfShape: negative dim");
    shape.push_back((*c)->getI(i));
  }
  HostPtr v;
  if (auto *a = im.attr(n, "value")) {
    auto d = im.decodeTensor(a->t(), "value");
    if (failed(d))
      return failure();
    v = *d;
  } else {
    v = std::make_shared<HostTensor>();
    v->type = RankedTensorType::get({1}, im.b.getF32Type());
    v->floats = {0.0};
  }
  if (shape::numElements(shape) > (1 << 24))
    return im.error("ConstantOfShape: result is too large");
  auto r = makeHost(RankedTensorType::get(shape, v->type.getElementType()));
  double fill = v->getF(0);
  for (int64_t i = 0; i < r->numElements(); ++i)
    hostSet(*r, i, fill);
  im.setOutputHost(n, 0, r);
  return success();
}

LogicalResult convRange(Importer &im, NodeRef n) {
  auto s = im.constant(n, 0, "start"), l = im.constant(n, 1, "limit"),
       d = im.constant(n, 2, "delta");
  if (failed(s) || failed(l) || failed(d))
    return failure();
  double start = (*s)->getF(0), limit = (*l)->getF(0), delta = (*d)->getF(0);
  if (delta == 0)
    return im.error("Range: delta is zero");
  int64_t count = std::max<int64_t>(0, (int64_t)std::ceil((limit - start) / delta));
  if (count > (1 << 24))
    return im.error("Range: result is too large");
  auto r = makeHost(RankedTensorType::get({count}, (*s)->type.getElementType()));
  for (int64_t i = 0; i < count; ++i)
    hostSet(*r, i, start + i * delta);
  im.setOutputHost(n, 0, r);
  return success();
}

LogicalResult convConcat(Importer &im, NodeRef n) {
  SmallVector<Entry *> ins;
  for (int i = 0; i < n.input_size(); ++i) {
    if (n.input(i).empty())
      continue;
    auto e = im.input(n, i);
    if (failed(e))
      return failure();
    ins.push_back(*e);
  }
  if (ins.empty())
    return im.error("Concat needs at least one input");
  int64_t rank = ins[0]->type.getRank();
  int64_t axis = normAxis(im.attrInt(n, "axis", 0), rank);
  SmallVector<shape::Shape> shapes;
  for (Entry *e : ins)
    shapes.emplace_back(e->type.getShape().begin(), e->type.getShape().end());
  auto s = shape::concat(shapes, axis, im.loc);
  if (failed(s))
    return failure();
  if (allHost(im, n)) {
    auto r = makeHost(ins[0]->type.clone(*s));
    int64_t outer = 1, innerOut = 1;
    for (int64_t i = 0; i < axis; ++i)
      outer *= (*s)[i];
    for (int64_t i = axis; i < rank; ++i)
      innerOut *= (*s)[i];
    int64_t off = 0;
    for (Entry *e : ins) {
      int64_t inner = 1;
      for (int64_t i = axis; i < rank; ++i)
        inner *= e->type.getDimSize(i);
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < inner; ++j)
          hostSet(*r, o * innerOut + off + j, e->host->getF(o * inner + j));
      off += inner;
    }
    im.setOutputHost(n, 0, r);
    return success();
  }
  SmallVector<Value> vals;
  for (int i = 0; i < n.input_size(); ++i)
    if (!n.input(i).empty())
      vals.push_back(*im.value(n, i));
  // Skip empty inputs (size 0 along the axis).
  SmallVector<Value> nonEmpty;
  for (Value v : vals)
    if (shapeOf(v)[axis] != 0)
      nonEmpty.push_back(v);
  if (nonEmpty.size() == 1) {
    im.setOutput(n, 0, nonEmpty[0]);
    return success();
  }
  im.setOutput(n, 0,
               ConcatOp::create(im.b, im.loc, tyOf(vals[0]).clone(*s), nonEmpty,
                                im.b.getI64IntegerAttr(axis)));
  return success();
}

/// Builds a slice of `e` (host-folded when known).
FailureOr<std::pair<Value, HostPtr>>
sliceOf(Importer &im, Entry &e, StringRef name, ArrayRef<int64_t> starts,
        ArrayRef<int64_t> steps, ArrayRef<int64_t> sizes) {
  if (e.host && e.host->hasValues()) {
    auto r = makeHost(e.type.clone(sizes));
    auto in = e.type.getShape();
    forEachIndex(sizes, [&](ArrayRef<int64_t> idx, int64_t lin) {
      int64_t src = 0;
      for (size_t i = 0; i < in.size(); ++i)
        src = src * in[i] + starts[i] + idx[i] * steps[i];
      hostSet(*r, lin, e.host->getF(src));
    });
    return std::make_pair(Value(), r);
  }
  if (failed(shape::slice(e.type.getShape(), starts, steps, sizes, im.loc)))
    return failure();
  Value v = im.materialize(e, name);
  Value s = SliceOp::create(im.b, im.loc, e.type.clone(sizes), v,
                            im.b.getDenseI64ArrayAttr(starts),
                            im.b.getDenseI64ArrayAttr(steps));
  return std::make_pair(s, HostPtr());
}

LogicalResult convSlice(Importer &im, NodeRef n) {
  auto e = im.input(n, 0);
  if (failed(e))
    return failure();
  auto in = (*e)->type.getShape();
  int64_t rank = in.size();
  std::vector<int64_t> starts, ends, axes, steps;
  auto list = [&](int idx, StringRef what, std::vector<int64_t> &out) -> LogicalResult {
    if (!im.hasInput(n, idx))
      return success();
    auto c = im.constant(n, idx, what);
    if (failed(c))
      return failure();
    for (int64_t i = 0; i < (*c)->numElements(); ++i)
      out.push_back((*c)->getI(i));
    return success();
  };
  if (im.opset < 10) {
    starts = intsOr(im, n, "starts", {});
    ends = intsOr(im, n, "ends", {});
    axes = intsOr(im, n, "axes", {});
  } else if (failed(list(1, "starts", starts)) || failed(list(2, "ends", ends)) ||
             failed(list(3, "axes", axes)) || failed(list(4, "steps", steps))) {
    return failure();
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (starts.size() != ends.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    return im.error("Slice: starts/ends/axes/steps lengths differ");
  SmallVector<int64_t> st(rank, 0), sp(rank, 1), sz(in.begin(), in.end());
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = normAxis(axes[i], rank);
    if (a < 0 || a >= rank)
      return im.error("Slice: axis " + Twine(axes[i]) + " out of range");
    int64_t dim = in[a], step = steps[i];
    if (step == 0)
      return im.error("Slice: step is 0 on axis " + Twine(axes[i]));
    // ONNX clamps starts/ends to [0, dim] for positive steps and to
    // [-1, dim - 1] for negative ones (INT64 min/max mean "to the end").
    int64_t s = starts[i], en = ends[i];
    s = s < 0 ? s + dim : s;
    en = en < 0 ? en + dim : en;
    if (dim == 0) {
      sz[a] = 0;
    } else if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      en = std::clamp<int64_t>(en, 0, dim);
      sz[a] = en > s ? (en - s + step - 1) / step : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      en = std::clamp<int64_t>(en, -1, dim - 1);
      sz[a] = s > en ? (s - en - step - 1) / -step : 0;
    }
    st[a] = sz[a] == 0 ? 0 : s;
    sp[a] = sz[a] == 0 ? 1 : step;
  }
  auto r = sliceOf(im, **e, n.input(0), st, sp, sz);
  if (failed(r))
    return failure();
  if (r->second)
    im.setOutputHost(n, 0, r->second);
  else
    im.setOutput(n, 0, r->first);
  return success();
}

LogicalResult convSplit(Importer &im, NodeRef n) {
  auto e = im.input(n, 0);
  if (failed(e))
    return failure();
  auto in = (*e)->type.getShape();
  int64_t rank = in.size();
  int64_t axis = normAxis(im.attrInt(n, "axis", 0), rank);
  if (axis < 0 || axis >= rank)
    return im.error("Split: axis out of range");
  std::vector<int64_t> split;
  if (im.opset >= 13 && im.hasInput(n, 1)) {
    auto c = im.constant(n, 1, "split");
    if (failed(c))
      return failure();
    for (int64_t i = 0; i < (*c)->numElements(); ++i)
      split.push_back((*c)->getI(i));
  } else if (auto s = im.attrInts(n, "split")) {
    split = *s;
  } else {
    int64_t parts = n.output_size();
    int64_t chunk = (in[axis] + parts - 1) / parts;
    for (int64_t i = 0; i < parts; ++i)
      split.push_back(std::min(chunk, in[axis] - i * chunk));
  }
  if ((int64_t)split.size() != n.output_size())
    return im.error("Split: " + Twine(split.size()) + " sizes for " +
                    Twine(n.output_size()) + " outputs");
  int64_t off = 0;
  for (size_t i = 0; i < split.size(); ++i) {
    SmallVector<int64_t> st(rank, 0), sp(rank, 1), sz(in.begin(), in.end());
    st[axis] = off;
    sz[axis] = split[i];
    off += split[i];
    auto r = sliceOf(im, **e, n.input(0), st, sp, sz);
    if (failed(r))
      return failure();
    if (r->second)
      im.setOutputHost(n, i, r->second);
    else
      im.setOutput(n, i, r->first);
  }
  if (off != in[axis])
    return im.error("Split: sizes add up to " + Twine(off) + ", dim is " +
                    Twine(in[axis]));
  return success();
}

LogicalResult convGather(Importer &im, NodeRef n) {
  auto e = im.input(n, 0), ie = im.input(n, 1);
  if (failed(e) || failed(ie))
    return failure();
  int64_t rank = (*e)->type.getRank();
  int64_t axis = normAxis(im.attrInt(n, "axis", 0), rank);
  auto s = shape::gather((*e)->type.getShape(), (*ie)->type.getShape(), axis,
                         im.loc);
  if (failed(s))
    return failure();
  int64_t extent = (*e)->type.getDimSize(axis);
  if (allHost(im, n) && shape::numElements(*s) <= kHostFoldLimit) {
    HostTensor &data = *(*e)->host, &idx = *(*ie)->host;
    auto r = makeHost(data.type.clone(*s));
    auto in = data.type.getShape();
    int64_t ir = idx.type.getRank();
    bool bad = false;
    forEachIndex(*s, [&](ArrayRef<int64_t> o, int64_t lin) {
      int64_t il = 0;
      for (int64_t i = 0; i < ir; ++i)
        il = il * idx.type.getDimSize(i) + o[axis + i];
      int64_t k = idx.getI(il);
      if (k < 0)
        k += extent;
      if (k < 0 || k >= extent) {
        bad = true;
        return;
      }
      int64_t src = 0;
      for (int64_t i = 0; i < rank; ++i) {
        int64_t c = i < axis ? o[i] : i == axis ? k : o[i - 1 + ir];
        src = src * in[i] + c;
      }
      hostSet(*r, lin, data.getF(src));
    });
    if (bad)
      return im.error("Gather: constant index out of range for dim of size " +
                      Twine(extent));
    im.setOutputHost(n, 0, r);
    return success();
  }
  // Constant indices are checked at compile time.
  if ((*ie)->host && (*ie)->host->hasValues())
    for (int64_t i = 0; i < (*ie)->host->numElements(); ++i) {
      int64_t k = (*ie)->host->getI(i);
      if (k < -extent || k >= extent)
        return im.error("Gather: index " + Twine(k) +
                        " out of range for dim of size " + Twine(extent));
    }
  Value data = im.materialize(**e, n.input(0));
  Value idx = im.materialize(**ie, n.input(1));
  Type it = tyOf(idx).getElementType();
  if (!it.isInteger(64) && !it.isInteger(32))
    idx = castTo(im, idx, im.b.getI64Type());
  im.setOutput(n, 0,
               GatherOp::create(im.b, im.loc, tyOf(data).clone(*s), data, idx,
                                im.b.getI64IntegerAttr(axis)));
  return success();
}

LogicalResult convPad(Importer &im, NodeRef n) {
  std::string mode = im.attrString(n, "mode", "constant");
  if (mode != "constant")
    return im.error("Pad mode '" + mode + "' is not supported (constant only)");
  auto x = im.value(n, 0);
  if (failed(x))
    return failure();
  int64_t rank = tyOf(*x).getRank();
  std::vector<int64_t> pads;
  double value = 0;
  if (im.opset < 11) {
    pads = intsOr(im, n, "pads", {});
    value = im.attrFloat(n, "value", 0.0);
  } else {
    auto c = im.constant(n, 1, "pads");
    if (failed(c))
      return failure();
    for (int64_t i = 0; i < (*c)->numElements(); ++i)
      pads.push_back((*c)->getI(i));
    if (im.hasInput(n, 2)) {
      auto v = im.constant(n, 2, "constant_value");
      if (failed(v))
        return failure();
      value = (*v)->getF(0);
    }
  }
  std::vector<int64_t> axes;
  if (im.hasInput(n, 3)) {
    auto c = im.constant(n, 3, "axes");
    if (failed(c))
      return failure();
    for (int64_t i = 0; i < (*c)->numElements(); ++i)
      axes.push_back(normAxis((*c)->getI(i), rank));
  } else {
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  }
  if (pads.size() != 2 * axes.size())
    return im.error("Pad: expected " + Twine(2 * axes.size()) + " pads, got " +
                    Twine(pads.size()));
  SmallVector<int64_t> lo(rank, 0), hi(rank, 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    lo[axes[i]] = pads[i];
    hi[axes[i]] = pads[i + axes.size()];
    if (lo[axes[i]] < 0 || hi[axes[i]] < 0)
      return im.error("Pad: negative pads (cropping) are not supported");
  }
  auto s = shape::pad(shapeOf(*x), lo, hi, im.loc);
  if (failed(s))
    return failure();
  im.setOutput(n, 0,
               PadOp::create(im.b, im.loc, tyOf(*x).clone(*s), *x,
                             im.b.getDenseI64ArrayAttr(lo),
                             im.b.getDenseI64ArrayAttr(hi),
                             im.b.getF64FloatAttr(value)));
  return success();
}

LogicalResult convExpand(Importer &im, NodeRef n) {
  auto e = im.input(n, 0);
  if (failed(e))
    return failure();
  auto c = im.constant(n, 1, "the target shape");
  if (failed(c))
    return failure();
  SmallVector<int64_t> target;
  for (int64_t i = 0; i < (*c)->numElements(); ++i)
    target.push_back((*c)->getI(i));
  auto s = shape::broadcast((*e)->type.getShape(), target, im.loc);
  if (failed(s))
    return failure();
  if ((*e)->host && (*e)->host->hasValues() &&
      shape::numElements(*s) <= kHostFoldLimit) {
    HostTensor &h = *(*e)->host;
    auto r = makeHost(h.type.clone(*s));
    forEachIndex(*s, [&](ArrayRef<int64_t> idx, int64_t lin) {
      hostSet(*r, lin, h.getF(bcastIndex(h.type.getShape(), *s, idx)));
    });
    im.setOutputHost(n, 0, r);
    return success();
  }
  Value v = im.materialize(**e, n.input(0));
  if (shapeOf(v) == ArrayRef<int64_t>(*s)) {
    im.setOutput(n, 0, v);
    return success();
  }
  im.setOutput(n, 0, BroadcastOp::create(im.b, im.loc, tyOf(v).clone(*s), v));
  return success();
}

LogicalResult convTile(Importer &im, NodeRef n) {
  auto x = im.value(n, 0);
  if (failed(x))
    return failure();
  auto c = im.constant(n, 1, "repeats");
  if (failed(c))
    return failure();
  Value v = *x;
  int64_t rank = tyOf(v).getRank();
  if ((*c)->numElements() != rank)
    return im.error("Tile: repeats must have one entry per dim");
  for (int64_t a = 0; a < rank; ++a) {
    int64_t r = (*c)->getI(a);
    if (r < 1 || r > 4096)
      return im.error("Tile: repeats must be in [1, 4096], got " + Twine(r));
    if (r == 1)
      continue;
    SmallVector<Value> parts(r, v);
    SmallVector<shape::Shape> shapes(r, shape::Shape(shapeOf(v)));
    auto s = shape::concat(shapes, a, im.loc);
    v = ConcatOp::create(im.b, im.loc, tyOf(v).clone(*s), parts,
                         im.b.getI64IntegerAttr(a));
  }
  im.setOutput(n, 0, v);
  return success();
}

} // namespace

const std::unordered_map<std::string, Converter> &converters() {
  static const std::unordered_map<std::string, Converter> table = [] {
    std::unordered_map<std::string, Converter> t = {
        {"Abs", convUnary<AbsOp>},
        {"Neg", convUnary<NegOp>},
        {"Sqrt", convUnary<SqrtOp>},
        {"Exp", convUnary<ExpOp>},
        {"Log", convUnary<LogOp>},
        {"Relu", convUnary<ReluOp>},
        {"Sigmoid", convUnary<SigmoidOp>},
        {"Tanh", convUnary<TanhOp>},
        {"Erf", convUnary<ErfOp>},
        {"Floor", convUnary<FloorOp>},
        {"Ceil", convUnary<CeilOp>},
        {"Reciprocal", convUnary<ReciprocalOp>},
        {"Sin", convUnary<SinOp>},
        {"Cos", convUnary<CosOp>},
        {"HardSwish", convUnary<HardSwishOp>},
        {"Gelu", convGelu},
        {"Not", convNot},
        {"LeakyRelu", convLeakyRelu},
        {"HardSigmoid", convHardSigmoid},
        {"Clip", convClip},
        {"Identity", convIdentity},
        {"Dropout", convDropout},
        {"Cast", convCast},
        {"CastLike", convCast},
        {"Mean", convMean},
        {"Where", convWhere},
        {"MatMul", convMatMul},
        {"Gemm", convGemm},
        {"Conv", convConv},
        {"ConvTranspose", convConvTranspose},
        {"MaxPool", convPool},
        {"AveragePool", convPool},
        {"GlobalAveragePool", convGlobalPool},
        {"GlobalMaxPool", convGlobalPool},
        {"BatchNormalization", convBatchNorm},
        {"LayerNormalization", convLayerNorm},
        {"Softmax", convSoftmax},
        {"LogSoftmax", convSoftmax},
        {"ReduceSum", convReduce},
        {"ReduceMean", convReduce},
        {"ReduceMax", convReduce},
        {"ReduceMin", convReduce},
        {"ReduceProd", convReduce},
        {"ReduceSumSquare", convReduce},
        {"ReduceL2", convReduce},
        {"Reshape", convReshape},
        {"Flatten", convFlatten},
        {"Squeeze", convSqueeze},
        {"Unsqueeze", convUnsqueeze},
        {"Transpose", convTranspose},
        {"Shape", convShape},
        {"Size", convSize},
        {"Constant", convConstant},
        {"ConstantOfShape", convConstantOfShape},
        {"Range", convRange},
        {"Concat", convConcat},
        {"Slice", convSlice},
        {"Split", convSplit},
        {"Gather", convGather},
        {"Pad", convPad},
        {"Expand", convExpand},
        {"Tile", convTile},
    };
    for (const BinaryKind &k : kBinaryKinds)
      t.emplace(k.name.str(), convBinary);
    return t;
  }();
  return table;
}

} // namespace tessera::onnx_import
