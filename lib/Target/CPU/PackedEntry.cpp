//===- PackedEntry.cpp - the packed entry-point wrapper -------------------===//
#include "lib/Target/CPU/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"

namespace tessera {
#define GEN_PASS_DEF_TESSERACPUPACKEDENTRY
#include "lib/Target/CPU/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace {
struct PackedEntry : tessera::impl::TesseraCPUPackedEntryBase<PackedEntry> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto target = module.lookupSymbol<LLVM::LLVMFuncOp>(funcName);
    if (!target) {
      module.emitError("tessera-cpu-packed-entry: no llvm.func @")
          << funcName << " (run after convert-func-to-llvm)";
      return signalPassFailure();
    }
    if (module.lookupSymbol(entryName)) {
      module.emitError("tessera-cpu-packed-entry: symbol @")
          << entryName << " already exists";
      return signalPassFailure();
    }
    auto fnTy = target.getFunctionType();
    auto ptrTy = LLVM::LLVMPointerType::get(&getContext());
    for (auto [i, t] : llvm::enumerate(fnTy.getParams()))
      if (t != ptrTy) {
        target.emitError("tessera-cpu-packed-entry: parameter ")
            << i << " has type " << t
            << "; expected a bare pointer (static-shape memref)";
        return signalPassFailure();
      }
    // Tessera's argument/result annotations (names, weight values) were
    // consumed before codegen; LLVM translation would warn about them.
    for (unsigned i = 0; i < fnTy.getNumParams(); ++i) {
      DictionaryAttr dict = target.getArgAttrDict(i);
      if (!dict)
        continue;
      for (NamedAttribute a : dict.getValue())
        if (a.getName().getValue().starts_with("tessera."))
          target.removeArgAttr(i, a.getName());
    }
    OpBuilder b(module.getBodyRegion());
    b.setInsertionPointToEnd(module.getBody());
    Location loc = target.getLoc();
    auto voidTy = LLVM::LLVMVoidType::get(&getContext());
    auto entry = LLVM::LLVMFuncOp::create(
        b, loc, entryName, LLVM::LLVMFunctionType::get(voidTy, {ptrTy}));
    Block *body = entry.addEntryBlock(b);
    b.setInsertionPointToStart(body);
    SmallVector<Value> args;
    for (unsigned i = 0; i < fnTy.getNumParams(); ++i) {
      Value slot = LLVM::GEPOp::create(b, loc, ptrTy, ptrTy,
                                       body->getArgument(0),
                                       ArrayRef<LLVM::GEPArg>{(int32_t)i});
      args.push_back(LLVM::LoadOp::create(b, loc, ptrTy, slot));
    }
    LLVM::CallOp::create(b, loc, target, args);
    LLVM::ReturnOp::create(b, loc, ValueRange{});
  }
};
} // namespace
