//===- passes/shard/Rules.cpp - the sharding rule registry ----------------===//

#include "passes/shard/Rules.h"

#include "dialects/Graph/TesseraDialect.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringMap.h"

#include <mutex>

using namespace mlir;

namespace tessera::sharding {
namespace {

SmallVector<int64_t> shapeOf(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t ? SmallVector<int64_t>(t.getShape()) : SmallVector<int64_t>();
}

/// Result dims each their own parallel factor; operands aligned to the
/// result from the right (numpy broadcasting: size-1 dims map to none).
OpRule elementwise(Operation *op) {
  OpRule r;
  auto out = shapeOf(op->getResult(0));
  SmallVector<int> f;
  for (int64_t d : out)
    f.push_back(r.addFactor(d, FactorKind::Parallel));
  r.results.push_back(f);
  for (Value v : op->getOperands()) {
    auto s = shapeOf(v);
    SmallVector<int> m(s.size(), -1);
    size_t lead = out.size() - std::min(out.size(), s.size());
    for (size_t i = 0; i < s.size() && lead + i < out.size(); ++i)
      if (s[i] == out[lead + i])
        m[i] = f[lead + i];
    r.operands.push_back(m);
  }
  return r;
}

/// No operands (constants): every result dim is free.
OpRule source(Operation *op) {
  OpRule r;
  for (Value res : op->getResults()) {
    SmallVector<int> f;
    for (int64_t d : shapeOf(res))
      f.push_back(r.addFactor(d, FactorKind::Parallel));
    r.results.push_back(f);
  }
  return r;
}

std::optional<OpRule> matmul(Operation *op) {
  auto a = shapeOf(op->getOperand(0)), b = shapeOf(op->getOperand(1)),
       c = shapeOf(op->getResult(0));
  if (a.size() < 2 || b.size() < 2 || c.size() < 2)
    return std::nullopt;
  OpRule r;
  size_t batch = c.size() - 2;
  SmallVector<int> rf;
  for (size_t i = 0; i < batch; ++i)
    rf.push_back(r.addFactor(c[i], FactorKind::Parallel));
  int m = r.addFactor(c[batch], FactorKind::Parallel);
  int n = r.addFactor(c[batch + 1], FactorKind::Parallel);
  int k = r.addFactor(a.back(), FactorKind::Reduction);
  rf.append({m, n});
  r.results.push_back(rf);
  auto side = [&](ArrayRef<int64_t> s, int rowF, int colF) {
    SmallVector<int> f(s.size(), -1);
    size_t lb = s.size() - 2, lead = batch - std::min(batch, lb);
    for (size_t i = 0; i < lb; ++i)
      if (s[i] == c[lead + i])
        f[i] = rf[lead + i];
    f[lb] = rowF;
    f[lb + 1] = colF;
    return f;
  };
  r.operands.push_back(side(a, m, k));
  r.operands.push_back(side(b, k, n));
  return r;
}

std::optional<OpRule> transpose(Operation *op) {
  auto t = cast<TransposeOp>(op);
  auto in = shapeOf(t.getInput());
  OpRule r;
  SmallVector<int> f;
  for (int64_t d : in)
    f.push_back(r.addFactor(d, FactorKind::Parallel));
  r.operands.push_back(f);
  SmallVector<int> out;
  for (int64_t p : t.getPerm())
    out.push_back(f[p]);
  r.results.push_back(out);
  return r;
}

template <typename OpTy>
std::optional<OpRule> reduce(Operation *op, const char *kind) {
  auto red = cast<OpTy>(op);
  auto in = shapeOf(red.getInput());
  OpRule r;
  r.reduction = kind;
  SmallVector<int> f, out;
  for (int64_t i = 0; i < (int64_t)in.size(); ++i) {
    bool reduced = llvm::is_contained(red.getAxes(), i);
    f.push_back(r.addFactor(in[i], reduced ? FactorKind::Reduction
                                           : FactorKind::Parallel));
    if (!reduced)
      out.push_back(f.back());
    else if (red.getKeepdims())
      out.push_back(-1);
  }
  r.operands.push_back(f);
  r.results.push_back(out);
  return r;
}

/// Dims from `axis` on must stay whole (softmax, layer-norm statistics).
std::optional<OpRule> normalization(Operation *op, int64_t axis) {
  auto in = shapeOf(op->getOperand(0));
  OpRule r;
  SmallVector<int> f;
  for (int64_t i = 0; i < (int64_t)in.size(); ++i)
    f.push_back(r.addFactor(in[i], i >= axis ? FactorKind::Whole
                                             : FactorKind::Parallel));
  r.results.push_back(f);
  for (Value v : op->getOperands()) {
    auto s = shapeOf(v);
    SmallVector<int> m(s.size(), -1);
    size_t lead = in.size() - std::min(in.size(), s.size());
    for (size_t i = 0; i < s.size(); ++i)
      if (s[i] == in[lead + i])
        m[i] = f[lead + i];
    r.operands.push_back(m);
  }
  return r;
}

/// Dims whose size changes (slice, pad) or that are joined (concat) stay
/// whole; the others are parallel across every operand.
std::optional<OpRule> sameRankWhole(Operation *op, SmallVector<bool> whole) {
  auto out = shapeOf(op->getResult(0));
  OpRule r;
  SmallVector<int> f;
  for (size_t i = 0; i < out.size(); ++i)
    f.push_back(r.addFactor(out[i], whole[i] ? FactorKind::Whole
                                             : FactorKind::Parallel));
  r.results.push_back(f);
  for (Value v : op->getOperands()) {
    auto s = shapeOf(v);
    if (s.size() != out.size())
      return std::nullopt;
    r.operands.push_back(f);
  }
  return r;
}

/// Reshape: dims are grouped where the running products meet; within a
/// group the major-most input and output dims share a factor of the
/// smaller size when one divides the other ([B, S, E] -> [B*S, E] keeps a
/// split of B; [B, S, H*D] -> [B, S, H, D] keeps a split of heads).
std::optional<OpRule> reshape(Operation *op) {
  auto in = shapeOf(op->getOperand(0)), out = shapeOf(op->getResult(0));
  OpRule r;
  SmallVector<int> fi(in.size(), -1), fo(out.size(), -1);
  // Unit dims map to nothing; the others are grouped.
  SmallVector<size_t> ii, oo;
  for (size_t k = 0; k < in.size(); ++k)
    if (in[k] != 1)
      ii.push_back(k);
  for (size_t k = 0; k < out.size(); ++k)
    if (out[k] != 1)
      oo.push_back(k);
  size_t i = 0, o = 0;
  while (i < ii.size() && o < oo.size()) {
    size_t i0 = ii[i], o0 = oo[o];
    int64_t pi = in[ii[i++]], po = out[oo[o++]];
    while (pi != po) {
      if (pi < po && i < ii.size())
        pi *= in[ii[i++]];
      else if (po < pi && o < oo.size())
        po *= out[oo[o++]];
      else
        break;
    }
    int64_t a = in[i0], b = out[o0];
    if (a > 0 && b > 0 && (a % b == 0 || b % a == 0)) {
      int f = r.addFactor(std::min(a, b), FactorKind::Parallel);
      fi[i0] = f;
      fo[o0] = f;
    }
  }
  r.operands.push_back(fi);
  r.results.push_back(fo);
  return r;
}

std::optional<OpRule> gather(Operation *op) {
  auto g = cast<GatherOp>(op);
  auto table = shapeOf(g.getInput()), idx = shapeOf(g.getIndices());
  if (g.getAxis() != 0 || table.empty())
    return std::nullopt;
  OpRule r;
  SmallVector<int> ft(table.size(), -1), fi, fo;
  ft[0] = r.addFactor(table[0], FactorKind::Whole); // rows looked up
  for (int64_t d : idx)
    fi.push_back(r.addFactor(d, FactorKind::Parallel));
  fo = fi;
  for (size_t i = 1; i < table.size(); ++i) {
    ft[i] = r.addFactor(table[i], FactorKind::Parallel);
    fo.push_back(ft[i]);
  }
  r.operands = {ft, fi};
  r.results.push_back(fo);
  return r;
}

/// NCHW windows: batch and channels as given, spatial dims with halos.
std::optional<OpRule> conv(Operation *op) {
  auto c = cast<ConvOp>(op);
  auto x = shapeOf(c.getInput()), w = shapeOf(c.getWeight()),
       y = shapeOf(c.getResult());
  if (x.size() != 4 || w.size() != 4)
    return std::nullopt;
  OpRule r;
  int n = r.addFactor(x[0], FactorKind::Parallel);
  int f = r.addFactor(y[1], FactorKind::Parallel);
  int h = r.addFactor(y[2], FactorKind::Halo);
  int wd = r.addFactor(y[3], FactorKind::Halo);
  const int64_t groups = c.getGroups();
  SmallVector<int> fx{n, -1, h, wd}, fw{f, -1, -1, -1};
  if (groups == 1) {
    int ch = r.addFactor(x[1], FactorKind::Reduction);
    fx[1] = ch;
    fw[1] = ch;
  } else if (groups == x[1] && groups == y[1]) {
    fx[1] = f; // depthwise: input channel c feeds output channel c
  } else {
    // Other grouped convs: splitting filters would regroup the channels.
    r.kind[f] = FactorKind::Whole;
  }
  r.operands = {fx, fw};
  if (c.getBias())
    r.operands.push_back({f});
  r.results.push_back({n, f, h, wd});
  return r;
}

template <typename OpTy> std::optional<OpRule> pool(Operation *op) {
  auto in = shapeOf(op->getOperand(0)), out = shapeOf(op->getResult(0));
  if (in.size() != 4)
    return std::nullopt;
  OpRule r;
  int n = r.addFactor(in[0], FactorKind::Parallel);
  int c = r.addFactor(in[1], FactorKind::Parallel);
  int h = r.addFactor(out[2], FactorKind::Halo);
  int w = r.addFactor(out[3], FactorKind::Halo);
  r.operands.push_back({n, c, h, w});
  r.results.push_back({n, c, h, w});
  return r;
}

std::optional<OpRule> batchNorm(Operation *op) {
  auto in = shapeOf(op->getOperand(0));
  OpRule r;
  SmallVector<int> f;
  for (int64_t d : in)
    f.push_back(r.addFactor(d, FactorKind::Parallel));
  r.operands.push_back(f);
  for (unsigned i = 1; i < op->getNumOperands(); ++i)
    r.operands.push_back({f.size() > 1 ? f[1] : -1});
  r.results.push_back(f);
  return r;
}

llvm::StringMap<RuleBuilder> &registry() {
  static llvm::StringMap<RuleBuilder> map;
  static std::once_flag once;
  std::call_once(once, [] {
    auto ew = [](Operation *op) -> std::optional<OpRule> {
      return elementwise(op);
    };
    for (const char *name :
         {"neg", "abs", "sqrt", "rsqrt", "exp", "log", "relu", "sigmoid",
          "tanh", "erf", "gelu", "silu", "hard_swish", "floor", "ceil",
          "reciprocal", "sin", "cos", "not", "leaky_relu", "hard_sigmoid",
          "clip", "cast", "add", "sub", "mul", "div", "pow", "max", "min",
          "and", "or", "eq", "lt", "le", "gt", "ge", "where", "broadcast"})
      map[std::string("tessera.") + name] = ew;
    map["tessera.constant"] = [](Operation *op) -> std::optional<OpRule> {
      return source(op);
    };
    map["tessera.matmul"] = matmul;
    map["tessera.transpose"] = transpose;
    map["tessera.reshape"] = reshape;
    map["tessera.reduce_sum"] = [](Operation *op) {
      return reduce<ReduceSumOp>(op, "sum");
    };
    map["tessera.reduce_mean"] = [](Operation *op) {
      return reduce<ReduceMeanOp>(op, "sum");
    };
    map["tessera.reduce_max"] = [](Operation *op) {
      return reduce<ReduceMaxOp>(op, "max");
    };
    map["tessera.reduce_min"] = [](Operation *op) {
      return reduce<ReduceMinOp>(op, "min");
    };
    map["tessera.reduce_prod"] = [](Operation *op) {
      return reduce<ReduceProdOp>(op, "prod");
    };
    map["tessera.softmax"] = [](Operation *op) {
      auto s = cast<SoftmaxOp>(op);
      auto rank = cast<RankedTensorType>(s.getType()).getRank();
      // Only the softmax axis stays whole.
      std::optional<OpRule> r = normalization(op, s.getAxis());
      for (int64_t i = s.getAxis() + 1; r && i < rank; ++i)
        r->kind[r->results[0][i]] = FactorKind::Parallel;
      return r;
    };
    map["tessera.layer_norm"] = [](Operation *op) {
      return normalization(op, cast<LayerNormOp>(op).getAxis());
    };
    map["tessera.concat"] = [](Operation *op) -> std::optional<OpRule> {
      auto c = cast<ConcatOp>(op);
      SmallVector<bool> whole(shapeOf(c.getResult()).size(), false);
      whole[c.getAxis()] = true;
      return sameRankWhole(op, whole);
    };
    auto changed = [](Operation *op) -> std::optional<OpRule> {
      auto in = shapeOf(op->getOperand(0)), out = shapeOf(op->getResult(0));
      if (in.size() != out.size())
        return std::nullopt;
      SmallVector<bool> whole;
      for (size_t i = 0; i < in.size(); ++i)
        whole.push_back(in[i] != out[i]);
      return sameRankWhole(op, whole);
    };
    // A slice keeps a dim parallel only where it takes all of it in order.
    map["tessera.slice"] = [](Operation *op) -> std::optional<OpRule> {
      auto sl = cast<SliceOp>(op);
      auto in = shapeOf(sl.getInput()), out = shapeOf(sl.getResult());
      if (in.size() != out.size())
        return std::nullopt;
      SmallVector<bool> whole;
      for (size_t i = 0; i < in.size(); ++i)
        whole.push_back(in[i] != out[i] || sl.getStarts()[i] != 0 ||
                        sl.getSteps()[i] != 1);
      return sameRankWhole(op, whole);
    };
    map["tessera.pad"] = changed;
    map["tessera.gather"] = gather;
    map["tessera.conv"] = conv;
    map["tessera.max_pool"] = pool<MaxPoolOp>;
    map["tessera.avg_pool"] = pool<AvgPoolOp>;
    map["tessera.batch_norm"] = batchNorm;
  });
  return map;
}

} // namespace

std::optional<OpRule> ruleFor(Operation *op) {
  auto &map = registry();
  auto it = map.find(op->getName().getStringRef());
  if (it == map.end())
    return std::nullopt;
  std::optional<OpRule> r = it->second(op);
  if (!r)
    return r;
  // A rule must describe every operand and result, each dim of a ranked
  // tensor with a factor of the rule (or -1: none). A registered rule that
  // does not is a bug in it: reported, and the op is treated as having none.
  auto bad = [&](const std::string &why) -> std::optional<OpRule> {
    op->emitWarning("tessera-shard: the sharding rule of ")
        << op->getName() << " is ignored: " << why;
    return std::nullopt;
  };
  if (r->operands.size() != op->getNumOperands() ||
      r->results.size() != op->getNumResults())
    return bad("it maps " + std::to_string(r->operands.size()) +
               " operands and " + std::to_string(r->results.size()) +
               " results");
  if (r->kind.size() != r->size.size())
    return bad("its factor kinds and sizes differ in number");
  auto check = [&](mlir::Value v, llvm::ArrayRef<int> map,
                   const std::string &what) -> std::string {
    auto t = llvm::dyn_cast<mlir::RankedTensorType>(v.getType());
    const size_t rank = t ? static_cast<size_t>(t.getRank()) : 0;
    if (map.size() != rank)
      return what + " has rank " + std::to_string(rank) + " but the rule maps " +
             std::to_string(map.size()) + " dims";
    for (int f : map)
      if (f < -1 || f >= static_cast<int>(r->size.size()))
        return what + " maps a dim to factor " + std::to_string(f) +
               " of " + std::to_string(r->size.size());
    return "";
  };
  for (unsigned i = 0; i < op->getNumOperands(); ++i)
    if (std::string e = check(op->getOperand(i), r->operands[i],
                              "operand " + std::to_string(i));
        !e.empty())
      return bad(e);
  for (unsigned i = 0; i < op->getNumResults(); ++i)
    if (std::string e = check(op->getResult(i), r->results[i],
                              "result " + std::to_string(i));
        !e.empty())
      return bad(e);
  return r;
}

void registerShardingRule(llvm::StringRef opName, RuleBuilder builder) {
  registry()[opName] = std::move(builder);
}

} // namespace tessera::sharding
