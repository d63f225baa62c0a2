//===- passes/shard/Sharding.cpp - the module's mesh ----------------------===//

#include "passes/shard/Sharding.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"

namespace tessera::sharding {

FailureOr<Mesh> readMesh(ModuleOp module, bool &none) {
  none = false;
  SmallVector<shard::GridOp> grids(module.getOps<shard::GridOp>());
  if (grids.empty()) {
    bool annotated = false;
    module.walk([&](shard::ShardOp) { annotated = true; });
    if (annotated) {
      module.emitError("tessera-shard: shard.shard annotations "
                       "but no shard.grid in the module");
      return failure();
    }
    none = true;
    return failure();
  }
  if (grids.size() > 1) {
    grids[1].emitError("tessera-shard: one mesh per module is "
                       "supported (found ")
        << grids.size() << ")";
    return failure();
  }
  Mesh mesh;
  mesh.sym = grids[0].getSymName().str();
  mesh.shape.assign(grids[0].getShape().begin(), grids[0].getShape().end());
  if (llvm::any_of(mesh.shape, [](int64_t d) { return d <= 0; })) {
    grids[0].emitError("tessera-shard: the mesh needs a static "
                       "shape");
    return failure();
  }
  auto names = grids[0]->getAttrOfType<ArrayAttr>("tessera.axis_names");
  for (size_t i = 0; i < mesh.shape.size(); ++i) {
    std::string n = "axis" + std::to_string(i);
    if (names && i < names.size())
      if (auto s = dyn_cast<StringAttr>(names[i]))
        n = s.str();
    mesh.names.push_back(n);
  }
  if (names && names.size() != mesh.shape.size()) {
    grids[0].emitError("tessera-shard: tessera.axis_names has ")
        << names.size() << " names for a rank-" << mesh.shape.size()
        << " mesh";
    return failure();
  }

  return mesh;
}

} // namespace tessera::sharding
