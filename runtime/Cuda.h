//===- runtime/Cuda.h - executor for "cuda" artifacts -----------*- C++ -*-===//
//
// Runs the launch plan of a cuda artifact through the CUDA driver API and
// cuBLAS, both loaded with dlopen at model load: the runtime builds, links
// and runs its CPU tests on machines with no GPU and no driver, and a cuda
// artifact there fails to load with a TSR_ERR_DEVICE error that says why.
//
// At the first run (so that loading and inspecting work without a GPU): the
// module (cubin when its arch matches the device, else PTX for
// the driver to JIT), one device arena for every intermediate buffer at the
// offsets the compiler planned, the weights and constants uploaded once, and
// device buffers for inputs and outputs. A run copies the inputs in, replays
// the steps on one stream (as a CUDA graph after the first run unless
// TESSERA_CUDA_GRAPHS=0) and copies the outputs back. With a RunConfig
// (tsr_model_run_with_options) a run goes on the caller's stream, and with
// device buffers the kernels read and write the caller's device memory (no
// copies); every run waits for the previous one's end event.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_RUNTIME_CUDA_H
#define TESSERA_RUNTIME_CUDA_H

#include "ArtifactParser.h"

#include <memory>
#include <vector>

namespace tessera::runtime {

/// How one run meets the caller (tsr_run_options).
struct RunConfig {
  void *stream = nullptr;     ///< CUstream; null = the model's own
  bool deviceBuffers = false; ///< inputs/outputs are CUdeviceptrs
  bool synchronize = true;    ///< with device buffers: wait before returning
};

class CudaExecutor {
public:
  virtual ~CudaExecutor() = default;
  /// Loads the driver, the kernels and the weights. `weights[i]` points at
  /// weight i's bytes in host memory.
  static std::unique_ptr<CudaExecutor>
  create(const ParsedArtifact &art, const uint8_t *artifactBytes,
         const std::vector<void *> &weights, Error *err);
  /// Runs once: `inputs` and `outputs` in manifest order, host pointers
  /// unless cfg.deviceBuffers. Calls must not overlap (the caller locks).
  virtual bool run(const std::vector<void *> &inputs,
                   const std::vector<void *> &outputs, const RunConfig &cfg,
                   Error *err) = 0;
};

} // namespace tessera::runtime

#endif
