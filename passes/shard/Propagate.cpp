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
#include "passes/shard/Sharding.h"

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

using namespace sharding;
struct TesseraShardPropagatePass
    : public impl::TesseraShardPropagateBase<TesseraShardPropagatePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool none = false;
    FailureOr<Mesh> meshOr = readMesh(module, none);
    if (none)
      return;
    if (failed(meshOr))
      return signalPassFailure();
    const Mesh &mesh = *meshOr;
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
    // `tessera.user_sharding` on an op (tessera-compile --shard-spec puts it
    // on named weights) fixes its first result.
    WalkResult wu = fn.walk([&](Operation *op) -> WalkResult {
      auto s = op->getAttrOfType<StringAttr>("tessera.user_sharding");
      if (!s || op->getNumResults() == 0)
        return WalkResult::advance();
      std::string err;
      FailureOr<Sharding> parsed =
          parse(mesh, s.getValue(), rankOf(op->getResult(0)), err);
      if (failed(parsed))
        return op->emitError("tessera-shard-propagate: sharding '")
               << s.getValue() << "': " << err;
      parsed->fixed = true;
      p.sh[op->getResult(0)] = *parsed;
      return WalkResult::advance();
    });
    if (wu.wasInterrupted())
      return failure();
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

    // Settle every op's factor axes and, from them, the partial results
    // (a factor's axes can change after a partial was first recorded).
    for (Operation *op : ops) {
      const std::optional<OpRule> &r = p.rule(op);
      if (!r)
        continue;
      SmallVector<Axes> fa = p.factorAxes(op, *r);
      p.decided[op] = fa;
      for (unsigned i = 0; i < op->getNumResults(); ++i) {
        Sharding &s = p.get(op->getResult(i));
        if (s.fixed)
          continue;
        Sharding m = Propagator::made(op, *r, fa, i);
        s.partial.clear();
        for (int a : m.partial)
          if (!s.uses(a)) {
            s.partial.push_back(a);
            s.reduction = m.reduction;
          }
      }
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
            os << "  return " << i << " (" << bytesOf(v) << " bytes): "
               << stepsText(mesh, {{ReshardStep::AllReduce, s.partial, 0, 0,
                                    s.reduction}})
               << "\n";
            s.partial.clear();
          }
          fn.setResultAttr(i, "tessera.sharding",
                           b.getStringAttr(text(mesh, s)));
        }
        continue;
      }
      if (auto sh = dyn_cast<mlir::shard::ShardOp>(op)) {
        sh->setAttr("tessera.sharding",
                    b.getArrayAttr({b.getStringAttr(
                        text(mesh, p.get(sh.getResult())))}));
        continue;
      }
      if (op->getNumResults() == 0 || isa<mlir::shard::ShardingOp>(op))
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
      if (auto it = p.decided.find(op); it != p.decided.end()) {
        SmallVector<Attribute> fa;
        for (const Axes &axes : it->second)
          fa.push_back(b.getDenseI64ArrayAttr(
              SmallVector<int64_t>(axes.begin(), axes.end())));
        op->setAttr("tessera.factor_axes", b.getArrayAttr(fa));
      }
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
