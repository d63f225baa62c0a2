//===- runtime/Cuda.cpp - executor for "cuda" artifacts -------------------===//
#include "Cuda.h"

#include "tessera/Artifact.h"

#include <dlfcn.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

namespace tessera::runtime {
namespace {

// The subset of the CUDA driver API and cuBLAS used here, declared by hand:
// the runtime must build without CUDA headers. Types follow cuda.h.
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUgraph = struct CUgraph_st *;
using CUgraphExec = struct CUgraphExec_st *;
using CUevent = struct CUevent_st *;
using cublasHandle_t = struct cublasContext *;
constexpr int kAttrCCMajor = 75, kAttrCCMinor = 76;
constexpr int kCaptureModeThreadLocal = 1;
constexpr int kCublasOpN = 0;

struct Driver {
  void *lib = nullptr;
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t);
  CUresult (*cuMemsetD8)(CUdeviceptr, unsigned char, size_t);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamDestroy)(CUstream);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, unsigned, CUstream,
                             void **, void **);
  CUresult (*cuGetErrorName)(CUresult, const char **);
  CUresult (*cuStreamBeginCapture)(CUstream, int);
  CUresult (*cuStreamEndCapture)(CUstream, CUgraph *);
  CUresult (*cuGraphInstantiateWithFlags)(CUgraphExec *, CUgraph,
                                          unsigned long long);
  CUresult (*cuGraphLaunch)(CUgraphExec, CUstream);
  CUresult (*cuGraphExecDestroy)(CUgraphExec);
  CUresult (*cuGraphDestroy)(CUgraph);
  CUresult (*cuEventCreate)(CUevent *, unsigned);
  CUresult (*cuEventRecord)(CUevent, CUstream);
  CUresult (*cuEventSynchronize)(CUevent);
  CUresult (*cuEventElapsedTime)(float *, CUevent, CUevent);
  CUresult (*cuEventDestroy)(CUevent);
  bool hasEvents = false;
  // Runs on a caller's stream (tsr_run_options).
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
  CUresult (*cuMemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
  CUresult (*cuStreamWaitEvent)(CUstream, CUevent, unsigned);
  CUresult (*cuStreamIsCapturing)(CUstream, int *);
  CUresult (*cuCtxPushCurrent)(CUcontext);
  CUresult (*cuCtxPopCurrent)(CUcontext *);
  bool hasStreams = false, hasCtxStack = false;
};

struct Cublas {
  void *lib = nullptr;
  int (*create)(cublasHandle_t *);
  int (*destroy)(cublasHandle_t);
  int (*setStream)(cublasHandle_t, CUstream);
  int (*sgemmStridedBatched)(cublasHandle_t, int, int, int, int, int,
                             const float *, const float *, int, long long,
                             const float *, int, long long, const float *,
                             float *, int, long long, int);
  // Mixed precision (bf16/f16 A and B, f32 C and accumulation).
  int (*gemmStridedBatchedEx)(cublasHandle_t, int, int, int, int, int,
                              const void *, const void *, int, int, long long,
                              const void *, int, int, long long, const void *,
                              void *, int, int, long long, int, int, int);
};

// cuBLAS/CUDA enum values used with cublasGemmStridedBatchedEx.
constexpr int kCudaR32F = 0, kCudaR16F = 2, kCudaR16BF = 14;
constexpr int kCublasCompute32F = 68, kCublasGemmDefault = -1;

template <typename T> bool sym(void *lib, const char *name, T &out) {
  out = reinterpret_cast<T>(dlsym(lib, name));
  return out != nullptr;
}

/// Names of the driver errors a user is likely to meet, for when
/// cuGetErrorName itself is unavailable (e.g. the toolkit's stub library).
const char *knownErrorName(CUresult r) {
  switch (r) {
  case 2: return "CUDA_ERROR_OUT_OF_MEMORY";
  case 3: return "CUDA_ERROR_NOT_INITIALIZED";
  case 34: return "CUDA_ERROR_STUB_LIBRARY (the toolkit's stub libcuda, no "
                  "real driver is installed)";
  case 35: return "CUDA_ERROR_INSUFFICIENT_DRIVER";
  case 100: return "CUDA_ERROR_NO_DEVICE";
  case 209: return "CUDA_ERROR_NO_BINARY_FOR_GPU";
  case 218: return "CUDA_ERROR_INVALID_PTX";
  case 222: return "CUDA_ERROR_UNSUPPORTED_PTX_VERSION";
  default: return nullptr;
  }
}

bool deviceError(Error *err, std::string msg) {
  err->code = TSR_ERR_DEVICE;
  err->message = std::move(msg);
  return false;
}

/// Fills a library's entry-point table once per process; later calls
/// replay the first outcome. `Load` returns "" or why loading failed.
template <typename T, std::string (*Load)(T &)>
const T *loadOnce(Error *err) {
  static T table;
  static std::string failure;
  static std::once_flag once;
  std::call_once(once, [] { failure = Load(table); });
  if (!failure.empty())
    return deviceError(err, failure), nullptr;
  return &table;
}

std::string loadDriverTable(Driver &d) {
  d.lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!d.lib) {
    const char *e = dlerror();
    return std::string("no CUDA driver: cannot load libcuda.so.1 (") +
           (e ? e : "unknown error") +
           "); a cuda artifact needs an NVIDIA GPU and its driver";
  }
  bool ok = sym(d.lib, "cuInit", d.cuInit) &&
            sym(d.lib, "cuDeviceGetCount", d.cuDeviceGetCount) &&
            sym(d.lib, "cuDeviceGet", d.cuDeviceGet) &&
            sym(d.lib, "cuDeviceGetAttribute", d.cuDeviceGetAttribute) &&
            sym(d.lib, "cuDeviceGetName", d.cuDeviceGetName) &&
            sym(d.lib, "cuDevicePrimaryCtxRetain", d.cuDevicePrimaryCtxRetain) &&
            sym(d.lib, "cuDevicePrimaryCtxRelease_v2",
                d.cuDevicePrimaryCtxRelease) &&
            sym(d.lib, "cuCtxSetCurrent", d.cuCtxSetCurrent) &&
            sym(d.lib, "cuModuleLoadData", d.cuModuleLoadData) &&
            sym(d.lib, "cuModuleUnload", d.cuModuleUnload) &&
            sym(d.lib, "cuModuleGetFunction", d.cuModuleGetFunction) &&
            sym(d.lib, "cuMemAlloc_v2", d.cuMemAlloc) &&
            sym(d.lib, "cuMemFree_v2", d.cuMemFree) &&
            sym(d.lib, "cuMemcpyHtoD_v2", d.cuMemcpyHtoD) &&
            sym(d.lib, "cuMemcpyDtoH_v2", d.cuMemcpyDtoH) &&
            sym(d.lib, "cuMemsetD8_v2", d.cuMemsetD8) &&
            sym(d.lib, "cuStreamCreate", d.cuStreamCreate) &&
            sym(d.lib, "cuStreamDestroy_v2", d.cuStreamDestroy) &&
            sym(d.lib, "cuStreamSynchronize", d.cuStreamSynchronize) &&
            sym(d.lib, "cuLaunchKernel", d.cuLaunchKernel) &&
            sym(d.lib, "cuGetErrorName", d.cuGetErrorName) &&
            sym(d.lib, "cuStreamBeginCapture_v2", d.cuStreamBeginCapture) &&
            sym(d.lib, "cuStreamEndCapture", d.cuStreamEndCapture) &&
            sym(d.lib, "cuGraphInstantiateWithFlags",
                d.cuGraphInstantiateWithFlags) &&
            sym(d.lib, "cuGraphLaunch", d.cuGraphLaunch) &&
            sym(d.lib, "cuGraphExecDestroy", d.cuGraphExecDestroy) &&
            sym(d.lib, "cuGraphDestroy", d.cuGraphDestroy);
  // Events only serve TESSERA_CUDA_PROFILE: optional (elapsed time is _v2
  // from driver 12.8 on).
  d.hasEvents = sym(d.lib, "cuEventCreate", d.cuEventCreate) &&
                sym(d.lib, "cuEventRecord", d.cuEventRecord) &&
                sym(d.lib, "cuEventSynchronize", d.cuEventSynchronize) &&
                (sym(d.lib, "cuEventElapsedTime_v2", d.cuEventElapsedTime) ||
                 sym(d.lib, "cuEventElapsedTime", d.cuEventElapsedTime)) &&
                sym(d.lib, "cuEventDestroy_v2", d.cuEventDestroy);
  d.hasStreams = d.hasEvents &&
                 sym(d.lib, "cuMemcpyHtoDAsync_v2", d.cuMemcpyHtoDAsync) &&
                 sym(d.lib, "cuMemcpyDtoHAsync_v2", d.cuMemcpyDtoHAsync) &&
                 sym(d.lib, "cuStreamWaitEvent", d.cuStreamWaitEvent) &&
                 sym(d.lib, "cuStreamIsCapturing", d.cuStreamIsCapturing);
  d.hasCtxStack = sym(d.lib, "cuCtxPushCurrent_v2", d.cuCtxPushCurrent) &&
                  sym(d.lib, "cuCtxPopCurrent_v2", d.cuCtxPopCurrent);
  if (!ok)
    return "the CUDA driver (libcuda.so.1) lacks a needed entry point; it is "
           "too old for this runtime";
  return "";
}

/// Loads libcuda once per process.
const Driver *loadDriver(Error *err) {
  return loadOnce<Driver, loadDriverTable>(err);
}

std::string loadCublasTable(Cublas &c) {
  for (const char *name : {"libcublas.so.13", "libcublas.so.12", "libcublas.so"})
    if ((c.lib = dlopen(name, RTLD_NOW | RTLD_LOCAL)))
      break;
  if (!c.lib)
    return "this model calls cuBLAS, but libcublas.so.13/.12 cannot be "
           "loaded (is the CUDA toolkit's lib64 on the library path?)";
  if (!sym(c.lib, "cublasCreate_v2", c.create) ||
      !sym(c.lib, "cublasDestroy_v2", c.destroy) ||
      !sym(c.lib, "cublasSetStream_v2", c.setStream) ||
      !sym(c.lib, "cublasSgemmStridedBatched", c.sgemmStridedBatched) ||
      !sym(c.lib, "cublasGemmStridedBatchedEx", c.gemmStridedBatchedEx))
    return "libcublas lacks cublasSgemmStridedBatched, "
           "cublasGemmStridedBatchedEx or friends";
  return "";
}

/// Loads libcublas once per process.
const Cublas *loadCublas(Error *err) {
  return loadOnce<Cublas, loadCublasTable>(err);
}

class Executor final : public CudaExecutor {
public:
  ~Executor() override {
    if (!d)
      return;
    Error ignored;
    if (ctx)
      makeCurrent(&ignored);
    // An asynchronous run may still be using the buffers and kernels.
    if (done)
      d->cuEventSynchronize(done);
    if (graphExec)
      d->cuGraphExecDestroy(graphExec);
    if (done)
      d->cuEventDestroy(done);
    if (blas && handle)
      blas->destroy(handle);
    for (CUdeviceptr p : allocations)
      d->cuMemFree(p);
    if (module)
      d->cuModuleUnload(module);
    if (stream)
      d->cuStreamDestroy(stream);
    popInitContext();
    if (ctx)
      d->cuDevicePrimaryCtxRelease(device);
  }

  bool check(CUresult r, const char *what, Error *err) {
    if (r == 0)
      return true;
    const char *name = nullptr;
    if (d->cuGetErrorName(r, &name) != 0 || !name)
      name = knownErrorName(r);
    return deviceError(err, std::string(what) + " failed: " +
                                (name ? name : "CUDA error") + " (" +
                                std::to_string(r) + ")");
  }

  bool init(const ParsedArtifact &a, const uint8_t *bytes,
            const std::vector<void *> &weights, Error *err) {
    art = &a;
    if (!(d = loadDriver(err)))
      return false;
    if (!check(d->cuInit(0), "cuInit", err))
      return false;
    int count = 0;
    if (!check(d->cuDeviceGetCount(&count), "cuDeviceGetCount", err))
      return false;
    int ordinal = 0;
    if (const char *e = std::getenv("TESSERA_CUDA_DEVICE"))
      ordinal = std::atoi(e);
    if (count == 0 || ordinal < 0 || ordinal >= count)
      return deviceError(err, "no CUDA device " + std::to_string(ordinal) +
                                  " (" + std::to_string(count) + " found)");
    if (!check(d->cuDeviceGet(&device, ordinal), "cuDeviceGet", err) ||
        !check(d->cuDevicePrimaryCtxRetain(&ctx, device),
               "cuDevicePrimaryCtxRetain", err) ||
        !makeCurrent(err) ||
        !check(d->cuStreamCreate(&stream, 1 /*non-blocking*/),
               "cuStreamCreate", err))
      return false;

    // Prefer the cubin when it was built for this device's architecture.
    int major = 0, minor = 0;
    d->cuDeviceGetAttribute(&major, kAttrCCMajor, device);
    d->cuDeviceGetAttribute(&minor, kAttrCCMinor, device);
    std::string devArch = "sm_" + std::to_string(major * 10 + minor);
    std::string image;
    if (a.cubinSection >= 0 && devArch == a.gpu.arch) {
      const SectionInfo &s = a.sections[a.cubinSection];
      image.assign(reinterpret_cast<const char *>(bytes + s.offset), s.size);
    } else {
      const SectionInfo &s = a.sections[a.ptxSection];
      image.assign(reinterpret_cast<const char *>(bytes + s.offset), s.size);
      image.push_back('\0');
    }
    if (!check(d->cuModuleLoadData(&module, image.data()),
               ("loading the kernels (built for " + a.gpu.arch + ", device is " +
                devArch + ")")
                   .c_str(),
               err))
      return false;

    // Device memory: arena, weights, inputs, outputs.
    if (a.gpu.arenaBytes && !alloc(a.gpu.arenaBytes, arena, err))
      return false;
    size_t nargs = a.inputs.size() + a.weights.size() + a.outputs.size();
    argPtrs.assign(nargs, 0);
    for (size_t i = 0; i < nargs; ++i) {
      uint64_t size = argBytes(i);
      if (size && !alloc(size, argPtrs[i], err))
        return false;
    }
    for (size_t w = 0; w < a.weights.size(); ++w)
      if (a.weights[w].byteSize &&
          !check(d->cuMemcpyHtoD(argPtrs[a.inputs.size() + w], weights[w],
                                 a.weights[w].byteSize),
                 "uploading a weight", err))
        return false;
    for (const GpuBuffer &b : a.gpu.buffers)
      if (b.kind == GpuBuffer::Const && b.bytes &&
          !check(d->cuMemcpyHtoD(arena + b.offset, b.data.data(), b.bytes),
                 "uploading a constant", err))
        return false;

    // Kernels and per-step parameters.
    for (const GpuStep &s : a.gpu.steps) {
      Prepared p;
      if (s.op == GpuStep::Launch) {
        if (!check(d->cuModuleGetFunction(&p.fn, module, s.kernel.c_str()),
                   ("finding kernel '" + s.kernel + "'").c_str(), err))
          return false;
        p.values.resize(s.args.size()); // filled by refreshLaunchValues
      } else if (!blas) {
        if (!(blas = loadCublas(err)))
          return false;
        if (blas->create(&handle) != 0 || blas->setStream(handle, stream) != 0)
          return deviceError(err, "cublasCreate/cublasSetStream failed");
        lastBlasStream = stream;
      }
      prepared.push_back(std::move(p));
    }
    refreshLaunchValues();
    for (Prepared &p : prepared)
      for (CUdeviceptr &v : p.values)
        p.params.push_back(&v);
    const char *g = std::getenv("TESSERA_CUDA_GRAPHS");
    useGraphs = !(g && std::strcmp(g, "0") == 0);
    return true;
  }

  bool run(const std::vector<void *> &inputs,
           const std::vector<void *> &outputs, const RunConfig &cfg,
           Error *err) override {
    // The model's context for the run; the caller's current one after.
    bool pushed = false;
    if (d->hasCtxStack) {
      if (!check(d->cuCtxPushCurrent(ctx), "cuCtxPushCurrent", err))
        return false;
      pushed = true;
    } else if (!check(d->cuCtxSetCurrent(ctx), "cuCtxSetCurrent", err)) {
      return false;
    }
    bool ok = runInContext(inputs, outputs, cfg, err);
    if (pushed) {
      CUcontext popped = nullptr;
      d->cuCtxPopCurrent(&popped);
    }
    return ok;
  }

  /// Init's context: pushed when the driver can (create() pops it).
  bool makeCurrent(Error *err) {
    if (!d->hasCtxStack)
      return check(d->cuCtxSetCurrent(ctx), "cuCtxSetCurrent", err);
    if (!check(d->cuCtxPushCurrent(ctx), "cuCtxPushCurrent", err))
      return false;
    initPushed = true;
    return true;
  }
  void popInitContext() {
    if (!initPushed)
      return;
    CUcontext popped = nullptr;
    d->cuCtxPopCurrent(&popped);
    initPushed = false;
  }

private:
  bool runInContext(const std::vector<void *> &inputs,
                    const std::vector<void *> &outputs, const RunConfig &cfg,
                    Error *err) {
    const bool custom = cfg.stream || cfg.deviceBuffers;
    if (custom && !d->hasStreams)
      return deviceError(err, "the CUDA driver lacks cuStreamWaitEvent or the "
                              "async copies that runs on a caller's stream "
                              "need");
    CUstream s = cfg.stream ? static_cast<CUstream>(cfg.stream) : stream;
    if (cfg.stream) {
      int capturing = 0;
      if (!check(d->cuStreamIsCapturing(s, &capturing), "cuStreamIsCapturing",
                 err))
        return false;
      if (capturing)
        return deviceError(err, "the stream is being captured into a CUDA "
                                "graph; Tessera runs cannot be captured (the "
                                "model's buffers are shared between runs)");
    }
    // Device buffers and the arena are the model's: a run starts after the
    // previous one, whichever stream that ran on, has finished with them.
    if (done && !check(d->cuStreamWaitEvent(s, done, 0), "cuStreamWaitEvent", err))
      return false;
    if (blas && !custom && lastBlasStream != stream) {
      if (blas->setStream(handle, stream) != 0)
        return deviceError(err, "cublasSetStream failed");
      lastBlasStream = stream;
    }
    bool ok = custom ? runOn(s, inputs, outputs, cfg, err)
                     : runOwn(inputs, outputs, err);
    if (!ok) {
      // Work already enqueued may still use the model's buffers: let it
      // finish before the next run can start.
      d->cuStreamSynchronize(s);
      return false;
    }
    if (d->hasStreams &&
        ((!done && !check(d->cuEventCreate(&done, 2 /*disable timing*/),
                          "cuEventCreate", err)) ||
         !check(d->cuEventRecord(done, s), "cuEventRecord", err))) {
      // Without the end event the next run could not wait for this one.
      d->cuStreamSynchronize(s);
      return false;
    }
    // Host outputs must be complete on return; device ones when asked.
    if (custom && (cfg.synchronize || !cfg.deviceBuffers))
      return check(d->cuStreamSynchronize(s), "running the model", err);
    if (custom)
      return true;
    ++ownRuns;
    // TESSERA_CUDA_PROFILE=FILE: after the second run (caches warm), time
    // every step once on its own and write the figures to FILE.
    if (ownRuns == 2)
      if (const char *path = std::getenv("TESSERA_CUDA_PROFILE"))
        return profile(path, err);
    return true;
  }

  /// The default run: host buffers, the model's stream, a CUDA graph after
  /// the first run.
  bool runOwn(const std::vector<void *> &inputs,
              const std::vector<void *> &outputs, Error *err) {
    for (size_t i = 0; i < inputs.size(); ++i)
      if (art->inputs[i].byteSize &&
          !check(d->cuMemcpyHtoD(argPtrs[i], inputs[i], art->inputs[i].byteSize),
                 "copying an input to the device", err))
        return false;
    if (graphExec) {
      if (!check(d->cuGraphLaunch(graphExec, stream), "cuGraphLaunch", err))
        return false;
    } else if (useGraphs && ownRuns > 0) {
      // Capture once the eager run has shown every step works.
      CUgraph graph = nullptr;
      if (!check(d->cuStreamBeginCapture(stream, kCaptureModeThreadLocal),
                 "cuStreamBeginCapture", err))
        return false;
      bool ok = enqueue(stream, err);
      CUresult end = d->cuStreamEndCapture(stream, &graph);
      if (!ok || !check(end, "cuStreamEndCapture", err))
        return false;
      CUresult inst = d->cuGraphInstantiateWithFlags(&graphExec, graph, 0);
      d->cuGraphDestroy(graph);
      if (!check(inst, "cuGraphInstantiateWithFlags", err) ||
          !check(d->cuGraphLaunch(graphExec, stream), "cuGraphLaunch", err))
        return false;
    } else if (!enqueue(stream, err)) {
      return false;
    }
    if (!check(d->cuStreamSynchronize(stream), "running the model", err))
      return false;
    size_t outBase = art->inputs.size() + art->weights.size();
    for (size_t i = 0; i < outputs.size(); ++i)
      if (art->outputs[i].byteSize &&
          !check(d->cuMemcpyDtoH(outputs[i], argPtrs[outBase + i],
                                 art->outputs[i].byteSize),
                 "copying an output from the device", err))
        return false;
    return true;
  }

  /// A run on stream `s` (the caller's or the model's): steps enqueued
  /// eagerly; with device buffers the kernels and GEMMs read and write the
  /// caller's memory directly, else inputs and outputs are copied
  /// asynchronously on `s`.
  bool runOn(CUstream s, const std::vector<void *> &inputs,
             const std::vector<void *> &outputs, const RunConfig &cfg,
             Error *err) {
    if (blas) {
      if (blas->setStream(handle, s) != 0)
        return deviceError(err, "cublasSetStream failed");
      lastBlasStream = s;
    }
    const size_t outBase = art->inputs.size() + art->weights.size();
    if (cfg.deviceBuffers) {
      std::vector<CUdeviceptr> saved = argPtrs;
      for (size_t i = 0; i < inputs.size(); ++i)
        argPtrs[i] = reinterpret_cast<CUdeviceptr>(inputs[i]);
      for (size_t i = 0; i < outputs.size(); ++i)
        argPtrs[outBase + i] = reinterpret_cast<CUdeviceptr>(outputs[i]);
      refreshLaunchValues();
      bool ok = enqueue(s, err);
      argPtrs = std::move(saved);
      refreshLaunchValues();
      return ok;
    }
    for (size_t i = 0; i < inputs.size(); ++i)
      if (art->inputs[i].byteSize &&
          !check(d->cuMemcpyHtoDAsync(argPtrs[i], inputs[i],
                                      art->inputs[i].byteSize, s),
                 "copying an input to the device", err))
        return false;
    if (!enqueue(s, err))
      return false;
    for (size_t i = 0; i < outputs.size(); ++i)
      if (art->outputs[i].byteSize &&
          !check(d->cuMemcpyDtoHAsync(outputs[i], argPtrs[outBase + i],
                                      art->outputs[i].byteSize, s),
                 "copying an output from the device", err))
        return false;
    return true;
  }

  /// Kernel parameters hold buffer addresses; recomputed when the argument
  /// buffers change (cuLaunchKernel copies them at launch).
  void refreshLaunchValues() {
    for (size_t i = 0; i < art->gpu.steps.size(); ++i) {
      const GpuStep &st = art->gpu.steps[i];
      if (st.op != GpuStep::Launch)
        continue;
      for (size_t j = 0; j < st.args.size(); ++j)
        prepared[i].values[j] = address(st.args[j]);
    }
  }

  /// Bytes a step touches: the buffers it names, each counted once (for a
  /// GEMM, the A/B/C extents). A lower bound on its memory traffic when it
  /// reads and writes each byte once.
  uint64_t stepBytes(const GpuStep &s) const {
    if (s.op == GpuStep::Gemm) {
      uint64_t e = dtypeSize(s.inputDtype), B = uint64_t(s.batch);
      return (s.aBatched ? B : 1) * e * s.m * s.k +
             (s.bBatched ? B : 1) * e * s.k * s.n + B * 4 * s.m * s.n;
    }
    std::vector<size_t> seen;
    uint64_t bytes = 0;
    for (const GpuRef &r : s.args) {
      if (std::find(seen.begin(), seen.end(), r.buffer) != seen.end())
        continue;
      seen.push_back(r.buffer);
      bytes += art->gpu.buffers[r.buffer].bytes;
    }
    return bytes;
  }

  bool profile(const char *path, Error *err) {
    if (!d->hasEvents)
      return deviceError(err, "TESSERA_CUDA_PROFILE: the CUDA driver lacks "
                              "the event API");
    std::vector<CUevent> ev(art->gpu.steps.size() + 1, nullptr);
    auto release = [&] {
      for (CUevent e : ev)
        if (e)
          d->cuEventDestroy(e);
    };
    for (CUevent &e : ev)
      if (!check(d->cuEventCreate(&e, 0), "cuEventCreate", err))
        return release(), false;
    bool ok = check(d->cuEventRecord(ev[0], stream), "cuEventRecord", err);
    for (size_t i = 0; ok && i < art->gpu.steps.size(); ++i)
      ok = enqueueStep(stream, i, err) &&
           check(d->cuEventRecord(ev[i + 1], stream), "cuEventRecord", err);
    ok = ok && check(d->cuEventSynchronize(ev.back()), "profiling the model", err);
    nlohmann::json rows = nlohmann::json::array();
    for (size_t i = 0; ok && i < art->gpu.steps.size(); ++i) {
      const GpuStep &s = art->gpu.steps[i];
      float ms = 0;
      ok = check(d->cuEventElapsedTime(&ms, ev[i], ev[i + 1]),
                 "cuEventElapsedTime", err);
      bool gemm = s.op == GpuStep::Gemm;
      rows.push_back(
          {{"step", i},
           {"op", gemm ? "gemm" : "launch"},
           {"name", gemm ? std::string("cublas_gemm_") + dtypeName(s.inputDtype)
                         : s.kernel},
           {"loc", s.loc},
           {"ms", ms},
           {"bytes", stepBytes(s)},
           {"flops", gemm ? 2.0 * s.batch * s.m * s.n * s.k : 0.0}});
    }
    release();
    if (!ok)
      return false;
    std::string out = rows.dump(1) + "\n";
    std::FILE *f = std::fopen(path, "w");
    bool written = f && std::fwrite(out.data(), 1, out.size(), f) == out.size();
    if (f && std::fclose(f) != 0)
      written = false;
    if (!written) {
      err->code = TSR_ERR_IO;
      err->message = std::string("TESSERA_CUDA_PROFILE: cannot write ") + path;
      return false;
    }
    return true;
  }

  struct Prepared {
    CUfunction fn = nullptr;
    std::vector<CUdeviceptr> values;
    std::vector<void *> params;
  };

  uint64_t argBytes(size_t i) const {
    if (i < art->inputs.size())
      return art->inputs[i].byteSize;
    i -= art->inputs.size();
    if (i < art->weights.size())
      return art->weights[i].byteSize;
    return art->outputs[i - art->weights.size()].byteSize;
  }

  bool alloc(uint64_t bytes, CUdeviceptr &out, Error *err) {
    if (!check(d->cuMemAlloc(&out, bytes),
               ("allocating " + std::to_string(bytes) + " bytes on the GPU")
                   .c_str(),
               err))
      return false;
    allocations.push_back(out);
    return true;
  }

  CUdeviceptr address(const GpuRef &r) const {
    const GpuBuffer &b = art->gpu.buffers[r.buffer];
    CUdeviceptr base =
        b.kind == GpuBuffer::Arg ? argPtrs[b.argIndex] : arena + b.offset;
    return base + r.offset;
  }

  bool enqueue(CUstream s, Error *err) {
    for (size_t i = 0; i < art->gpu.steps.size(); ++i)
      if (!enqueueStep(s, i, err))
        return false;
    return true;
  }

  bool enqueueStep(CUstream stream, size_t i, Error *err) {
    {
      const GpuStep &s = art->gpu.steps[i];
      Prepared &p = prepared[i];
      if (s.op == GpuStep::Launch) {
        CUresult r = d->cuLaunchKernel(p.fn, s.grid[0], s.grid[1], s.grid[2],
                                       s.block[0], s.block[1], s.block[2], 0,
                                       stream, p.params.data(), nullptr);
        return check(r, ("launching " + s.kernel + " (" + s.loc + ")").c_str(),
                     err);
      }
      // Row-major C = A B is column-major C^T = B^T A^T.
      const float one = 1.0f;
      long long strideA = s.aBatched ? s.m * s.k : 0;
      long long strideB = s.bBatched ? s.k * s.n : 0;
      int st;
      if (s.inputDtype == TSR_DTYPE_F32) {
        auto ptr = [&](const GpuRef &r) {
          return reinterpret_cast<float *>(address(r));
        };
        st = blas->sgemmStridedBatched(
            handle, kCublasOpN, kCublasOpN, int(s.n), int(s.m), int(s.k), &one,
            ptr(s.b), int(s.n), strideB, ptr(s.a), int(s.k), strideA, &one,
            ptr(s.c), int(s.n), (long long)s.m * s.n, int(s.batch));
      } else {
        int t = s.inputDtype == TSR_DTYPE_BF16 ? kCudaR16BF : kCudaR16F;
        auto ptr = [&](const GpuRef &r) {
          return reinterpret_cast<void *>(address(r));
        };
        st = blas->gemmStridedBatchedEx(
            handle, kCublasOpN, kCublasOpN, int(s.n), int(s.m), int(s.k), &one,
            ptr(s.b), t, int(s.n), strideB, ptr(s.a), t, int(s.k), strideA,
            &one, ptr(s.c), kCudaR32F, int(s.n), (long long)s.m * s.n,
            int(s.batch), kCublasCompute32F, kCublasGemmDefault);
      }
      if (st != 0)
        return deviceError(err, "cuBLAS strided-batched GEMM failed with status " +
                                    std::to_string(st) + " (" + s.loc + ")");
    }
    return true;
  }

  const ParsedArtifact *art = nullptr;
  const Driver *d = nullptr;
  const Cublas *blas = nullptr;
  cublasHandle_t handle = nullptr;
  CUdevice device = 0;
  CUcontext ctx = nullptr;
  CUstream stream = nullptr;
  CUmodule module = nullptr;
  CUgraphExec graphExec = nullptr;
  CUevent done = nullptr;          ///< recorded at the end of every run
  CUstream lastBlasStream = nullptr;
  CUdeviceptr arena = 0;
  std::vector<CUdeviceptr> argPtrs, allocations;
  std::vector<Prepared> prepared;
  bool useGraphs = true;
  int64_t ownRuns = 0; ///< default runs (graph capture, profiling)
  bool initPushed = false;
};

} // namespace

std::unique_ptr<CudaExecutor>
CudaExecutor::create(const ParsedArtifact &art, const uint8_t *artifactBytes,
                     const std::vector<void *> &weights, Error *err) {
  auto e = std::make_unique<Executor>();
  bool ok = e->init(art, artifactBytes, weights, err);
  e->popInitContext();
  if (!ok)
    return nullptr;
  return e;
}

} // namespace tessera::runtime
