//===- onnx_fuzz.cpp - libFuzzer target over the ONNX importer ------------===//
//
// Feeds arbitrary bytes to importOnnxBytes. The importer must never crash:
// every malformed model ends in a diagnostic and a null module.
//
//===----------------------------------------------------------------------===//
#include "dialects/Graph/TesseraDialect.h"
#include "lib/Import/Onnx/OnnxImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::MLIRContext ctx(mlir::MLIRContext::Threading::DISABLED);
  ctx.loadDialect<tessera::TesseraDialect, mlir::func::FuncDialect>();
  // Swallow diagnostics: the fuzzer checks for crashes, not messages.
  mlir::ScopedDiagnosticHandler quiet(&ctx, [](mlir::Diagnostic &) {
    return mlir::success();
  });
  tessera::onnx_import::ImportOptions opts;
  tessera::onnx_import::OpStats stats;
  auto module = tessera::onnx_import::importOnnxBytes(
      &ctx, data, size, "fuzz.onnx", /*baseDir=*/"", opts, &stats);
  (void)module;
  return 0;
}
