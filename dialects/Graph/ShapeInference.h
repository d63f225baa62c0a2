//===- ShapeInference.h - shape rules of tessera ops ------------*- C++ -*-===//
//
// Free functions computing result shapes from operand shapes and attributes.
// Shared by the op verifiers, the ONNX importer and passes. Each returns
// failure() after emitting an error at `loc` (when given) that names the rule
// it enforces. Dynamic extents (ShapedType::kDynamic) propagate.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_DIALECTS_GRAPH_SHAPEINFERENCE_H
#define TESSERA_DIALECTS_GRAPH_SHAPEINFERENCE_H

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"
#include <optional>

namespace tessera::shape {

using Shape = llvm::SmallVector<int64_t, 6>;
using mlir::ArrayRef;
using mlir::FailureOr;
using mlir::Location;
using mlir::LogicalResult;

/// Numpy broadcasting of two shapes.
FailureOr<Shape> broadcast(ArrayRef<int64_t> a, ArrayRef<int64_t> b,
                           std::optional<Location> loc);
/// True if `from` broadcasts to exactly `to`.
LogicalResult broadcastableTo(ArrayRef<int64_t> from, ArrayRef<int64_t> to,
                              std::optional<Location> loc);
/// [..., M, K] x [..., K, N] -> [..., M, N] with broadcast batch dims.
FailureOr<Shape> matmul(ArrayRef<int64_t> lhs, ArrayRef<int64_t> rhs,
                        std::optional<Location> loc);
/// Banded batched matmul (Longformer): g2bmm [B,M,K] x [B,N,K] -> [B,M,2W+1];
/// gbmm [B,M,2W+1] x [B,N,K] -> [B,M,K]. `op` names the rule in errors.
FailureOr<Shape> bandedMatmul(ArrayRef<int64_t> lhs, ArrayRef<int64_t> rhs,
                              int64_t width, int64_t dilation, bool general,
                              std::optional<Location> loc);
/// NCHW x [F, C/g, KH, KW]; pads = [top, left, bottom, right].
FailureOr<Shape> conv2d(ArrayRef<int64_t> input, ArrayRef<int64_t> weight,
                        ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                        ArrayRef<int64_t> pads, int64_t groups,
                        std::optional<Location> loc);
/// NCHW x [C, F/g, KH, KW].
FailureOr<Shape> convTranspose2d(ArrayRef<int64_t> input,
                                 ArrayRef<int64_t> weight,
                                 ArrayRef<int64_t> strides,
                                 ArrayRef<int64_t> dilations,
                                 ArrayRef<int64_t> pads,
                                 ArrayRef<int64_t> outputPadding,
                                 int64_t groups, std::optional<Location> loc);
FailureOr<Shape> pool2d(ArrayRef<int64_t> input, ArrayRef<int64_t> kernel,
                        ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                        ArrayRef<int64_t> pads, std::optional<Location> loc);
/// `axes` must be sorted, unique and in range.
FailureOr<Shape> reduce(ArrayRef<int64_t> input, ArrayRef<int64_t> axes,
                        bool keepdims, std::optional<Location> loc);
FailureOr<Shape> transpose(ArrayRef<int64_t> input, ArrayRef<int64_t> perm,
                           std::optional<Location> loc);
FailureOr<Shape> concat(ArrayRef<Shape> inputs, int64_t axis,
                        std::optional<Location> loc);
/// Checks that a slice with the given starts/steps and result shape stays in
/// bounds of `input`.
LogicalResult slice(ArrayRef<int64_t> input, ArrayRef<int64_t> starts,
                    ArrayRef<int64_t> steps, ArrayRef<int64_t> result,
                    std::optional<Location> loc);
FailureOr<Shape> gather(ArrayRef<int64_t> input, ArrayRef<int64_t> indices,
                        int64_t axis, std::optional<Location> loc);
FailureOr<Shape> pad(ArrayRef<int64_t> input, ArrayRef<int64_t> low,
                     ArrayRef<int64_t> high, std::optional<Location> loc);
/// Same number of elements (when static).
LogicalResult reshape(ArrayRef<int64_t> input, ArrayRef<int64_t> result,
                      std::optional<Location> loc);

/// Number of elements, or ShapedType::kDynamic.
int64_t numElements(ArrayRef<int64_t> shape);

} // namespace tessera::shape

#endif
