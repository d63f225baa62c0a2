//===- GraphToLinalg.cpp - the convert-tessera-to-linalg pass -------------===//
#include "passes/conversion/GraphToLinalg/Passes.h"

#include "LoweringUtils.h"
#include "dialects/Graph/TesseraDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"

namespace tessera {
#define GEN_PASS_DEF_CONVERTTESSERATOLINALG
#include "passes/conversion/GraphToLinalg/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace {
bool hasStaticTypes(Operation *op) {
  auto isStatic = [](Type t) {
    auto st = dyn_cast<ShapedType>(t);
    return !st || st.hasStaticShape();
  };
  return llvm::all_of(op->getOperandTypes(), isStatic) &&
         llvm::all_of(op->getResultTypes(), isStatic);
}

struct ConvertTesseraToLinalg
    : tessera::impl::ConvertTesseraToLinalgBase<ConvertTesseraToLinalg> {
  void runOnOperation() override {
    SmallVector<Operation *> work;
    getOperation().walk([&](Operation *op) {
      if (isa<tessera::TesseraDialect>(op->getDialect()))
        work.push_back(op);
    });
    bool failedAny = false;
    OpBuilder b(&getContext());
    for (Operation *op : work) {
      if (!hasStaticTypes(op)) {
        op->emitOpError("has dynamic shapes; tessera lowers static shapes "
                        "only (fix the input shapes at import)");
        failedAny = true;
        continue;
      }
      b.setInsertionPoint(op);
      FailureOr<Value> v = tessera::lowering::lowerStructuredOp(op, b);
      if (failed(v)) {
        failedAny = true;
        continue;
      }
      op->getResult(0).replaceAllUsesWith(*v);
      op->erase();
    }
    if (failedAny)
      signalPassFailure();
  }
};
} // namespace
