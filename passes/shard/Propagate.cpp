//===- passes/shard/Propagate.cpp - GSPMD sharding propagation ------------===//
//
// Shardings are per tensor dim lists of mesh axes (major first) plus the
// axes over which a value is a partial sum. Propagation works on the
// factors of each op's rule (Rules.h): the axes of a factor are read off
// the tensors already sharded along it, the candidate most of them (by
// bytes, user shardings first) agree on wins, and the op's unsharded dims
// take the winners. Dims once sharded never change, so the sweeps reach a
// fixpoint; disagreements that remain are resharding the partitioner pays
// for, listed in the report.
//
//===----------------------------------------------------------------------===//

#include "passes/shard/Passes.h"
#include "passes/shard/Rules.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

namespace tessera {
#define GEN_PASS_DEF_TESSERASHARDPROPAGATE
#include "passes/shard/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

using sharding::FactorKind;
using sharding::OpRule;
using Axes = SmallVector<int, 2>;

struct Mesh {
  std::string sym;
  SmallVector<std::string> names;
  SmallVector<int64_t> shape;

  int64_t devices(ArrayRef<int> axes) const {
    int64_t n = 1;
    for (int a : axes)
      n *= shape[a];
    return n;
  }
};

struct Sharding {
  SmallVector<Axes> dims;
  Axes partial;
  std::string reduction = "sum";
  bool fixed = false; // a user's

  bool uses(int axis) const {
    for (const Axes &d : dims)
      if (llvm::is_contained(d, axis))
        return true;
    return llvm::is_contained(partial, axis);
  }
};

int64_t bytesOf(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.hasStaticShape())
    return 0;
  return t.getNumElements() *
         std::max<int64_t>(1, t.getElementTypeBitWidth() / 8);
}

std::string axesText(const Mesh &m, ArrayRef<int> axes) {
  std::string s = "{";
  for (size_t i = 0; i < axes.size(); ++i)
    s += (i ? ", " : "") + m.names[axes[i]];
  return s + "}";
}

std::string text(const Mesh &m, const Sharding &s) {
  std::string t = "[";
  for (size_t i = 0; i < s.dims.size(); ++i)
    t += (i ? ", " : "") + axesText(m, s.dims[i]);
  t += "]";
  if (!s.partial.empty())
    t += " partial" + (s.reduction == "sum" ? "" : "-" + s.reduction) +
         axesText(m, s.partial);
  return t;
}

/// Parses "[{data}, {}]" (axes by name) for a tensor of `rank` dims.
FailureOr<Sharding> parse(const Mesh &m, StringRef s, int64_t rank,
                          std::string &err) {
  Sharding out;
  StringRef rest = s.trim();
  if (!rest.consume_front("[") || !rest.consume_back("]")) {
    err = "expected '[{axes}, ...]'";
    return failure();
  }
  rest = rest.trim();
  while (!rest.empty()) {
    rest = rest.ltrim();
    if (!rest.consume_front("{")) {
      err = "expected '{' for a dim's axes";
      return failure();
    }
    size_t close = rest.find('}');
    if (close == StringRef::npos) {
      err = "missing '}'";
      return failure();
    }
    Axes axes;
    SmallVector<StringRef> names;
    rest.take_front(close).split(names, ',', -1, false);
    for (StringRef n : names) {
      n = n.trim();
      if (n.empty())
        continue;
      auto it = llvm::find(m.names, n.str());
      if (it == m.names.end()) {
        err = "unknown mesh axis '" + n.str() + "'";
        return failure();
      }
      int a = static_cast<int>(it - m.names.begin());
      if (out.uses(a) || llvm::is_contained(axes, a)) {
        err = "mesh axis '" + n.str() + "' used twice";
        return failure();
      }
      axes.push_back(a);
    }
    out.dims.push_back(axes);
    rest = rest.drop_front(close + 1).ltrim();
    if (!rest.empty() && !rest.consume_front(",")) {
      err = "expected ',' between dims";
      return failure();
    }
  }
  if ((int64_t)out.dims.size() != rank) {
    err = "has " + std::to_string(out.dims.size()) + " dims, the tensor " +
          std::to_string(rank);
    return failure();
  }
  return out;
}

struct Propagator {
  explicit Propagator(const Mesh &mesh) : mesh(mesh) {}
  const Mesh &mesh;
  llvm::DenseMap<Value, Sharding> sh;
  llvm::DenseMap<Operation *, std::optional<OpRule>> rules;

  Sharding &get(Value v) {
    auto it = sh.find(v);
    if (it != sh.end())
      return it->second;
    Sharding s;
    if (auto t = dyn_cast<RankedTensorType>(v.getType()))
      s.dims.resize(t.getRank());
    return sh[v] = s;
  }

  const std::optional<OpRule> &rule(Operation *op) {
    auto it = rules.find(op);
    if (it == rules.end())
      it = rules.insert({op, sharding::ruleFor(op)}).first;
    return it->second;
  }

  /// The operand/result tensors of `op` with their dim -> factor maps.
  static SmallVector<std::pair<Value, ArrayRef<int>>> tensors(Operation *op,
                                                               const OpRule &r) {
    SmallVector<std::pair<Value, ArrayRef<int>>> ts;
    for (unsigned i = 0; i < op->getNumOperands(); ++i)
      ts.push_back({op->getOperand(i), r.operands[i]});
    for (unsigned i = 0; i < op->getNumResults(); ++i)
      ts.push_back({op->getResult(i), r.results[i]});
    return ts;
  }

  /// The mesh axes each factor of `op` should be split along.
  SmallVector<Axes> factorAxes(Operation *op, const OpRule &r) {
    const size_t nf = r.size.size();
    SmallVector<Axes> chosen(nf);
    SmallVector<double> support(nf, 0);
    auto ts = tensors(op, r);
    for (size_t f = 0; f < nf; ++f) {
      if (r.kind[f] == FactorKind::Whole)
        continue;
      std::map<Axes, double> votes;
      for (auto &[v, map] : ts) {
        auto it = sh.find(v);
        if (it == sh.end())
          continue;
        for (size_t d = 0; d < map.size(); ++d)
          if (map[d] == (int)f && d < it->second.dims.size() &&
              !it->second.dims[d].empty())
            votes[it->second.dims[d]] +=
                double(std::max<int64_t>(bytesOf(v), 1)) *
                (it->second.fixed ? 1e6 : 1.0);
      }
      for (auto &[axes, w] : votes) {
        if (r.size[f] % mesh.devices(axes) != 0)
          continue; // uneven splits are not made by propagation
        if (w > support[f]) {
          support[f] = w;
          chosen[f] = axes;
        }
      }
    }
    // A mesh axis splits at most one factor: the best supported keeps it.
    for (size_t f = 0; f < nf; ++f)
      for (size_t h = 0; h < nf; ++h)
        if (h != f && !chosen[f].empty() && !chosen[h].empty() &&
            llvm::any_of(chosen[f], [&](int a) {
              return llvm::is_contained(chosen[h], a);
            }) &&
            (support[h] > support[f] || (support[h] == support[f] && h < f)))
          chosen[f].clear();
    return chosen;
  }

  /// One op: refine its tensors from its factors. Returns true on change.
  bool visit(Operation *op) {
    const std::optional<OpRule> &r = rule(op);
    if (!r)
      return false;
    SmallVector<Axes> fa = factorAxes(op, *r);
    bool changed = false;
    for (auto &[v, map] : tensors(op, *r)) {
      Sharding &s = get(v);
      if (s.fixed)
        continue;
      for (size_t d = 0; d < map.size() && d < s.dims.size(); ++d) {
        if (map[d] < 0 || !s.dims[d].empty() || fa[map[d]].empty())
          continue;
        const Axes &axes = fa[map[d]];
        if (llvm::any_of(axes, [&](int a) { return s.uses(a); }))
          continue;
        s.dims[d] = axes;
        changed = true;
      }
    }
    // Sharded reductions leave partial results.
    for (unsigned i = 0; i < op->getNumResults(); ++i) {
      Sharding &s = get(op->getResult(i));
      if (s.fixed || !s.partial.empty())
        continue;
      for (size_t f = 0; f < r->size.size(); ++f)
        if (r->kind[f] == FactorKind::Reduction)
          for (int a : fa[f])
            if (!s.uses(a)) {
              s.partial.push_back(a);
              s.reduction = r->reduction;
              changed = true;
            }
    }
    return changed;
  }

  /// What operand `i` of `op` must become for the op's rule, as text ("" if
  /// it already is).
  std::string reshard(Operation *op, const OpRule &r, unsigned i) {
    SmallVector<Axes> fa = factorAxes(op, r);
    Value v = op->getOperand(i);
    Sharding &s = get(v);
    std::string out;
    auto add = [&](const std::string &what) {
      out += (out.empty() ? "" : ", ") + what;
    };
    if (!s.partial.empty())
      add("all-reduce" + (s.reduction == "sum" ? "" : "-" + s.reduction) +
          axesText(mesh, s.partial));
    for (size_t d = 0; d < s.dims.size() && d < r.operands[i].size(); ++d) {
      int f = r.operands[i][d];
      Axes want = f >= 0 ? fa[f] : Axes();
      if (s.dims[d] == want)
        continue;
      if (want.empty())
        add("all-gather" + axesText(mesh, s.dims[d]) + " dim " +
            std::to_string(d));
      else if (s.dims[d].empty())
        add("slice" + axesText(mesh, want) + " dim " + std::to_string(d));
      else
        add("all-to-all" + axesText(mesh, s.dims[d]) + "->" +
            axesText(mesh, want) + " dim " + std::to_string(d));
    }
    return out;
  }
};

struct TesseraShardPropagatePass
    : public impl::TesseraShardPropagateBase<TesseraShardPropagatePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<mlir::shard::GridOp> grids(module.getOps<mlir::shard::GridOp>());
    if (grids.empty()) {
      bool annotated = false;
      module.walk([&](mlir::shard::ShardOp) { annotated = true; });
      if (annotated) {
        module.emitError("tessera-shard-propagate: shard.shard annotations "
                         "but no shard.grid in the module");
        return signalPassFailure();
      }
      return; // nothing to shard
    }
    if (grids.size() > 1) {
      grids[1].emitError("tessera-shard-propagate: one mesh per module is "
                         "supported (found ")
          << grids.size() << ")";
      return signalPassFailure();
    }
    Mesh mesh;
    mesh.sym = grids[0].getSymName().str();
    mesh.shape.assign(grids[0].getShape().begin(), grids[0].getShape().end());
    if (llvm::any_of(mesh.shape, [](int64_t d) { return d <= 0; })) {
      grids[0].emitError("tessera-shard-propagate: the mesh needs a static "
                         "shape");
      return signalPassFailure();
    }
    auto names = grids[0]->getAttrOfType<ArrayAttr>("tessera.axis_names");
    for (size_t i = 0; i < mesh.shape.size(); ++i) {
      std::string n = "axis" + std::to_string(i);
      if (names && i < names.size())
        if (auto s = dyn_cast<StringAttr>(names[i]))
          n = s.str();
      mesh.names.push_back(n);
    }
    if (names && names.size() != mesh.shape.size()) {
      grids[0].emitError("tessera-shard-propagate: tessera.axis_names has ")
          << names.size() << " names for a rank-" << mesh.shape.size()
          << " mesh";
      return signalPassFailure();
    }

    std::string reportText;
    llvm::raw_string_ostream os(reportText);
    for (auto fn : module.getOps<func::FuncOp>()) {
      if (fn.isExternal())
        continue;
      if (failed(runOnFunction(fn, mesh, os)))
        return signalPassFailure();
    }
    if (!report.empty()) {
      if (report == "-") {
        llvm::outs() << reportText;
      } else {
        std::error_code ec;
        llvm::raw_fd_ostream f(report, ec, llvm::sys::fs::OF_Text);
        if (ec) {
          module.emitError("tessera-shard-propagate: cannot write report '")
              << report << "': " << ec.message();
          return signalPassFailure();
        }
        f << reportText;
      }
    }
  }

  LogicalResult runOnFunction(func::FuncOp fn, const Mesh &mesh,
                              llvm::raw_ostream &os) {
    MLIRContext *ctx = fn.getContext();
    Propagator p(mesh);
    auto rankOf = [](Value v) -> int64_t {
      auto t = dyn_cast<RankedTensorType>(v.getType());
      return t ? t.getRank() : -1;
    };
    // Seeds: argument attributes and shard.shard annotations.
    for (BlockArgument a : fn.getArguments()) {
      auto s = fn.getArgAttrOfType<StringAttr>(a.getArgNumber(),
                                               "tessera.sharding");
      if (!s)
        continue;
      std::string err;
      FailureOr<Sharding> parsed = parse(mesh, s.getValue(), rankOf(a), err);
      if (failed(parsed))
        return fn.emitError("tessera-shard-propagate: argument ")
               << a.getArgNumber() << " sharding '" << s.getValue()
               << "': " << err;
      parsed->fixed = true;
      p.sh[a] = *parsed;
    }
    WalkResult wr = fn.walk([&](mlir::shard::ShardOp op) -> WalkResult {
      auto def = op.getSharding().getDefiningOp<mlir::shard::ShardingOp>();
      if (!def)
        return op.emitError("tessera-shard-propagate: the sharding must be "
                            "a shard.sharding op");
      if (def.getGrid() != mesh.sym)
        return op.emitError("tessera-shard-propagate: sharding on grid @")
               << def.getGrid() << ", the mesh is @" << mesh.sym;
      Sharding s;
      s.fixed = true;
      int64_t rank = rankOf(op.getResult());
      for (auto axes : def.getSplitAxes().getAxes()) {
        Axes d;
        for (int16_t a : axes.asArrayRef()) {
          if (a < 0 || a >= (int16_t)mesh.shape.size() || s.uses(a))
            return op.emitError("tessera-shard-propagate: bad mesh axis ")
                   << a;
          d.push_back(a);
        }
        s.dims.push_back(d);
      }
      if ((int64_t)s.dims.size() > rank)
        return op.emitError("tessera-shard-propagate: sharding has ")
               << s.dims.size() << " dims, the tensor " << rank;
      s.dims.resize(rank);
      p.sh[op.getResult()] = s;
      if (!p.get(op.getSrc()).fixed)
        p.sh[op.getSrc()] = s;
      return WalkResult::advance();
    });
    if (wr.wasInterrupted())
      return failure();

    // Forward and backward sweeps to the fixpoint.
    SmallVector<Operation *> ops;
    fn.walk([&](Operation *op) {
      if (op->getParentOp() == fn.getOperation() || isa<mlir::shard::ShardOp>(op))
        ops.push_back(op);
    });
    // shard.shard is the identity: its source and result share a sharding.
    auto tieShard = [&]() {
      bool changed = false;
      for (Operation *op : ops)
        if (auto s = dyn_cast<mlir::shard::ShardOp>(op)) {
          Sharding &src = p.get(s.getSrc()), &res = p.get(s.getResult());
          if (!src.fixed && src.dims != res.dims) {
            src.dims = res.dims;
            changed = true;
          }
        }
      return changed;
    };
    int sweeps = 0;
    for (bool changed = true; changed && sweeps < 64; ++sweeps) {
      changed = tieShard();
      for (Operation *op : ops)
        changed |= p.visit(op);
      for (Operation *op : llvm::reverse(ops))
        changed |= p.visit(op);
    }

    // Write back: per-op result shardings and reshards; argument and result
    // attributes of the function.
    Builder b(ctx);
    os << "sharding of @" << fn.getName() << " on mesh @" << mesh.sym << " [";
    for (size_t i = 0; i < mesh.shape.size(); ++i)
      os << (i ? ", " : "") << mesh.names[i] << "=" << mesh.shape[i];
    os << "], " << sweeps << " sweep(s)\n";
    int64_t reshards = 0, reshardBytes = 0;
    for (BlockArgument a : fn.getArguments()) {
      if (rankOf(a) < 0)
        continue;
      const Sharding &s = p.get(a);
      if (!s.fixed)
        fn.setArgAttr(a.getArgNumber(), "tessera.sharding",
                      b.getStringAttr(text(mesh, s)));
      os << "  arg " << a.getArgNumber() << ": " << a.getType() << " "
         << text(mesh, s) << (s.fixed ? " (user)" : "") << "\n";
    }
    for (Operation *op : ops) {
      if (isa<func::ReturnOp>(op)) {
        // Results leave as full values: partial sums are all-reduced.
        for (auto [i, v] : llvm::enumerate(op->getOperands())) {
          if (rankOf(v) < 0)
            continue;
          Sharding s = p.get(v);
          if (!s.partial.empty()) {
            ++reshards;
            reshardBytes += bytesOf(v);
            os << "  return " << i << " (" << bytesOf(v) << " bytes): all-reduce"
               << (s.reduction == "sum" ? "" : "-" + s.reduction)
               << axesText(mesh, s.partial) << "\n";
            s.partial.clear();
          }
          fn.setResultAttr(i, "tessera.sharding",
                           b.getStringAttr(text(mesh, s)));
        }
        continue;
      }
      if (op->getNumResults() == 0 ||
          isa<mlir::shard::ShardingOp, mlir::shard::ShardOp>(op))
        continue;
      SmallVector<Attribute> res;
      std::string line;
      for (Value v : op->getResults())
        if (rankOf(v) >= 0) {
          std::string t = text(mesh, p.get(v));
          res.push_back(b.getStringAttr(t));
          line += (line.empty() ? "" : ", ") + t;
        }
      if (!res.empty())
        op->setAttr("tessera.sharding", b.getArrayAttr(res));
      std::string where;
      if (auto nl = dyn_cast<NameLoc>(op->getLoc()))
        where = " (" + nl.getName().str() + ")";
      os << "  " << op->getName() << where << " -> " << line;
      const std::optional<OpRule> &r = p.rule(op);
      if (!r) {
        os << "  [no rule: operands and results replicated]\n";
        continue;
      }
      os << "\n";
      SmallVector<Attribute> rs;
      bool any = false;
      for (unsigned i = 0; i < op->getNumOperands(); ++i) {
        std::string t = p.reshard(op, *r, i);
        rs.push_back(b.getStringAttr(t));
        if (t.empty())
          continue;
        any = true;
        ++reshards;
        reshardBytes += bytesOf(op->getOperand(i));
        os << "    reshard operand " << i << " (" << bytesOf(op->getOperand(i))
           << " bytes): " << t << "\n";
      }
      if (any)
        op->setAttr("tessera.reshard", b.getArrayAttr(rs));
    }
    os << "  " << reshards << " reshard(s) of " << reshardBytes
       << " bytes in all\n";
    return success();
  }
};

} // namespace
} // namespace tessera
