//===- CopyToLinalg.cpp - memref.copy -> linalg.copy ----------------------===//
#include "lib/Target/CPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace tessera {
#define GEN_PASS_DEF_TESSERAMEMREFCOPYTOLINALG
#include "lib/Target/CPU/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace {
struct CopyToLinalg
    : tessera::impl::TesseraMemrefCopyToLinalgBase<CopyToLinalg> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp c) { copies.push_back(c); });
    for (memref::CopyOp c : copies) {
      OpBuilder b(c);
      linalg::CopyOp::create(b, c.getLoc(), c.getSource(), c.getTarget());
      c.erase();
    }
  }
};
} // namespace
