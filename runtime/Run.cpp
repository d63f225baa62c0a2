//===- runtime/Run.cpp - C API: checking tensors and running a model ------===//

#include "Dist.h"
#include "Model.h"

#include <cstdint>
#include <cstring>

using namespace tessera::runtime;

namespace {

/// Collects every problem with a call; the first one decides the code.
struct Problems {
  tsr_code code = TSR_OK;
  std::string text;

  void add(tsr_code c, const std::string &message) {
    if (code == TSR_OK)
      code = c;
    if (!text.empty())
      text += "\n";
    text += message;
  }
  bool empty() const { return code == TSR_OK; }
};

std::string nameList(const std::vector<TensorSpec> &specs) {
  std::string out;
  for (const TensorSpec &s : specs)
    out += (out.empty() ? "'" : ", '") + s.name + "'";
  return out.empty() ? "none" : out;
}

std::string describe(const TensorSpec &spec) {
  return formatShape(spec.shape) + " (" + dtypeName(spec.dtype) + ")";
}

/// Checks one caller tensor against its spec.
void checkTensor(const char *role, const TensorSpec &spec,
                 const tsr_tensor &t, Problems &problems) {
  const std::string what = std::string(role) + " '" + spec.name + "'";
  // A C caller may store any int in the enum; read it as one.
  static_assert(sizeof(tsr_dtype) == sizeof(int), "tsr_dtype is int-sized");
  int dtype = 0;
  std::memcpy(&dtype, &t.dtype, sizeof dtype);
  if (dtype != int(spec.dtype)) {
    const DtypeInfo *info = nullptr;
    for (const DtypeInfo &d : kDtypes)
      if (int(d.dtype) == dtype)
        info = &d;
    const std::string got =
        info ? info->name : "invalid (" + std::to_string(dtype) + ")";
    problems.add(TSR_ERR_DTYPE_MISMATCH, what + ": expected dtype " +
                                             dtypeName(spec.dtype) +
                                             ", got " + got);
  }
  if (t.rank < 0 || t.rank > TSR_MAX_RANK) {
    problems.add(TSR_ERR_SHAPE_MISMATCH,
                 what + ": rank " + std::to_string(t.rank) +
                     " is invalid (expected shape " + describe(spec) + ")");
    return;
  }
  if (t.rank > 0 && !t.shape) {
    problems.add(TSR_ERR_INVALID_ARGUMENT,
                 what + ": shape is NULL but rank is " +
                     std::to_string(t.rank));
    return;
  }
  bool sameShape = size_t(t.rank) == spec.shape.size();
  for (size_t d = 0; sameShape && d < spec.shape.size(); ++d)
    sameShape = t.shape[d] == spec.shape[d];
  if (!sameShape) {
    problems.add(TSR_ERR_SHAPE_MISMATCH,
                 what + ": expected shape " + describe(spec) + ", got " +
                     formatShape(t.shape, size_t(t.rank)));
    return;
  }
  if (t.byte_size < spec.byteSize)
    problems.add(TSR_ERR_SHAPE_MISMATCH,
                 what + ": buffer has " + std::to_string(t.byte_size) +
                     " bytes, expected at least " +
                     std::to_string(spec.byteSize) + " for shape " +
                     describe(spec));
  if (spec.byteSize > 0 && !t.data) {
    problems.add(TSR_ERR_INVALID_ARGUMENT, what + ": data is NULL");
    return;
  }
  const size_t align = dtypeSize(spec.dtype);
  if (t.data && align > 1 && reinterpret_cast<uintptr_t>(t.data) % align)
    problems.add(TSR_ERR_INVALID_ARGUMENT,
                 what + ": data is not aligned to " + std::to_string(align) +
                     " bytes (" + dtypeName(spec.dtype) + ")");
}

/// Binds caller tensors to specs (by name, else by position) and checks
/// each. `bound[i]` is the data pointer for spec i.
void bindAll(const char *role, const std::vector<TensorSpec> &specs,
             const tsr_tensor *given, size_t count, std::vector<void *> &bound,
             Problems &problems) {
  const std::string plural = std::string(role) + "s";
  if (!given && count > 0) {
    problems.add(TSR_ERR_INVALID_ARGUMENT,
                 plural + " is NULL but its count is " +
                     std::to_string(count));
    return;
  }
  std::vector<long> from(specs.size(), -1); // which entry bound spec i
  bound.assign(specs.size(), nullptr);
  for (size_t i = 0; i < count; ++i) {
    const tsr_tensor &t = given[i];
    size_t index = i;
    if (t.name) {
      index = specs.size();
      for (size_t s = 0; s < specs.size(); ++s)
        if (specs[s].name == t.name)
          index = s;
      if (index == specs.size()) {
        problems.add(TSR_ERR_INVALID_ARGUMENT,
                     std::string(role) + " #" + std::to_string(i) +
                         ": the model has no " + role + " named '" + t.name +
                         "' (its " + plural + ": " + nameList(specs) + ")");
        continue;
      }
    } else if (i >= specs.size()) {
      problems.add(TSR_ERR_INVALID_ARGUMENT,
                   std::string(role) + " #" + std::to_string(i) +
                       " (unnamed): the model has only " +
                       std::to_string(specs.size()) + " " + plural);
      continue;
    }
    if (from[index] >= 0) {
      problems.add(TSR_ERR_INVALID_ARGUMENT,
                   std::string(role) + " '" + specs[index].name +
                       "' is given more than once (entries #" +
                       std::to_string(from[index]) + " and #" +
                       std::to_string(i) + ")");
      continue;
    }
    from[index] = long(i);
    bound[index] = t.data;
    checkTensor(role, specs[index], t, problems);
  }
  for (size_t s = 0; s < specs.size(); ++s)
    if (from[s] < 0)
      problems.add(TSR_ERR_INVALID_ARGUMENT,
                   "missing " + std::string(role) + " '" + specs[s].name +
                       "' (expected shape " + describe(specs[s]) +
                       "); the model has " + std::to_string(specs.size()) +
                       " " + plural + ", got " + std::to_string(count));
}

} // namespace

namespace {
/// Measured runs alternate two canaries: a byte can equal one of them by
/// chance, not both, so two runs give the exact mark.
constexpr uint8_t kArenaCanary[2] = {0xA5, 0x5A};
} // namespace

extern "C" void tsr_model_measure_arena(tsr_model *model, int enable) {
  if (!model)
    return;
  model->measureArena.store(enable != 0);
  if (enable)
    model->arenaHighWater.store(0);
}

extern "C" uint64_t tsr_model_arena_bytes(const tsr_model *model) {
  return model ? model->artifact.arenaBytes : 0;
}

extern "C" uint64_t tsr_model_arena_high_water(const tsr_model *model) {
  return model ? model->arenaHighWater.load() : 0;
}

extern "C" void tsr_run_options_init(tsr_run_options *options) {
  if (!options)
    return;
  std::memset(options, 0, sizeof *options);
  options->struct_size = sizeof *options;
}

extern "C" tsr_error *tsr_model_run(tsr_model *model, const tsr_tensor *inputs,
                                    size_t num_inputs, tsr_tensor *outputs,
                                    size_t num_outputs) {
  return tsr_model_run_with_options(model, nullptr, inputs, num_inputs,
                                    outputs, num_outputs);
}

extern "C" tsr_error *tsr_model_run_with_options(
    tsr_model *model, const tsr_run_options *options, const tsr_tensor *inputs,
    size_t num_inputs, tsr_tensor *outputs, size_t num_outputs) {
  if (!model)
    return makeError(TSR_ERR_INVALID_ARGUMENT, "tsr_model_run: model is NULL");
  RunConfig cfg;
  if (options) {
    if (options->struct_size != sizeof(tsr_run_options))
      return makeError(TSR_ERR_INVALID_ARGUMENT,
                       "tsr_model_run_with_options: options->struct_size is " +
                           std::to_string(options->struct_size) + ", expected " +
                           std::to_string(sizeof(tsr_run_options)) +
                           " (fill the options with tsr_run_options_init)");
    if ((options->cuda_stream || options->device_buffers) &&
        model->artifact.target != "cuda")
      return makeError(TSR_ERR_INVALID_ARGUMENT,
                       "tsr_model_run_with_options: cuda_stream and "
                       "device_buffers apply to cuda artifacts; this model's "
                       "target is '" + model->artifact.target + "'");
    if (options->asynchronous &&
        (!options->device_buffers || !options->cuda_stream))
      return makeError(TSR_ERR_INVALID_ARGUMENT,
                       "tsr_model_run_with_options: asynchronous needs "
                       "device_buffers (host outputs are complete on return) "
                       "and a cuda_stream (to wait on)");
    cfg.stream = options->cuda_stream;
    cfg.deviceBuffers = options->device_buffers != 0;
    cfg.synchronize = options->asynchronous == 0;
  }
  try {
    const ParsedArtifact &art = model->artifact;
    Problems problems;
    std::vector<void *> in, out;
    bindAll("input", art.inputs, inputs, num_inputs, in, problems);
    bindAll("output", art.outputs, outputs, num_outputs, out, problems);
    if (!problems.empty())
      return makeError(problems.code, std::move(problems.text));

    if (art.target == "cuda") {
      std::lock_guard<std::mutex> lock(model->cudaMutex);
      Error err;
      if (!model->cuda &&
          !(model->cuda = CudaExecutor::create(art, model->bytes.get(),
                                               model->weightData, &err)))
        return makeError(err.code, "tsr_model_run: " + err.message);
      if (!model->cuda->run(in, out, cfg, &err))
        return makeError(err.code, "tsr_model_run: " + err.message);
      return nullptr;
    }
    // A partitioned program runs on this device's shards: each input is
    // cut from the caller's whole tensor, and every output is gathered
    // whole from all devices. Runs are serialized: every device must issue
    // the same collectives in the same order.
    std::vector<AlignedBytes> shards;
    std::unique_lock<std::mutex> spmdLock;
    const std::vector<void *> wholeOut = out;
    const bool spmd = !art.meshShape.empty();
    if (spmd) {
      Error err;
      if (!dist::init(&err))
        return makeError(err.code, "tsr_model_run: " + err.message);
      if (dist::devices() != art.devices()) {
        std::string mesh;
        for (size_t i = 0; i < art.meshShape.size(); ++i)
          mesh += (i ? "," : "") + art.meshAxes[i] + "=" +
                  std::to_string(art.meshShape[i]);
        return makeError(TSR_ERR_INVALID_ARGUMENT,
                         "tsr_model_run: the model is partitioned over " +
                             std::to_string(art.devices()) +
                             " devices (mesh " + mesh +
                             ") but runs on " +
                             std::to_string(dist::devices()) +
                             " processes: launch it with mpirun -np " +
                             std::to_string(art.devices()));
      }
      spmdLock = std::unique_lock<std::mutex>(dist::runMutex());
      const int rank = dist::deviceRank();
      auto shard = [&](const TensorSpec &t, void *&data, bool copyIn) {
        if (t.split.empty())
          return true;
        AlignedBytes buf = allocateAligned(t.localBytes);
        if (!buf)
          return false;
        if (copyIn) {
          const std::vector<int64_t> off =
              dist::shardOffsets(art.meshShape, rank, t);
          const std::vector<int64_t> zero(t.shape.size(), 0);
          dist::copyRegion(static_cast<const uint8_t *>(data), t.shape.data(),
                           off.data(), buf.get(), t.localShape.data(),
                           zero.data(), t.localShape.data(), t.shape.size(),
                           dtypeSize(t.dtype));
        }
        data = buf.get();
        shards.push_back(std::move(buf));
        return true;
      };
      for (size_t i = 0; i < in.size(); ++i)
        if (!shard(art.inputs[i], in[i], true))
          return outOfMemoryError();
      for (size_t i = 0; i < out.size(); ++i) {
        void *local = out[i];
        if (!shard(art.outputs[i], local, false))
          return outOfMemoryError();
        out[i] = local;
      }
    }
    // args = [inputs..., weights..., outputs...] (tessera-packed-v1),
    // then the scratch arena (tessera-packed-v2), one per run so that
    // concurrent runs of one model do not share it.
    std::vector<void *> args;
    args.reserve(in.size() + model->weightData.size() + out.size() + 1);
    args.insert(args.end(), in.begin(), in.end());
    args.insert(args.end(), model->weightData.begin(), model->weightData.end());
    args.insert(args.end(), out.begin(), out.end());
    AlignedBytes arena;
    const uint64_t arenaBytes = art.arenaBytes;
    const bool measure = arenaBytes && model->measureArena.load();
    uint8_t canary = 0;
    if (arenaBytes) {
      arena = allocateAligned(arenaBytes);
      if (!arena)
        return makeError(TSR_ERR_OUT_OF_MEMORY,
                         "tsr_model_run: cannot allocate the " +
                             std::to_string(arenaBytes) + "-byte arena");
      if (measure) {
        canary = kArenaCanary[model->measuredRuns.fetch_add(1) % 2];
        std::memset(arena.get(), canary, arenaBytes);
      }
      args.push_back(arena.get());
    }
    model->entry(args.data());
    if (spmd)
      for (size_t i = 0; i < out.size(); ++i) {
        const TensorSpec &t = art.outputs[i];
        Error err;
        if (!t.split.empty() &&
            !dist::gatherShards(art.meshShape, t,
                                static_cast<const uint8_t *>(out[i]),
                                static_cast<uint8_t *>(wholeOut[i]), &err))
          return makeError(err.code, "tsr_model_run: " + err.message);
      }
    if (measure) {
      // The high-water mark: one past the last byte the run changed.
      uint64_t top = arenaBytes;
      while (top > 0 && arena.get()[top - 1] == canary)
        --top;
      uint64_t seen = model->arenaHighWater.load();
      while (top > seen && !model->arenaHighWater.compare_exchange_weak(seen, top))
        ;
    }
    return nullptr;
  } catch (const std::bad_alloc &) {
    return outOfMemoryError();
  } catch (const std::exception &e) {
    return makeError(TSR_ERR_INTERNAL,
                     std::string("tsr_model_run: internal error: ") + e.what());
  }
}

extern "C" int64_t tsr_model_num_devices(const tsr_model *model) {
  return model ? model->artifact.devices() : 0;
}

extern "C" tsr_error *tsr_model_device_rank(const tsr_model *model,
                                            int64_t *out_rank) {
  if (!model || !out_rank)
    return makeError(TSR_ERR_INVALID_ARGUMENT,
                     "tsr_model_device_rank: model or out_rank is NULL");
  *out_rank = 0;
  if (model->artifact.meshShape.empty())
    return nullptr;
  Error err;
  if (!dist::init(&err))
    return makeError(err.code, "tsr_model_device_rank: " + err.message);
  *out_rank = dist::deviceRank();
  return nullptr;
}
