//===- tessera-opt.cpp - opt-style driver for Tessera ---------------------===//
//
// Registers every upstream dialect, pass and extension, plus Tessera's
// dialects, passes and named pipelines (tessera-cpu-pipeline and its stages).
//
//===----------------------------------------------------------------------===//
#include "dialects/Graph/TesseraDialect.h"
#include "dialects/TExpr/TExprDialect.h"
#include "lib/Pipelines/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  tessera::registerTesseraPassesAndPipelines();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  registry.insert<tessera::TesseraDialect, tessera::texpr::TExprDialect>();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "Tessera optimizer driver\n", registry));
}
