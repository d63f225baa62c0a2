//===- LowerPrecision.cpp - bf16/f16 storage with f32 arithmetic ----------===//
//
// Mixed precision on linalg-on-tensors: tensors that are only *read* by
// later kernels (weights, outputs of elementwise kernels) are stored in a
// 16-bit type; every kernel still computes and accumulates in f32, extending
// what it reads and rounding (nearest-even) what it stores. Outputs of
// kernels that reduce (matmul, conv, softmax and norm statistics) stay f32,
// as do the model's inputs and outputs.
//
//===----------------------------------------------------------------------===//
#include "passes/conversion/GraphToLinalg/Passes.h"

#include "passes/graph/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/DenseMap.h"

namespace tessera {
#define GEN_PASS_DEF_TESSERALOWERPRECISION
#include "passes/conversion/GraphToLinalg/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace {

bool isF32Tensor(Type t) {
  auto rt = dyn_cast<RankedTensorType>(t);
  return rt && rt.getElementType().isF32();
}

Type withElement(Type t, Type element) {
  return cast<RankedTensorType>(t).clone(element);
}

/// Ops that only move or reshape elements: demoting their source demotes
/// their result.
bool isShapeOnly(Operation *op) {
  if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp,
          tensor::ExtractSliceOp>(op))
    return true;
  if (auto pad = dyn_cast<tensor::PadOp>(op))
    return pad.getConstantPaddingValue() &&
           pad.getConstantPaddingValue().getDefiningOp<arith::ConstantOp>();
  return false;
}

/// A generic that writes its outputs without reading them: all loops
/// parallel and no output block argument used.
bool writesWithoutReading(linalg::GenericOp g) {
  if (g.getNumReductionLoops() != 0)
    return false;
  for (OpOperand &init : g.getDpsInitsMutable())
    if (!g.getMatchingBlockArgument(&init).use_empty())
      return false;
  return true;
}

struct LowerPrecision
    : tessera::impl::TesseraLowerPrecisionBase<LowerPrecision> {
  using Base::Base;

  Type low;
  llvm::DenseMap<Value, bool> readOnlyCache;
  int64_t overflowed = 0; ///< weight elements that became +-inf

  /// True when every use of `v` reads it as a kernel input, directly or
  /// through shape-only ops whose results are read the same way.
  bool onlyReadByKernels(Value v) {
    auto it = readOnlyCache.find(v);
    if (it != readOnlyCache.end())
      return it->second;
    readOnlyCache[v] = false; // no cycles on tensors, but be safe
    bool ok = !v.use_empty();
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (auto g = dyn_cast<linalg::GenericOp>(user)) {
        // Rounding must not change a conversion to integers or a
        // comparison: only float arithmetic may read the value.
        ok &= g.isDpsInput(&use) &&
              llvm::none_of(g.getMatchingBlockArgument(&use).getUsers(),
                            [](Operation *op) {
                              return isa<arith::FPToSIOp, arith::FPToUIOp,
                                         arith::CmpFOp, arith::BitcastOp>(op);
                            });
      } else if (isShapeOnly(user) && use.getOperandNumber() == 0) {
        ok &= onlyReadByKernels(user->getResult(0));
      } else {
        ok = false;
      }
      if (!ok)
        break;
    }
    readOnlyCache[v] = ok;
    return ok;
  }

  /// Retypes `v` to the low type and fixes up its readers.
  void demote(Value v, OpBuilder &b) {
    v.setType(withElement(v.getType(), low));
    for (OpOperand &use : llvm::make_early_inc_range(v.getUses())) {
      Operation *user = use.getOwner();
      if (auto g = dyn_cast<linalg::GenericOp>(user)) {
        BlockArgument arg = g.getMatchingBlockArgument(&use);
        arg.setType(low);
        Block *body = arg.getOwner();
        b.setInsertionPointToStart(body);
        auto ext = arith::ExtFOp::create(b, g.getLoc(), b.getF32Type(), arg);
        arg.replaceAllUsesExcept(ext.getResult(), ext);
        continue;
      }
      if (auto pad = dyn_cast<tensor::PadOp>(user)) {
        auto cst =
            pad.getConstantPaddingValue().getDefiningOp<arith::ConstantOp>();
        APFloat val = cast<FloatAttr>(cst.getValue()).getValue();
        bool lost;
        val.convert(cast<FloatType>(low).getFloatSemantics(),
                    APFloat::rmNearestTiesToEven, &lost);
        b.setInsertionPoint(pad);
        auto lowCst = arith::ConstantOp::create(b, pad.getLoc(),
                                                b.getFloatAttr(low, val));
        auto yield = cast<tensor::YieldOp>(pad.getBody()->getTerminator());
        yield->setOperand(0, lowCst);
      }
      demote(user->getResult(0), b);
    }
  }

  /// Rounds a weight's f32 value to the low type, nearest-even.
  ElementsAttr convertWeight(ElementsAttr value, RankedTensorType newType) {
    const llvm::fltSemantics &sem = cast<FloatType>(low).getFloatSemantics();
    std::vector<uint16_t> bits;
    bits.reserve(value.getNumElements());
    auto push = [&](float f) {
      APFloat x(f);
      bool lost;
      if (x.convert(sem, APFloat::rmNearestTiesToEven, &lost) &
          APFloat::opOverflow)
        ++overflowed;
      bits.push_back(static_cast<uint16_t>(x.bitcastToAPInt().getZExtValue()));
    };
    if (auto res = dyn_cast<DenseResourceElementsAttr>(value)) {
      AsmResourceBlob *blob = res.getRawHandle().getBlob();
      if (!blob)
        return {};
      ArrayRef<char> d = blob->getData();
      if (d.size() != size_t(value.getNumElements()) * sizeof(float))
        return {};
      for (size_t i = 0; i < d.size(); i += sizeof(float)) {
        float f;
        std::memcpy(&f, d.data() + i, sizeof(float));
        push(f);
      }
    } else if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
      for (float f : dense.getValues<float>())
        push(f);
    } else {
      return {};
    }
    ArrayRef<char> raw(reinterpret_cast<const char *>(bits.data()),
                       bits.size() * sizeof(uint16_t));
    return DenseElementsAttr::getFromRawBuffer(newType, raw);
  }

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    if (type == "bf16")
      low = BFloat16Type::get(ctx);
    else if (type == "f16")
      low = Float16Type::get(ctx);
    else {
      getOperation().emitError("tessera-lower-precision: unknown type '")
          << type << "' (expected bf16 or f16)";
      return signalPassFailure();
    }

    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      if (fn.isExternal())
        continue;
      readOnlyCache.clear();
      // Named ops (fills excepted) become generics so that one rule covers
      // every kernel body.
      IRRewriter rw(ctx);
      SmallVector<linalg::LinalgOp> named;
      fn.walk([&](linalg::LinalgOp op) {
        if (!isa<linalg::GenericOp, linalg::FillOp>(op))
          named.push_back(op);
      });
      for (linalg::LinalgOp op : named) {
        rw.setInsertionPoint(op);
        if (failed(linalg::generalizeNamedOp(rw, op))) {
          op.emitError("cannot be generalized for mixed precision");
          return signalPassFailure();
        }
      }

      // Pick the values to demote before changing any type.
      SmallVector<unsigned> weightArgs;
      for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
        BlockArgument a = fn.getArgument(i);
        if (fn.getArgAttr(i, tessera::kWeightNameAttr) &&
            fn.getArgAttrOfType<ElementsAttr>(i, tessera::kWeightValueAttr) &&
            isF32Tensor(a.getType()) && onlyReadByKernels(a))
          weightArgs.push_back(i);
      }
      SmallVector<OpResult> results;
      fn.walk([&](linalg::GenericOp g) {
        if (!writesWithoutReading(g))
          return;
        for (OpResult r : g->getResults()) {
          Value init = g.getDpsInits()[r.getResultNumber()];
          if (isF32Tensor(r.getType()) && init.getDefiningOp<tensor::EmptyOp>() &&
              onlyReadByKernels(r))
            results.push_back(r);
        }
      });

      OpBuilder b(ctx);
      int64_t savedBytes = 0;
      for (unsigned i : weightArgs) {
        auto t = cast<RankedTensorType>(fn.getArgument(i).getType());
        auto newType = cast<RankedTensorType>(withElement(t, low));
        auto value = fn.getArgAttrOfType<ElementsAttr>(i, tessera::kWeightValueAttr);
        ElementsAttr converted = convertWeight(value, newType);
        if (!converted) {
          fn.emitError("weight argument #")
              << i << " has a value that cannot be read as f32";
          return signalPassFailure();
        }
        if (overflowed)
          fn.emitWarning("weight argument #")
              << i << ": " << overflowed << " value(s) overflow " << type
              << " and become infinite";
        overflowed = 0;
        fn.setArgAttr(i, tessera::kWeightValueAttr, converted);
        demote(fn.getArgument(i), b);
        savedBytes += t.getNumElements() * 2;
        ++numWeights;
      }
      for (OpResult r : results) {
        auto g = cast<linalg::GenericOp>(r.getOwner());
        unsigned idx = r.getResultNumber();
        OpOperand &initOperand = g.getDpsInitsMutable()[idx];
        auto empty = initOperand.get().getDefiningOp<tensor::EmptyOp>();
        b.setInsertionPoint(g);
        auto newEmpty = tensor::EmptyOp::create(
            b, empty.getLoc(), withElement(empty.getType(), low),
            empty.getDynamicSizes());
        initOperand.set(newEmpty);
        g.getMatchingBlockArgument(&initOperand).setType(low);
        auto yield = cast<linalg::YieldOp>(g.getBody()->getTerminator());
        b.setInsertionPoint(yield);
        auto tr = arith::TruncFOp::create(b, yield.getLoc(), low,
                                          yield.getOperand(idx));
        yield->setOperand(idx, tr);
        demote(r, b);
        savedBytes += cast<RankedTensorType>(r.getType()).getNumElements() * 2;
        ++numIntermediates;
      }
      bytesSaved += savedBytes;
      SmallVector<Type> inputs(fn.getBody().getArgumentTypes());
      fn.setType(FunctionType::get(ctx, inputs, fn.getResultTypes()));
    }
  }
};
} // namespace
