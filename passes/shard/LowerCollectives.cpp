//===- passes/shard/LowerCollectives.cpp - shard collectives to runtime calls ===//
//
// Upstream's convert-shard-to-mpi covers all_reduce and halo updates, and
// the MPI dialect has no all-gather or all-to-all, so the collectives of a
// partitioned program become calls into the Tessera runtime, which runs
// them with MPI. Each collective gets a private wrapper function taking its
// input and output buffers (so that buffer deallocation and the memory
// planner see the call as a use of both) that passes their addresses and a
// constant descriptor (tessera/Collectives.h) to `tsr_coll_run`.
//
//===----------------------------------------------------------------------===//

#include "passes/shard/Passes.h"

#include "tessera/Collectives.h"
#include "tessera/Runtime.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

namespace tessera {
#define GEN_PASS_DEF_TESSERALOWERCOLLECTIVES
#include "passes/shard/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

int64_t dtypeCode(Type t) {
  if (t.isF32())
    return TSR_DTYPE_F32;
  if (t.isF64())
    return TSR_DTYPE_F64;
  if (t.isF16())
    return TSR_DTYPE_F16;
  if (t.isBF16())
    return TSR_DTYPE_BF16;
  if (t.isInteger(1))
    return TSR_DTYPE_BOOL;
  if (t.isInteger(8))
    return TSR_DTYPE_I8;
  if (t.isInteger(16))
    return TSR_DTYPE_I16;
  if (t.isInteger(32))
    return TSR_DTYPE_I32;
  if (t.isInteger(64))
    return TSR_DTYPE_I64;
  return TSR_DTYPE_INVALID;
}

int64_t reductionCode(mlir::shard::ReductionKind k) {
  switch (k) {
  case mlir::shard::ReductionKind::Sum:
    return TSR_COLL_SUM;
  case mlir::shard::ReductionKind::Max:
    return TSR_COLL_MAX;
  case mlir::shard::ReductionKind::Min:
    return TSR_COLL_MIN;
  case mlir::shard::ReductionKind::Product:
    return TSR_COLL_PROD;
  default:
    return -1;
  }
}

struct TesseraLowerCollectivesPass
    : public impl::TesseraLowerCollectivesBase<TesseraLowerCollectivesPass> {
  using Base::Base;

  int counter = 0;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<Operation *> ops;
    module.walk([&](Operation *op) {
      if (isa<mlir::shard::AllReduceOp, mlir::shard::ReduceScatterOp,
              mlir::shard::AllGatherOp,
              mlir::shard::AllSliceOp, mlir::shard::AllToAllOp,
              mlir::shard::ShiftOp, mlir::shard::ProcessMultiIndexOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops)
      if (failed(lower(module, op)))
        return signalPassFailure();
    // The grid has no lowering to LLVM: its shape and axis names move to
    // module attributes (the artifact's manifest reads them there).
    SmallVector<mlir::shard::GridOp> grids(module.getOps<mlir::shard::GridOp>());
    if (grids.size() > 1) {
      grids[1].emitError("tessera-lower-collectives: one grid per module");
      return signalPassFailure();
    }
    for (mlir::shard::GridOp g : grids) {
      Operation *left = nullptr;
      module.walk([&](Operation *op) {
        if (op != g && isa<mlir::shard::ShardDialect>(op->getDialect()))
          left = op;
      });
      if (left) {
        left->emitError("tessera-lower-collectives: ")
            << left->getName() << " has no lowering to runtime calls";
        return signalPassFailure();
      }
      OpBuilder b(g);
      module->setAttr("tessera.mesh_shape", b.getDenseI64ArrayAttr(g.getShape()));
      SmallVector<Attribute> names;
      auto given = g->getAttrOfType<ArrayAttr>("tessera.axis_names");
      for (size_t i = 0; i < g.getShape().size(); ++i)
        names.push_back(given && i < given.size()
                            ? given[i]
                            : b.getStringAttr("axis" + std::to_string(i)));
      module->setAttr("tessera.mesh_axes", b.getArrayAttr(names));
      g.erase();
    }
  }

  FailureOr<SmallVector<int64_t>> gridShape(ModuleOp module, Operation *op,
                                            StringRef name) {
    auto grid = SymbolTable::lookupNearestSymbolFrom<mlir::shard::GridOp>(
        op, FlatSymbolRefAttr::get(op->getContext(), name));
    if (!grid || !grid.getShape().size() ||
        llvm::any_of(grid.getShape(), ShapedType::isDynamic)) {
      op->emitError("tessera-lower-collectives: grid @")
          << name << " must be a shard.grid of static shape";
      return failure();
    }
    return SmallVector<int64_t>(grid.getShape());
  }

  /// The descriptor of tessera/Collectives.h as a private constant global.
  Value descriptor(OpBuilder &b, ModuleOp module, Location loc,
                   ArrayRef<int64_t> desc) {
    OpBuilder mb(module.getBodyRegion());
    mb.setInsertionPointToEnd(module.getBody());
    auto ty = MemRefType::get({static_cast<int64_t>(desc.size())},
                              b.getI64Type());
    std::string name = "__tsr_coll_desc_" + std::to_string(counter);
    auto tensorTy = RankedTensorType::get(ty.getShape(), b.getI64Type());
    memref::GlobalOp::create(mb, loc, name, mb.getStringAttr("private"), ty,
                             DenseElementsAttr::get(tensorTy, desc),
                             /*constant=*/true, IntegerAttr());
    Value g = memref::GetGlobalOp::create(b, loc, ty, name);
    return pointer(b, loc, g);
  }

  static Value pointer(OpBuilder &b, Location loc, Value memref) {
    Value p = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
    return arith::IndexCastOp::create(b, loc, b.getI64Type(), p);
  }

  func::FuncOp declare(ModuleOp module, StringRef name, FunctionType type) {
    if (auto f = module.lookupSymbol<func::FuncOp>(name))
      return f;
    OpBuilder mb(module.getBodyRegion());
    mb.setInsertionPointToEnd(module.getBody());
    auto f = func::FuncOp::create(mb, module.getLoc(), name, type);
    f.setPrivate();
    return f;
  }

  LogicalResult lower(ModuleOp module, Operation *op) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    MLIRContext *ctx = op->getContext();
    auto head = [&](int64_t kind, Type et, int64_t red, int64_t a, int64_t c,
                    ArrayRef<int64_t> grid, ArrayRef<int16_t> axes) {
      SmallVector<int64_t> d{TSR_COLL_DESC_VERSION, kind, dtypeCode(et), red,
                             a, c, static_cast<int64_t>(grid.size())};
      d.append(grid.begin(), grid.end());
      d.push_back(static_cast<int64_t>(axes.size()));
      for (int16_t x : axes)
        d.push_back(x);
      return d;
    };

    if (auto pm = dyn_cast<mlir::shard::ProcessMultiIndexOp>(op)) {
      auto grid = gridShape(module, op, pm.getGrid());
      if (failed(grid))
        return failure();
      SmallVector<int16_t> axes(pm.getAxes());
      if (axes.empty())
        for (size_t i = 0; i < grid->size(); ++i)
          axes.push_back(static_cast<int16_t>(i));
      auto fn = declare(module, "tsr_coll_process_index",
                        FunctionType::get(ctx, {b.getI64Type()}, {b.getI64Type()}));
      SmallVector<Value> results;
      for (int16_t axis : axes) {
        auto d = head(TSR_COLL_PROCESS_INDEX, b.getI64Type(), 0, 0, 0, *grid,
                      {axis});
        d.push_back(0); // no tensor
        Value desc = descriptor(b, module, loc, d);
        ++counter;
        Value i = func::CallOp::create(b, loc, fn, ValueRange{desc}).getResult(0);
        results.push_back(
            arith::IndexCastOp::create(b, loc, b.getIndexType(), i));
      }
      op->replaceAllUsesWith(results);
      op->erase();
      return success();
    }

    Value in = op->getOperand(0);
    auto inTy = dyn_cast<RankedTensorType>(in.getType());
    auto outTy = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!inTy || !outTy || !inTy.hasStaticShape() || !outTy.hasStaticShape())
      return op->emitError("tessera-lower-collectives: needs static tensor "
                           "types, got ")
             << in.getType() << " -> " << op->getResult(0).getType();
    Type et = inTy.getElementType();
    if (dtypeCode(et) == TSR_DTYPE_INVALID)
      return op->emitError("tessera-lower-collectives: element type ")
             << et << " is not supported";
    SmallVector<int64_t> d;
    StringRef gridName;
    auto withGrid = [&](auto c) -> FailureOr<SmallVector<int64_t>> {
      gridName = c.getGrid();
      return gridShape(module, op, gridName);
    };
    FailureOr<SmallVector<int64_t>> grid = failure();
    // The reduction code of an all_reduce or reduce_scatter, checked.
    auto reduction = [&](mlir::shard::ReductionKind k,
                         StringRef what) -> FailureOr<int64_t> {
      int64_t red = reductionCode(k);
      if (red < 0)
        return op->emitError("tessera-lower-collectives: reduction kind is "
                             "not supported (sum, max, min, product)");
      if (!et.isF32() && !et.isF64() && !et.isInteger(32) && !et.isInteger(64))
        return op->emitError("tessera-lower-collectives: ")
               << what << " of " << et << " is not supported (f32, f64, i32, i64)";
      return red;
    };
    if (auto c = dyn_cast<mlir::shard::AllReduceOp>(op)) {
      FailureOr<int64_t> red = reduction(c.getReduction(), "all_reduce");
      if (failed(red) || failed(grid = withGrid(c)))
        return failure();
      d = head(TSR_COLL_ALL_REDUCE, et, *red, 0, 0, *grid, c.getGridAxes());
    } else if (auto c = dyn_cast<mlir::shard::ReduceScatterOp>(op)) {
      FailureOr<int64_t> red = reduction(c.getReduction(), "reduce_scatter");
      if (failed(red) || failed(grid = withGrid(c)))
        return failure();
      d = head(TSR_COLL_REDUCE_SCATTER, et, *red,
               c.getScatterAxis().getSExtValue(), 0, *grid, c.getGridAxes());
    } else if (auto c = dyn_cast<mlir::shard::AllGatherOp>(op)) {
      if (failed(grid = withGrid(c)))
        return failure();
      d = head(TSR_COLL_ALL_GATHER, et, 0, c.getGatherAxis().getSExtValue(), 0,
               *grid, c.getGridAxes());
    } else if (auto c = dyn_cast<mlir::shard::AllSliceOp>(op)) {
      if (failed(grid = withGrid(c)))
        return failure();
      d = head(TSR_COLL_ALL_SLICE, et, 0, c.getSliceAxis().getSExtValue(), 0,
               *grid, c.getGridAxes());
    } else if (auto c = dyn_cast<mlir::shard::AllToAllOp>(op)) {
      if (failed(grid = withGrid(c)))
        return failure();
      d = head(TSR_COLL_ALL_TO_ALL, et, 0, c.getSplitAxis().getSExtValue(),
               c.getConcatAxis().getSExtValue(), *grid, c.getGridAxes());
    } else if (auto c = dyn_cast<mlir::shard::ShiftOp>(op)) {
      if (failed(grid = withGrid(c)))
        return failure();
      auto axes = c.getGridAxes();
      if (axes.size() != 1 ||
          static_cast<int64_t>(axes[0]) != c.getShiftAxis().getSExtValue())
        return op->emitError("tessera-lower-collectives: shift needs its "
                             "grid_axes to be its shift_axis alone");
      d = head(TSR_COLL_SHIFT, et, 0, static_cast<int64_t>(c.getOffset()),
               c.getRotate() ? 1 : 0, *grid, axes);
    }
    for (int64_t a : ArrayRef<int64_t>(d).drop_front(7 + grid->size() + 1))
      if (a < 0 || a >= static_cast<int64_t>(grid->size()))
        return op->emitError("tessera-lower-collectives: grid axis ")
               << a << " is outside the grid's " << grid->size() << " axes";
    d.push_back(inTy.getRank());
    d.append(inTy.getShape().begin(), inTy.getShape().end());

    // The wrapper: (input buffer, output buffer) -> tsr_coll_run.
    auto inBuf = MemRefType::get(inTy.getShape(), et);
    auto outBuf = MemRefType::get(outTy.getShape(), et);
    auto run = declare(module, "tsr_coll_run",
                       FunctionType::get(ctx,
                                         {b.getI64Type(), b.getI64Type(),
                                          b.getI64Type()},
                                         {}));
    std::string wname = "__tsr_coll_" + std::to_string(counter);
    auto wrapper = declare(module, wname,
                           FunctionType::get(ctx, {inBuf, outBuf}, {}));
    wrapper->setAttr("tessera.collective", b.getStringAttr(op->getName().getStringRef()));
    {
      Block *body = wrapper.addEntryBlock();
      OpBuilder wb = OpBuilder::atBlockBegin(body);
      Value desc = descriptor(wb, module, loc, d);
      Value pin = pointer(wb, loc, body->getArgument(0));
      Value pout = pointer(wb, loc, body->getArgument(1));
      func::CallOp::create(wb, loc, run, ValueRange{desc, pin, pout});
      func::ReturnOp::create(wb, loc);
    }
    ++counter;
    Value ib = bufferization::ToBufferOp::create(b, loc, inBuf, in,
                                                 /*read_only=*/true);
    auto ob = memref::AllocOp::create(b, loc, outBuf, b.getI64IntegerAttr(64));
    func::CallOp::create(b, loc, wrapper, ValueRange{ib, ob});
    Value r = bufferization::ToTensorOp::create(b, loc, outTy, ob,
                                                /*restrict=*/true,
                                                /*writable=*/true);
    op->getResult(0).replaceAllUsesWith(r);
    op->erase();
    return success();
  }
};

} // namespace
} // namespace tessera
