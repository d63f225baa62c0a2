//===- ExternalizeWeights.cpp - constants to entry arguments --------------===//
#include "passes/graph/Passes.h"

#include "dialects/Graph/TesseraDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringSet.h"

namespace tessera {
#define GEN_PASS_DEF_TESSERAEXTERNALIZEWEIGHTS
#include "passes/graph/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace {
std::string nameFromLoc(Location loc) {
  if (auto n = dyn_cast<NameLoc>(loc))
    return n.getName().str();
  if (auto f = dyn_cast<FusedLoc>(loc))
    for (Location l : f.getLocations())
      if (auto n = dyn_cast<NameLoc>(l))
        return n.getName().str();
  return "";
}

struct ExternalizeWeights
    : tessera::impl::TesseraExternalizeWeightsBase<ExternalizeWeights> {
  using Base::Base;
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isPrivate() || func.isExternal())
        continue;
      SmallVector<tessera::ConstantOp> consts;
      func.walk([&](tessera::ConstantOp c) {
        auto attr = c.getValue();
        if (attr.isSplat() || attr.getNumElements() < minElements)
          return;
        consts.push_back(c);
      });
      llvm::StringSet<> used;
      for (unsigned i = 0; i < func.getNumArguments(); ++i)
        if (auto n = func.getArgAttrOfType<StringAttr>(i, tessera::kWeightNameAttr))
          used.insert(n.getValue());
      unsigned counter = 0;
      for (tessera::ConstantOp c : consts) {
        std::string name = nameFromLoc(c.getLoc());
        if (name.empty() || used.contains(name)) {
          do
            name = "weight_" + std::to_string(counter++);
          while (used.contains(name));
        }
        used.insert(name);
        Builder b(&getContext());
        NamedAttrList attrs;
        attrs.set(tessera::kWeightNameAttr, b.getStringAttr(name));
        attrs.set(tessera::kWeightValueAttr, c.getValue());
        unsigned idx = func.getNumArguments();
        if (failed(func.insertArgument(idx, c.getType(),
                                       attrs.getDictionary(&getContext()),
                                       c.getLoc())))
          return signalPassFailure();
        c.getResult().replaceAllUsesWith(func.getArgument(idx));
        c.erase();
      }
    }
  }
};
} // namespace
