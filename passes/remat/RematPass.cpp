//===- passes/remat/RematPass.cpp - tessera-remat -------------------------===//
//
// Reads a function as a rematerialization graph, solves it under the budget
// and writes the schedule back as recompute ops (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "passes/remat/Passes.h"
#include "passes/memory/Passes.h"
#include "passes/remat/Schedule.h"

#include "passes/conversion/GraphToTExpr/Passes.h"
#include "passes/derive/Derive.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <cstdio>

namespace tessera {
#define GEN_PASS_DEF_TESSERAREMAT
#include "passes/remat/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {

bool parseMemoryBudget(const std::string &text, int64_t &bytes,
                       double &percent) {
  bytes = -1;
  percent = -1;
  std::string t;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c)))
      t += c;
  if (t.empty())
    return false;
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(t, &used);
  } catch (...) {
    return false;
  }
  std::string suffix = t.substr(used);
  for (char &c : suffix)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!(v > 0) || !std::isfinite(v))
    return false;
  if (suffix == "%") {
    percent = v;
    return true;
  }
  double scale = 1;
  if (suffix.empty() || suffix == "B")
    scale = 1;
  else if (suffix == "K" || suffix == "KB" || suffix == "KIB")
    scale = 1024.0;
  else if (suffix == "M" || suffix == "MB" || suffix == "MIB")
    scale = 1024.0 * 1024;
  else if (suffix == "G" || suffix == "GB" || suffix == "GIB")
    scale = 1024.0 * 1024 * 1024;
  else
    return false;
  bytes = static_cast<int64_t>(v * scale);
  return bytes > 0;
}

namespace {

int64_t valueBytes(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t ? storageBytes(t) : 0;
}

std::string nodeName(Operation *op, unsigned index) {
  if (auto nl = dyn_cast<NameLoc>(op->getLoc()))
    return nl.getName().str();
  if (auto fl = dyn_cast<FusedLoc>(op->getLoc()))
    for (Location l : fl.getLocations())
      if (auto nl = dyn_cast<NameLoc>(l))
        return nl.getName().str();
  return op->getName().getStringRef().str() + "#" + std::to_string(index);
}

/// Seconds under the roofline: the op's expression when it has one (the
/// derivation cost model), else its bytes moved plus one flop per output
/// element and input.
double opCost(Operation *op, const derive::CostModel &model) {
  if (op->hasTrait<OpTrait::ConstantLike>())
    return 0;
  std::string why;
  FailureOr<derive::ScopePtr> expr = expressionOf(op, why);
  if (succeeded(expr) && *expr)
    return model.cost(**expr, nullptr, /*gather=*/false);
  double bytes = 0, out = 0;
  for (Value v : op->getOperands())
    bytes += valueBytes(v);
  for (Value v : op->getResults()) {
    bytes += valueBytes(v);
    if (auto t = dyn_cast<RankedTensorType>(v.getType()))
      if (t.hasStaticShape())
        out += t.getNumElements();
  }
  double flops = out * std::max<unsigned>(1, op->getNumOperands());
  return std::max(flops / (model.peakFlops * model.effLibrary[0]),
                  bytes / model.bandwidth) +
         model.launch;
}

} // namespace

double opSeconds(Operation *op, llvm::StringRef target) {
  return opCost(op, derive::CostModel::forTarget(target));
}

namespace {

struct FunctionGraph {
  remat::Graph graph;
  SmallVector<Operation *> ops; // node -> op
};

FunctionGraph buildGraph(func::FuncOp f, const derive::CostModel &model) {
  FunctionGraph fg;
  Block &body = f.getBody().front();
  DenseMap<Operation *, int> index;
  for (Operation &op : body.without_terminator()) {
    remat::Node node;
    node.name = nodeName(&op, fg.ops.size());
    // Constants are weights or small literals: outside the budget.
    if (!op.hasTrait<OpTrait::ConstantLike>())
      for (Value r : op.getResults())
        node.bytes += valueBytes(r);
    node.cost = opCost(&op, model);
    for (Value v : op.getOperands())
      if (Operation *def = v.getDefiningOp())
        if (auto it = index.find(def); it != index.end())
          node.preds.push_back(it->second);
    index[&op] = static_cast<int>(fg.ops.size());
    fg.ops.push_back(&op);
    fg.graph.nodes.push_back(std::move(node));
  }
  for (Value v : body.getTerminator()->getOperands())
    if (Operation *def = v.getDefiningOp())
      if (auto it = index.find(def); it != index.end())
        fg.graph.nodes[it->second].output = true;
  fg.graph.name = f.getSymName().str();
  std::string err = fg.graph.finalize();
  assert(err.empty() && "an SSA block is in topological order");
  (void)err;
  return fg;
}

/// Rewrites the body in the schedule's order; recomputations are clones.
void applySchedule(func::FuncOp f, FunctionGraph &fg,
                   const remat::Schedule &s) {
  Block &body = f.getBody().front();
  Operation *terminator = body.getTerminator();
  const int n = static_cast<int>(fg.ops.size());
  struct Copy {
    int start, end;
    Operation *op;
  };
  std::vector<SmallVector<Copy>> copies(n);
  std::vector<int> count(n, 0);
  DenseMap<Operation *, int> nodeOf;
  for (int v = 0; v < n; ++v)
    nodeOf[fg.ops[v]] = v;
  const int k = static_cast<int>(s.steps.size());
  // The copy of u alive at step `at` (the latest one); at the end (k), the
  // copy kept to the end.
  auto alive = [&](int u, int at) -> Operation * {
    for (auto it = copies[u].rbegin(); it != copies[u].rend(); ++it)
      if (it->start < at && (it->end > at || (at == k && it->end == k)))
        return it->op;
    return nullptr;
  };
  auto remap = [&](Operation *op, int at) {
    for (OpOperand &use : op->getOpOperands()) {
      Operation *def = use.get().getDefiningOp();
      auto it = def ? nodeOf.find(def) : nodeOf.end();
      if (it == nodeOf.end())
        continue;
      Operation *copy = alive(it->second, at);
      assert(copy && "the schedule keeps every input alive");
      use.set(copy->getResult(cast<OpResult>(use.get()).getResultNumber()));
    }
  };
  OpBuilder b(terminator);
  for (int j = 0; j < k; ++j) {
    const remat::Step &st = s.steps[j];
    Operation *orig = fg.ops[st.node];
    Operation *op = orig;
    if (count[st.node]++ > 0) {
      op = b.clone(*orig);
      op->setAttr("tessera.remat", b.getI64IntegerAttr(count[st.node] - 1));
      nodeOf[op] = st.node;
    }
    op->moveBefore(terminator);
    remap(op, j);
    copies[st.node].push_back({j, st.end, op});
  }
  remap(terminator, k);
  // A recomputation nobody reads (possible in heuristic schedules) goes.
  for (int v = 0; v < n; ++v)
    for (const Copy &c : copies[v])
      if (c.op != fg.ops[v] && c.op->use_empty())
        c.op->erase();
}

/// Writes `g` as node-link JSON; returns the error text, empty on success.
std::string writeNodeLink(const remat::Graph &g, const std::string &path) {
  nlohmann::json j;
  j["directed"] = true;
  j["multigraph"] = false;
  j["graph"] = {{"name", g.name}};
  j["nodes"] = nlohmann::json::array();
  j["links"] = nlohmann::json::array();
  for (size_t v = 0; v < g.size(); ++v) {
    const remat::Node &n = g.nodes[v];
    j["nodes"].push_back({{"id", v},
                          {"name", n.name},
                          {"cost_cpu", n.cost},
                          {"cost_ram", n.bytes},
                          {"output", n.output}});
    for (int p : n.preds)
      j["links"].push_back({{"source", p}, {"target", v}});
  }
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return ec.message();
  os << j.dump(1) << "\n";
  return "";
}

struct TesseraRematPass
    : public impl::TesseraRematBase<TesseraRematPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (budget.empty() && dumpGraph.empty())
      return;
    int64_t bytes = -1;
    double percent = -1;
    if (!budget.empty() && !parseMemoryBudget(budget, bytes, percent)) {
      module.emitError() << "tessera-remat: cannot read the memory budget '"
                         << budget
                         << "' (expected bytes, e.g. 64M, or a percentage "
                            "of the no-remat peak, e.g. 80%)";
      return signalPassFailure();
    }
    remat::Method m;
    if (!remat::parseMethod(method, m)) {
      module.emitError() << "tessera-remat: unknown method '" << method
                         << "' (moccasin, greedy, greedy-restarts, "
                            "chen-sqrt-n, checkmate-milp, no-remat)";
      return signalPassFailure();
    }
    if (costModel != "cpu" && costModel != "cuda") {
      module.emitError() << "tessera-remat: unknown cost model '" << costModel
                         << "' (cpu or cuda)";
      return signalPassFailure();
    }
    derive::CostModel model = derive::CostModel::forTarget(costModel);
    SmallVector<func::FuncOp> funcs;
    for (auto f : module.getOps<func::FuncOp>())
      if (!f.isDeclaration())
        funcs.push_back(f);
    for (func::FuncOp f : funcs)
      if (failed(runOnFunction(f, model, m, bytes, percent,
                               funcs.size() > 1)))
        return signalPassFailure();
  }

  LogicalResult runOnFunction(func::FuncOp f, const derive::CostModel &model,
                              remat::Method m, int64_t bytes, double percent,
                              bool several) {
    if (!f.getBody().hasOneBlock()) {
      if (budget.empty())
        return success();
      return f.emitError() << "tessera-remat: @" << f.getSymName()
                           << " has control flow, which the remat model "
                              "does not cover";
    }
    FunctionGraph fg = buildGraph(f, model);
    const remat::Graph &g = fg.graph;
    if (!dumpGraph.empty()) {
      std::string path = several ? dumpGraph + "." + f.getSymName().str() +
                                       ".json"
                                 : dumpGraph;
      std::string err = writeNodeLink(g, path);
      if (!err.empty())
        return f.emitError() << "tessera-remat: cannot write '" << path
                             << "': " << err;
    }
    if (budget.empty())
      return success();
    remat::Evaluation plain = remat::evaluate(g, remat::noRemat(g));
    int64_t limit = bytes > 0 ? bytes
                              : static_cast<int64_t>(
                                    std::floor(plain.peak * percent / 100.0));
    int where = -1;
    int64_t lower = remat::peakLowerBound(g, &where);
    if (limit < lower) {
      InFlightDiagnostic d = f.emitError()
                             << "tessera-remat: the memory budget of " << limit
                             << " bytes for @" << f.getSymName()
                             << " is below the minimum achievable peak of "
                             << lower << " bytes";
      if (where >= 0)
        d.attachNote(fg.ops[where]->getLoc())
            << "here '" << g.nodes[where].name
            << "' needs its output and all its inputs in memory at once";
      return failure();
    }
    if (plain.peak <= limit) {
      if (report)
        f.emitRemark() << llvm::formatv(
            "remat: @{0}: {1} nodes, no-remat peak {2} B fits the budget "
            "{3} B: nothing recomputed",
            f.getSymName(), g.size(), plain.peak, limit)
                              .str();
      setSummary(f, plain.peak, limit, plain.peak, 0, 1.0, "no-remat");
      return success();
    }
    remat::SolveOptions opts;
    opts.budget = limit;
    opts.timeLimit = timeLimit;
    opts.copies = std::max(1u, static_cast<unsigned>(copies));
    remat::SolveResult r = remat::solve(g, m, opts);
    if (!r.found) {
      remat::Schedule fallback;
      bool greedyFits = remat::greedy(g, limit, fallback);
      if (m != remat::Method::Greedy && greedyFits) {
        r.schedule = fallback;
        r.eval = remat::evaluate(g, fallback);
        r.found = true;
        r.note = std::string(remat::methodName(m)) + " found nothing (" +
                 r.note + "); greedy schedule used";
      }
    }
    if (!r.found) {
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%g", double(timeLimit));
      return f.emitError()
             << "tessera-remat: no schedule of @" << f.getSymName()
             << " within " << limit << " bytes found by "
             << remat::methodName(m) << " in " << seconds
             << " s (lower bound " << lower << " bytes, no-remat peak "
             << plain.peak << " bytes" << (r.note.empty() ? "" : "; ")
             << r.note << "); raise the budget or the time limit";
    }
    double overhead = r.eval.cost / std::max(plain.cost, 1e-30);
    if (report)
      f.emitRemark() << llvm::formatv(
          "remat: @{0}: {1} nodes, no-remat peak {2} B, budget {3} B, "
          "{4}: peak {5} B, {6} recomputations, compute x{7:F4}, "
          "solve {8:F2} s{9}{10}",
          f.getSymName(), g.size(), plain.peak, limit, remat::methodName(m),
          r.eval.peak, r.eval.recomputes, overhead, r.seconds,
          r.optimal ? ", optimal" : "",
          r.note.empty() || r.optimal ? "" : " (" + r.note + ")")
                            .str();
    applySchedule(f, fg, r.schedule);
    setSummary(f, plain.peak, limit, r.eval.peak, r.eval.recomputes, overhead,
               remat::methodName(m));
    return success();
  }

  void setSummary(func::FuncOp f, int64_t plainPeak, int64_t limit,
                  int64_t peak, int recomputes, double overhead,
                  StringRef methodName) {
    Builder b(f.getContext());
    f->setAttr("tessera.remat_summary",
               b.getDictionaryAttr({
                   b.getNamedAttr("budget", b.getI64IntegerAttr(limit)),
                   b.getNamedAttr("method", b.getStringAttr(methodName)),
                   b.getNamedAttr("no_remat_peak", b.getI64IntegerAttr(plainPeak)),
                   b.getNamedAttr("overhead", b.getF64FloatAttr(overhead)),
                   b.getNamedAttr("peak", b.getI64IntegerAttr(peak)),
                   b.getNamedAttr("recomputes", b.getI64IntegerAttr(recomputes)),
               }));
  }
};

} // namespace
} // namespace tessera
