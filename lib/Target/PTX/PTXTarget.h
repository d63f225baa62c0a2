//===- PTXTarget.h - PTX module and launch plan from the GPU pipeline -*- C++ -*-===//
//
// After tessera-gpu-pipeline the module holds one `gpu.binary` with the PTX of
// every kernel, and @main is a straight-line host program on buffers:
// allocations, views, gpu.launch_func and cuBLAS GEMMs. This reads both into
// what the artifact stores: the PTX text and a launch plan (JSON) with a
// liveness-based memory plan, one arena for every intermediate buffer.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_LIB_TARGET_PTX_PTXTARGET_H
#define TESSERA_LIB_TARGET_PTX_PTXTARGET_H

#include <cstdint>
#include <string>

namespace mlir {
class ModuleOp;
}

namespace tessera::ptx {

struct GPUProgram {
  std::string ptx;      ///< the PTX module (all kernels)
  std::string planJson; ///< the "gpu" object of the manifest
  int64_t kernels = 0, launches = 0, gemms = 0;
  int64_t arenaBytes = 0, naiveArenaBytes = 0; ///< planned vs one-per-buffer
};

/// Reads the PTX and the launch plan. Errors name the offending op.
bool extractProgram(mlir::ModuleOp module, GPUProgram &out,
                    std::string &error);

/// Assembles `ptx` for `chip` (e.g. "sm_90") with ptxas when it is found
/// (in $TESSERA_PTXAS, /usr/local/cuda/bin or PATH). `found` says whether it
/// was; returns false with `error` (ptxas' own message) if assembly failed.
bool assemblePTX(const std::string &ptx, const std::string &chip,
                 std::string &cubin, bool &found, std::string &error);

} // namespace tessera::ptx

#endif
