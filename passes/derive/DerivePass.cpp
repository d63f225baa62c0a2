//===- DerivePass.cpp - tessera-derive and tessera-derive-rule ------------===//
#include "passes/derive/Passes.h"
#include "passes/conversion/GraphToTExpr/Passes.h"
#include "passes/derive/Bridge.h"
#include "passes/derive/Derive.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <map>

using namespace mlir;
using namespace tessera::derive;

namespace tessera {
#define GEN_PASS_DEF_TESSERADERIVE
#define GEN_PASS_DEF_TESSERADERIVERULE
#include "passes/derive/Passes.h.inc"

namespace {
/// Materialises a derived tree: stages that match a library op become that
/// op (when `library`), the others texpr.scope eOperators.
Value emitTree(OpBuilder &b, Location loc, const Scope &s,
               ArrayRef<Value> inputs, Type et, bool library) {
  SmallVector<Value> vals;
  for (const Source &src : s.srcs)
    vals.push_back(src.scope ? emitTree(b, loc, *src.scope, inputs, et, library)
                             : inputs[src.input]);
  if (library)
    if (auto v = emitLibrary(b, loc, s, vals); succeeded(v))
      return *v;
  Scope shallow = s;
  for (auto [i, src] : llvm::enumerate(shallow.srcs)) {
    src.scope = nullptr;
    src.input = i;
  }
  return scopeToOps(b, loc, shallow, vals, et);
}

std::string locStr(Location loc) {
  std::string s;
  llvm::raw_string_ostream os(s);
  loc.print(os);
  return s;
}

llvm::json::Array traceJson(ArrayRef<Step> trace) {
  llvm::json::Array a;
  for (const Step &s : trace)
    a.push_back(llvm::json::Object{{"rule", s.rule},
                                   {"detail", s.detail},
                                   {"obligations", (int64_t)s.proofs.size()}});
  return a;
}

llvm::json::Array stagesJson(const CostModel &m, const Scope &root) {
  std::vector<std::string> stages;
  m.cost(root, &stages);
  llvm::json::Array a;
  for (auto &s : stages)
    a.push_back(s);
  return a;
}

struct Decision {
  std::optional<Candidate> chosen;
  llvm::json::Object entry;
};

struct DerivePass : impl::TesseraDeriveBase<DerivePass> {
  using Base::Base;

  void runOnOperation() override {
    if (target != "cpu" && target != "cuda") {
      getOperation().emitError() << "tessera-derive: unknown target '" << target
                                 << "' (have cpu, cuda)";
      return signalPassFailure();
    }
    CostModel model = CostModel::forTarget(target);
    SmallVector<std::string> kinds(ops.begin(), ops.end());
    if (kinds.empty())
      kinds = {"conv", "conv_transpose", "matmul", "g2bmm", "gbmm"};
    SmallVector<Operation *> todo;
    getOperation().walk([&](Operation *op) {
      if (isa<TesseraDialect>(op->getDialect()) &&
          llvm::is_contained(kinds, op->getName().stripDialect().str()))
        todo.push_back(op);
    });
    auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                           start)
          .count();
    };
    std::map<uint64_t, Decision> cache;
    llvm::json::Array entries;
    unsigned committed = 0, dropped = 0;
    for (auto [i, op] : llvm::enumerate(todo)) {
      llvm::json::Object e{{"op", op->getName().getStringRef()},
                           {"loc", locStr(op->getLoc())}};
      std::string why;
      auto expr = expressionOf(op, why);
      if (failed(expr)) {
        e["status"] = "no-expression";
        e["why"] = why;
        entries.push_back(std::move(e));
        continue;
      }
      uint64_t fp = fingerprint(**expr);
      auto it = cache.find(fp);
      if (it == cache.end()) {
        double left = std::max(0.0, timeBudget - elapsed());
        SearchOptions so;
        so.maxDepth = maxDepth;
        // The un-derived conv-transpose runs a stride-1 conv over the
        // zero-inserted input (GraphToLinalg and the CUDA target alike).
        if (auto ct = dyn_cast<ConvTransposeOp>(op))
          so.originalWorkFactor = double(ct.getStrides()[0] * ct.getStrides()[1]);
        so.timeBudget = left / double(todo.size() - i);
        it = cache.emplace(fp, decide(op, *expr, model, so, dropped)).first;
        e["cached"] = false;
      } else {
        e["cached"] = true;
      }
      for (auto &kv : it->second.entry)
        e[kv.first] = kv.second;
      if (it->second.chosen) {
        OpBuilder b(op);
        Type et = getElementTypeOrSelf(op->getResult(0).getType());
        Value v = emitTree(b, op->getLoc(), *it->second.chosen->root,
                           SmallVector<Value>(op->getOperands()), et, true);
        op->getResult(0).replaceAllUsesWith(v);
        op->erase();
        ++committed;
      }
      entries.push_back(std::move(e));
    }
    if (!report.empty()) {
      llvm::json::Object root{{"target", target},
                              {"max_depth", (int64_t)maxDepth},
                              {"time_budget_s", (double)timeBudget},
                              {"search_seconds", elapsed()},
                              {"ops", (int64_t)todo.size()},
                              {"committed", (int64_t)committed},
                              {"dropped", (int64_t)dropped},
                              {"entries", std::move(entries)}};
      llvm::json::Value v(std::move(root));
      if (report == "-") {
        llvm::outs() << llvm::formatv("{0:2}", v) << "\n";
        return;
      }
      // Written whole to a temporary file and renamed: never half a report.
      std::error_code ec;
      std::string tmp = report + ".tmp";
      {
        llvm::raw_fd_ostream os(tmp, ec);
        if (!ec)
          os << llvm::formatv("{0:2}", v) << "\n";
      }
      if (ec || llvm::sys::fs::rename(tmp, report)) {
        llvm::sys::fs::remove(tmp);
        getOperation().emitError() << "tessera-derive: cannot write report '"
                                   << report << "'"
                                   << (ec ? ": " + ec.message() : "");
        return signalPassFailure();
      }
    }
  }

  Decision decide(Operation *op, ScopePtr expr, const CostModel &model,
                  const SearchOptions &so, unsigned &dropped) {
    Decision d;
    SearchResult r = search(expr, model, so);
    d.entry["expression"] = toString(*expr);
    d.entry["original_cost_us"] = r.original.cost * 1e6;
    d.entry["original_work_factor"] = so.originalWorkFactor;
    d.entry["original_stages"] = stagesJson(model, *expr);
    d.entry["explored"] = (int64_t)r.explored;
    d.entry["deduplicated"] = (int64_t)r.deduplicated;
    d.entry["timed_out"] = r.timedOut;
    d.entry["search_seconds"] = r.seconds;
    llvm::json::Array tried;
    SmallVector<SmallVector<int64_t, 6>> shapes;
    for (Value v : op->getOperands()) {
      auto sh = cast<RankedTensorType>(v.getType()).getShape();
      shapes.emplace_back(sh.begin(), sh.end());
    }
    unsigned verified = 0;
    for (const Candidate &c : r.best) {
      llvm::json::Object t{{"cost_us", c.cost * 1e6},
                           {"trace", traceJson(c.trace)},
                           {"stages", stagesJson(model, *c.root)}};
      // At most three candidates are verified per op (verification is not
      // part of the search budget).
      if (d.chosen || c.cost > r.original.cost * (1 - minGain) || verified >= 3) {
        tried.push_back(std::move(t));
        continue;
      }
      ++verified;
      ScopePtr cand = c.root;
      if (testCorrupt) {
        auto bad = std::make_shared<Scope>(*cand);
        bool done = false;
        forEachAccessMut(bad->body, [&](Node &n) {
          if (!done && !n.idx.empty()) {
            n.idx.back() = n.idx.back() + 1;
            done = true;
          }
        });
        cand = bad;
      }
      Verdict v = verify(*expr, *cand, shapes, c.trace, seed);
      t["verified"] = v.ok;
      t["points_checked"] = (int64_t)v.pointsChecked;
      t["max_rel_error"] = v.maxError;
      t["z3_obligations"] = (int64_t)v.obligations;
      if (!v.ok) {
        t["failure"] = v.failure;
        op->emitRemark() << "tessera-derive: dropped a derivation that failed "
                            "verification: "
                         << v.failure;
        ++dropped;
      } else {
        d.chosen = c;
        d.entry["chosen_expression"] = toString(*c.root);
        d.entry["chosen_cost_us"] = c.cost * 1e6;
        d.entry["speedup_modelled"] = r.original.cost / c.cost;
      }
      tried.push_back(std::move(t));
    }
    d.entry["candidates"] = std::move(tried);
    d.entry["status"] = d.chosen ? "derived" : "kept";
    return d;
  }
};

struct DeriveRulePass : impl::TesseraDeriveRuleBase<DeriveRulePass> {
  using Base::Base;

  std::optional<RuleResult> apply(const Scope &s, std::string &why) {
    auto arg = [&](unsigned i) -> int64_t {
      return i < args.size() ? args[i] : -1;
    };
    if (rule == "summation-split") {
      SmallVector<unsigned> outer(args.begin(), args.end());
      return summationSplit(s, outer);
    }
    if (rule == "substitute")
      return substitute(s, arg(0), arg(1), arg(2));
    if (rule == "merge")
      return mergeVars(s, arg(0), arg(1));
    if (rule == "inline")
      return inlineSource(s, arg(0));
    if (rule == "tighten")
      return tighten(s);
    if (rule == "relax")
      return relax(s, arg(0), {arg(1), arg(2)});
    if (rule == "split")
      return splitSum(s, arg(0), arg(1));
    if (rule == "dilation-to-batch")
      return dilationToBatch(s, arg(0), arg(1));
    why = "unknown rule '" + rule +
          "' (have summation-split, substitute, merge, inline, tighten, relax, "
          "split, dilation-to-batch, match)";
    return std::nullopt;
  }

  void runOnOperation() override {
    SmallVector<texpr::ScopeOp> roots;
    getOperation().walk([&](texpr::ScopeOp op) {
      bool feedsScope = llvm::any_of(op->getUsers(), [](Operation *u) {
        return isa<texpr::ScopeOp>(u);
      });
      if (!feedsScope)
        roots.push_back(op);
    });
    for (texpr::ScopeOp op : roots) {
      SmallVector<Value> inputs;
      auto root = scopeFromOp(op, inputs);
      if (failed(root))
        return signalPassFailure();
      std::vector<Step> trace;
      ScopePtr result = *root;
      if (rule != "match") {
        SmallVector<unsigned> p(path.begin(), path.end());
        ScopePtr stage = *root;
        bool reached = llvm::all_of(p, [&](unsigned i) {
          if (i >= stage->srcs.size() || !stage->srcs[i].scope)
            return false;
          stage = stage->srcs[i].scope;
          return true;
        });
        if (!reached) {
          op.emitRemark() << "tessera-derive-rule: the path does not reach a "
                             "stage of this expression";
          continue;
        }
        std::string why;
        auto r = apply(*stage, why);
        if (!why.empty()) {
          op.emitError() << "tessera-derive-rule: " << why;
          return signalPassFailure();
        }
        if (!r) {
          op.emitRemark() << "tessera-derive-rule: '" << rule
                          << "' does not apply";
          continue;
        }
        trace.push_back(r->step);
        result = normalize(replaceAt(*root, p, r->scope), trace);
      }
      SmallVector<SmallVector<int64_t, 6>> shapes;
      for (Value v : inputs) {
        auto sh = cast<RankedTensorType>(v.getType()).getShape();
        shapes.emplace_back(sh.begin(), sh.end());
      }
      Verdict v = verify(**root, *result, shapes, trace, 7);
      if (!v.ok) {
        op.emitError() << "tessera-derive-rule: '" << rule
                       << "' failed verification: " << v.failure;
        return signalPassFailure();
      }
      OpBuilder b(op);
      Value nv = emitTree(b, op.getLoc(), *result, inputs,
                          op.getType().getElementType(), rule == "match");
      op.getResult().replaceAllUsesWith(nv);
      // Erase the old tree (root first, then dead feeding scopes).
      SmallVector<Operation *> dead{op};
      while (!dead.empty()) {
        Operation *d = dead.pop_back_val();
        SmallVector<Value> operands(d->getOperands());
        d->erase();
        for (Value x : operands)
          if (auto s = x.getDefiningOp<texpr::ScopeOp>(); s && s->use_empty())
            dead.push_back(s);
      }
    }
  }
};
} // namespace
} // namespace tessera
