//===- DistinctResults.cpp - one value per returned tensor ----------------===//
#include "passes/graph/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/DenseSet.h"

namespace tessera {
#define GEN_PASS_DEF_TESSERADISTINCTRESULTS
#include "passes/graph/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace {
struct DistinctResults
    : tessera::impl::TesseraDistinctResultsBase<DistinctResults> {
  void runOnOperation() override {
    getOperation().walk([](func::ReturnOp ret) {
      llvm::DenseSet<Value> seen;
      OpBuilder b(ret);
      for (OpOperand &use : ret->getOpOperands()) {
        Value v = use.get();
        auto t = dyn_cast<RankedTensorType>(v.getType());
        if (!t || seen.insert(v).second)
          continue;
        Value empty = tensor::EmptyOp::create(b, ret.getLoc(), t.getShape(),
                                              t.getElementType());
        use.set(linalg::CopyOp::create(b, ret.getLoc(), v, empty)
                    .getResult(0));
      }
    });
  }
};
} // namespace
