//===- OnnxImporter.h - ONNX to the tessera dialect -------------*- C++ -*-===//
#ifndef TESSERA_LIB_IMPORT_ONNX_ONNXIMPORTER_H
#define TESSERA_LIB_IMPORT_ONNX_ONNXIMPORTER_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mlir {
class MLIRContext;
class ModuleOp;
template <typename T> class OwningOpRef;
} // namespace mlir

namespace tessera::onnx_import {

struct ImportOptions {
  /// Shapes for graph inputs, overriding the model's (dynamic) dims.
  std::map<std::string, std::vector<int64_t>> inputShapes;
  /// Value used for dynamic/unknown input dims without an override.
  int64_t defaultDynamicDim = 1;
  /// Constants with at least this many bytes become dense_resource blobs.
  int64_t resourceThresholdBytes = 256;
};

/// Histogram of the ONNX op types of a model, and which are unsupported.
struct OpStats {
  struct Entry {
    int64_t count = 0;
    bool supported = true;
    std::vector<std::string> nodes; ///< node names (first few)
  };
  std::map<std::string, Entry> ops;
  int64_t opsetVersion = 0;
  std::string toJson() const;
};

/// Imports an ONNX model file. Errors (with locations) go through the
/// context's diagnostic engine; returns a null module on failure. When
/// `stats` is given it is filled even if import fails (e.g. to list every
/// unsupported op).
mlir::OwningOpRef<mlir::ModuleOp> importOnnxFile(mlir::MLIRContext *ctx,
                                                 const std::string &path,
                                                 const ImportOptions &options,
                                                 OpStats *stats = nullptr);

/// Imports from memory. `baseDir` resolves external-data files ("" = none).
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxBytes(mlir::MLIRContext *ctx, const void *data, size_t size,
                const std::string &name, const std::string &baseDir,
                const ImportOptions &options, OpStats *stats = nullptr);

/// ONNX op types the importer converts (default domain), sorted.
std::vector<std::string> supportedOpTypes();

} // namespace tessera::onnx_import

#endif
