//===- passes/shard/PipelineSplit.cpp - cut @main into pipeline stages ----===//
//
// @main's ops, in program order, are cut into `stages` contiguous parts of
// about equal estimated run time (the remat cost model); each cut is moved,
// within a tenth of a stage's time of its balanced position, to where the
// fewest bytes cross it. The pass keeps stage `stage`: its function takes
// the model inputs it uses and the values earlier stages make that it uses
// (the boundary tensors), and returns what later stages or the model's
// results need. Constants are cloned into every stage that uses them. Every
// stage computes the same cuts, so the stages' names agree: a boundary
// tensor is named after the model result it is, else "stage<k>.<n>" (k the
// stage making it, n its index among that stage's boundary values).
//
//===----------------------------------------------------------------------===//

#include "passes/shard/Passes.h"

#include "passes/remat/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <functional>

#include <cmath>

namespace tessera {
#define GEN_PASS_DEF_TESSERAPIPELINESPLIT
#include "passes/shard/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

int64_t bytesOf(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.hasStaticShape())
    return 0;
  return t.getNumElements() *
         std::max<int64_t>(1, (t.getElementTypeBitWidth() + 7) / 8);
}

struct TesseraPipelineSplitPass
    : public impl::TesseraPipelineSplitBase<TesseraPipelineSplitPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto fn = module.lookupSymbol<func::FuncOp>("main");
    if (!fn || fn.isExternal()) {
      module.emitError("tessera-pipeline-split: the module has no @main");
      return signalPassFailure();
    }
    if (stages < 1 || stage < 0 || stage >= stages) {
      module.emitError("tessera-pipeline-split: stage ")
          << stage.getValue() << " of " << stages.getValue()
          << " stages is out of range";
      return signalPassFailure();
    }
    Block &body = fn.getBody().front();
    SmallVector<Operation *> ops;
    for (Operation &op : body.without_terminator()) {
      if (op.getNumRegions()) {
        op.emitError("tessera-pipeline-split: ops with regions are not "
                     "supported");
        return signalPassFailure();
      }
      ops.push_back(&op);
    }
    // Constants and what is computed from constants alone (transposed
    // weights): cloned into each stage using them, never sent.
    llvm::SmallPtrSet<Operation *, 32> constLike;
    for (Operation *op : ops)
      if (op->hasTrait<OpTrait::ConstantLike>() ||
          (op->getNumOperands() > 0 &&
           (isMemoryEffectFree(op) || // tessera ops compute values only
            op->getName().getDialectNamespace() == "tessera") &&
           llvm::all_of(op->getOperands(), [&](Value v) {
             Operation *d = v.getDefiningOp();
             return d && constLike.contains(d);
           })))
        constLike.insert(op);
    auto isConst = [&](Operation *op) { return constLike.contains(op); };
    const int64_t n = static_cast<int64_t>(ops.size());
    SmallVector<Operation *> compute;
    for (Operation *op : ops)
      if (!isConst(op))
        compute.push_back(op);
    if (static_cast<int64_t>(compute.size()) < stages) {
      module.emitError("tessera-pipeline-split: @main has ")
          << compute.size() << " ops, fewer than the " << stages.getValue()
          << " stages";
      return signalPassFailure();
    }
    DenseMap<Operation *, int64_t> position;
    for (int64_t i = 0; i < n; ++i)
      position[ops[i]] = i;
    // prefix[i]: estimated seconds of ops[0, i).
    SmallVector<double> prefix(n + 1, 0);
    for (int64_t i = 0; i < n; ++i)
      prefix[i + 1] = prefix[i] + (isConst(ops[i]) ? 0 : opSeconds(ops[i], target));
    // cross[i]: bytes of non-constant values made before position i and
    // used at or after it (or returned).
    SmallVector<int64_t> cross(n + 1, 0);
    for (int64_t i = 0; i < n; ++i) {
      if (isConst(ops[i]))
        continue;
      for (Value r : ops[i]->getResults()) {
        int64_t last = i;
        for (Operation *u : r.getUsers())
          last = std::max(last, u == body.getTerminator()
                                    ? n
                                    : position.lookup(u));
        for (int64_t c = i + 1; c <= last && c <= n; ++c)
          cross[c] += bytesOf(r);
      }
    }
    // Cut k (1..stages-1) goes before position cuts[k]: among the positions
    // within a tenth of a stage's time of the balanced one, the one the
    // fewest bytes cross (then the closest); else the closest. Every stage
    // keeps at least one compute op.
    SmallVector<int64_t> computeAfter(n + 1, 0); // compute ops in [i, n)
    for (int64_t i = n - 1; i >= 0; --i)
      computeAfter[i] = computeAfter[i + 1] +
                        (isConst(ops[i]) ? 0 : 1);
    const double total = prefix[n], per = total / stages;
    SmallVector<int64_t> cuts{0};
    for (int64_t k = 1; k < stages; ++k) {
      const double want = per * k;
      int64_t best = -1;
      bool bestIn = false;
      for (int64_t c = cuts.back() + 1; c < n; ++c) {
        if (computeAfter[cuts.back()] - computeAfter[c] < 1 ||
            computeAfter[c] < stages - k)
          continue;
        const double off = std::abs(prefix[c] - want);
        const bool in = off <= 0.1 * per;
        const double bestOff = best < 0 ? 0 : std::abs(prefix[best] - want);
        bool better;
        if (best < 0)
          better = true;
        else if (in != bestIn)
          better = in;
        else if (in && cross[c] != cross[best])
          better = cross[c] < cross[best];
        else
          better = off < bestOff;
        if (better) {
          best = c;
          bestIn = in;
        }
      }
      if (best < 0) {
        module.emitError("tessera-pipeline-split: cannot place cut ") << k;
        return signalPassFailure();
      }
      cuts.push_back(best);
    }
    cuts.push_back(n);
    auto stageOf = [&](int64_t pos) {
      int64_t s = 0;
      while (s + 1 < stages && pos >= cuts[s + 1])
        ++s;
      return s;
    };
    // Boundary names: a model result's own, else stage<k>.<n>.
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    // Every name a value is returned under (a value may be several results).
    DenseMap<Value, SmallVector<std::string, 1>> resultNames;
    for (auto [i, v] : llvm::enumerate(ret.getOperands()))
      resultNames[v].push_back(
          fn.getResultAttrOfType<StringAttr>(i, "tessera.name")
              ? fn.getResultAttrOfType<StringAttr>(i, "tessera.name").str()
              : "output_" + std::to_string(i));
    DenseMap<Value, std::string> boundaryName;
    SmallVector<int64_t> madeIn(stages, 0);
    for (int64_t i = 0; i < n; ++i) {
      if (isConst(ops[i]))
        continue;
      const int64_t s = stageOf(i);
      for (Value r : ops[i]->getResults()) {
        bool later = llvm::any_of(r.getUsers(), [&](Operation *u) {
          return u != ret && stageOf(position.lookup(u)) > s;
        });
        if (!later)
          continue;
        auto it = resultNames.find(r);
        boundaryName[r] = it != resultNames.end()
                              ? it->second.front()
                              : "stage" + std::to_string(s) + "." +
                                    std::to_string(madeIn[s]++);
      }
    }

    // The kept stage as a new @main.
    const int64_t k = stage;
    OpBuilder b(module.getContext());
    SmallVector<Type> inTypes;
    SmallVector<DictionaryAttr> inAttrs;
    SmallVector<Value> inputs;
    llvm::SetVector<Value> seen;
    for (int64_t i = cuts[k]; i < cuts[k + 1]; ++i)
      for (Value v : ops[i]->getOperands()) {
        if (auto a = dyn_cast<BlockArgument>(v)) {
          seen.insert(v);
          continue;
        }
        Operation *def = v.getDefiningOp();
        if (!isConst(def) && position.lookup(def) < cuts[k])
          seen.insert(v);
      }
    // Model inputs first, in their order, then boundary values by position.
    for (BlockArgument a : fn.getArguments())
      if (seen.contains(a)) {
        inputs.push_back(a);
        inTypes.push_back(a.getType());
        inAttrs.push_back(fn.getArgAttrDict(a.getArgNumber()));
      }
    for (Value v : seen)
      if (!isa<BlockArgument>(v)) {
        inputs.push_back(v);
        inTypes.push_back(v.getType());
        inAttrs.push_back(b.getDictionaryAttr(b.getNamedAttr(
            "tessera.name", b.getStringAttr(boundaryName.lookup(v)))));
      }
    SmallVector<Value> outputs;
    SmallVector<DictionaryAttr> outAttrs;
    for (int64_t i = cuts[k]; i < cuts[k + 1]; ++i) {
      if (isConst(ops[i]))
        continue;
      for (Value r : ops[i]->getResults()) {
        SmallVector<std::string, 1> names;
        if (auto it = resultNames.find(r); it != resultNames.end())
          names = it->second;
        else if (auto b2 = boundaryName.find(r); b2 != boundaryName.end())
          names.push_back(b2->second);
        for (const std::string &nm : names) {
          outputs.push_back(r);
          outAttrs.push_back(b.getDictionaryAttr(
              b.getNamedAttr("tessera.name", b.getStringAttr(nm))));
        }
      }
    }
    // A model result that is a model input or a constant passes through
    // the first stage.
    if (k == 0)
      for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
        Operation *def = v.getDefiningOp();
        if (def && !isConst(def))
          continue;
        if (isa<BlockArgument>(v) && !seen.contains(v)) {
          seen.insert(v);
          inputs.push_back(v);
          inTypes.push_back(v.getType());
          inAttrs.push_back(fn.getArgAttrDict(cast<BlockArgument>(v).getArgNumber()));
        }
        outputs.push_back(v);
        outAttrs.push_back(fn.getResultAttrDict(i));
      }
    if (outputs.empty()) {
      module.emitError("tessera-pipeline-split: stage ")
          << k << " makes nothing later stages or the model use";
      return signalPassFailure();
    }
    SmallVector<Type> outTypes;
    for (Value v : outputs)
      outTypes.push_back(v.getType());
    b.setInsertionPoint(fn);
    auto nf = func::FuncOp::create(b, fn.getLoc(), "main",
                                   b.getFunctionType(inTypes, outTypes));
    Block *nb = nf.addEntryBlock();
    for (unsigned i = 0; i < inAttrs.size(); ++i)
      if (inAttrs[i])
        nf.setArgAttrs(i, inAttrs[i]);
    for (unsigned i = 0; i < outAttrs.size(); ++i)
      if (outAttrs[i])
        nf.setResultAttrs(i, outAttrs[i]);
    IRMapping map;
    for (auto [v, a] : llvm::zip(inputs, nb->getArguments()))
      map.map(v, a);
    OpBuilder nbld = OpBuilder::atBlockEnd(nb);
    // Clones the constant-only computation of `v` (operands first).
    std::function<void(Value)> cloneConst = [&](Value v) {
      if (map.contains(v))
        return;
      Operation *def = v.getDefiningOp();
      if (!def || !isConst(def))
        return;
      for (Value o : def->getOperands())
        cloneConst(o);
      nbld.clone(*def, map);
    };
    for (int64_t i = cuts[k]; i < cuts[k + 1]; ++i) {
      if (isConst(ops[i]))
        continue;
      for (Value v : ops[i]->getOperands())
        cloneConst(v);
      nbld.clone(*ops[i], map);
    }
    SmallVector<Value> mapped;
    for (Value v : outputs) {
      cloneConst(v); // a returned constant
      mapped.push_back(map.lookup(v));
    }
    func::ReturnOp::create(nbld, fn.getLoc(), mapped);
    nf->setAttr("tessera.pipeline_stage", b.getI64IntegerAttr(k));
    nf->setAttr("tessera.pipeline_stages", b.getI64IntegerAttr(stages));
    // The plan, for the report and the pipeline manifest.
    SmallVector<Attribute> cutAttrs;
    for (int64_t c = 1; c < stages; ++c)
      cutAttrs.push_back(b.getI64IntegerAttr(cuts[c]));
    nf->setAttr("tessera.pipeline_cuts", b.getArrayAttr(cutAttrs));
    SmallVector<Attribute> secs;
    for (int64_t s = 0; s < stages; ++s)
      secs.push_back(b.getF64FloatAttr(prefix[cuts[s + 1]] - prefix[cuts[s]]));
    nf->setAttr("tessera.pipeline_stage_seconds", b.getArrayAttr(secs));
    fn.erase();
  }
};

} // namespace
} // namespace tessera
