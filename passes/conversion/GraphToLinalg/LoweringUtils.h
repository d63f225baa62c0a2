//===- LoweringUtils.h - helpers for tessera -> linalg ----------*- C++ -*-===//
// Internal to the GraphToLinalg conversion.
#ifndef TESSERA_PASSES_CONVERSION_GRAPHTOLINALG_LOWERINGUTILS_H
#define TESSERA_PASSES_CONVERSION_GRAPHTOLINALG_LOWERINGUTILS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace tessera::lowering {
using namespace mlir;

using BodyFn = llvm::function_ref<Value(OpBuilder &, Location, ValueRange)>;

Value emptyTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                  Type elementType);
/// A scalar constant of a float or integer type.
Value scalar(OpBuilder &b, Location loc, Type type, double value);
/// linalg.fill of a fresh tensor.
Value filled(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Type et,
             double value);
/// Affine map from the result's iteration space to an operand of `shape`,
/// implementing numpy broadcasting (size-1 dims read index 0; missing
/// leading dims are dropped).
AffineMap broadcastMap(MLIRContext *ctx, ArrayRef<int64_t> operandShape,
                       ArrayRef<int64_t> resultShape);
/// linalg.generic over the result shape, all parallel, inputs broadcast.
/// `body` receives the input scalars and returns the result scalar.
Value elementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                  ValueRange inputs, BodyFn body);
/// Reshape (row-major) through collapse/expand_shape.
Value reshapeTo(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> shape);
/// Largest / smallest finite-or-infinite value used as reduction identity.
double lowest(Type t);
double highest(Type t);

FailureOr<Value> lowerElementwiseOp(Operation *op, OpBuilder &b);
FailureOr<Value> lowerStructuredOp(Operation *op, OpBuilder &b);

} // namespace tessera::lowering

#endif
