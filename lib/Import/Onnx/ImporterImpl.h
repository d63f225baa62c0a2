//===- ImporterImpl.h - ONNX importer internals -----------------*- C++ -*-===//
#ifndef TESSERA_LIB_IMPORT_ONNX_IMPORTERIMPL_H
#define TESSERA_LIB_IMPORT_ONNX_IMPORTERIMPL_H

#include "lib/Import/Onnx/OnnxImporter.h"

#include "dialects/Graph/TesseraDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"

#include <onnx/onnx_pb.h>

#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>

namespace tessera::onnx_import {
using namespace mlir;

/// A tensor known at import time (initializers, Constant nodes, folded shape
/// computations). Integers and bools are held in `ints`, floats in `floats`
/// unless the tensor is large, in which case only `raw` (little-endian bytes
/// of `type`) is kept.
struct HostTensor {
  RankedTensorType type;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::string raw; ///< set for large float tensors only
  bool isFloat() const { return isa<FloatType>(type.getElementType()); }
  bool hasValues() const { return raw.empty(); }
  int64_t numElements() const { return type.getNumElements(); }
  double getF(int64_t i) const { return isFloat() ? floats[i] : (double)ints[i]; }
  int64_t getI(int64_t i) const { return isFloat() ? (int64_t)floats[i] : ints[i]; }
};

struct Entry {
  RankedTensorType type;
  Value value;                        ///< materialised SSA value
  std::shared_ptr<HostTensor> host;   ///< known at import time
};

class Importer;
using Converter = std::function<LogicalResult(Importer &, const onnx::NodeProto &)>;

/// name -> converter for every supported default-domain op.
const std::unordered_map<std::string, Converter> &converters();

class Importer {
public:
  Importer(MLIRContext *ctx, const ImportOptions &opts, std::string modelName,
           std::string baseDir)
      : ctx(ctx), b(ctx), opts(opts), modelName(std::move(modelName)),
        baseDir(std::move(baseDir)) {}

  OwningOpRef<ModuleOp> run(const onnx::ModelProto &model, OpStats *stats);

  // --- used by converters ---------------------------------------------------
  MLIRContext *ctx;
  OpBuilder b;
  const ImportOptions &opts;
  int64_t opset = 0;
  Location loc = UnknownLoc::get(ctx); ///< location of the current node

  /// Number of present (non-empty-named) inputs.
  size_t numInputs(const onnx::NodeProto &n) const;
  bool hasInput(const onnx::NodeProto &n, int i) const {
    return i < n.input_size() && !n.input(i).empty();
  }
  /// The entry for input i; errors if missing.
  FailureOr<Entry *> input(const onnx::NodeProto &n, int i);
  /// SSA value of input i (materialising constants).
  FailureOr<Value> value(const onnx::NodeProto &n, int i);
  /// The constant value of input i; errors if not known at import time.
  FailureOr<HostTensor *> constant(const onnx::NodeProto &n, int i,
                                   StringRef what);
  Value materialize(Entry &e, StringRef name);
  void setOutput(const onnx::NodeProto &n, int i, Value v);
  void setOutputHost(const onnx::NodeProto &n, int i,
                     std::shared_ptr<HostTensor> h);
  LogicalResult error(const Twine &msg) { return emitError(loc) << msg, failure(); }

  /// Creates the constant for a host tensor.
  Value constantOp(const HostTensor &h, Location l);
  /// Makes a scalar/splat float constant of `t`'s element type and shape [].
  Value scalarLike(Type elementType, double v);

  // attribute helpers
  const onnx::AttributeProto *attr(const onnx::NodeProto &n, StringRef name);
  int64_t attrInt(const onnx::NodeProto &n, StringRef name, int64_t dflt);
  double attrFloat(const onnx::NodeProto &n, StringRef name, double dflt);
  std::string attrString(const onnx::NodeProto &n, StringRef name,
                         StringRef dflt);
  std::optional<std::vector<int64_t>> attrInts(const onnx::NodeProto &n,
                                               StringRef name);

  /// Decodes an ONNX TensorProto (incl. external data) into a host tensor.
  FailureOr<std::shared_ptr<HostTensor>> decodeTensor(const onnx::TensorProto &t,
                                                      StringRef what);
  /// ONNX element type -> MLIR type (null if unsupported).
  Type elementType(int32_t onnxType);

  std::unordered_map<std::string, Entry> values;

private:
  std::string modelName, baseDir;
  func::FuncOp func;
  Block *entryBlock = nullptr;
  int64_t resourceCounter = 0;
};

} // namespace tessera::onnx_import

#endif
