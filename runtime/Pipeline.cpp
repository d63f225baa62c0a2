//===- runtime/Pipeline.cpp - pipelines of stage artifacts over MPI -------===//
//
// A pipeline (tessera-compile --pipeline-stages) is a directory with one
// artifact per stage and pipeline.json. Under mpirun, world ranks are dealt
// to the stages in order (stage k gets `devices` ranks); each process loads
// its stage's artifact and runs it on its stage's devices (the stage's
// collectives use the stage's communicator). A run streams micro-batches
// (the inputs' first dim cut in equal parts) through the stages: a stage
// takes each micro-batch's model inputs from the caller's tensors and its
// boundary tensors from the stages that make them, moved between the
// stages' meshes with one broadcast per tensor and micro-batch from a
// sender chosen to balance bytes over the sending stage's devices (the
// broadcast plan of Zhuang et al.), or with one send/recv per receiver
// from the least-loaded sender (the baseline). The model's outputs reach
// every process.
//
//===----------------------------------------------------------------------===//

#include "Dist.h"
#include "Model.h"

#include "tessera/Runtime.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>

#ifdef TSR_HAVE_MPI
#include <mpi.h>
#endif

using namespace tessera::runtime;
using nlohmann::json;

namespace {

struct PTensor {
  std::string name;
  tsr_dtype dtype = TSR_DTYPE_INVALID;
  std::vector<int64_t> shape;
  size_t bytes = 0;
};

struct PStage {
  std::string artifact, mesh;
  int devices = 1, first = 0; // world ranks [first, first + devices)
  std::vector<PTensor> inputs, outputs;
};

} // namespace

struct tsr_pipeline {
  std::vector<PStage> stages;
  std::vector<PTensor> inputs, outputs;
  int me = 0; // this process's stage
  tsr_model *model = nullptr;
  double transferSeconds = 0; // of the last run, this process
#ifdef TSR_HAVE_MPI
  /// Broadcast communicators: (sender world rank, receiving stage) ->
  /// {sender} + the stage's ranks, the sender first.
  std::map<std::pair<int, int>, MPI_Comm> bcast;
#endif
  ~tsr_pipeline() {
    tsr_model_free(model);
#ifdef TSR_HAVE_MPI
    int down = 0;
    MPI_Finalized(&down);
    if (!down)
      for (auto &[key, c] : bcast)
        MPI_Comm_free(&c);
#endif
    tessera::runtime::dist::resetDeviceGroup();
  }
};

namespace {

bool readTensor(const json &j, const std::string &where, PTensor &t,
                std::string &err) {
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string() ||
      !j.contains("dtype") || !j["dtype"].is_string() ||
      !j.contains("shape") || !j["shape"].is_array()) {
    err = where + ": expected {\"name\", \"dtype\", \"shape\"}";
    return false;
  }
  t.name = j["name"].get<std::string>();
  t.dtype = dtypeFromName(j["dtype"].get<std::string>());
  if (t.dtype == TSR_DTYPE_INVALID) {
    err = where + " ('" + t.name + "'): unknown dtype";
    return false;
  }
  if (j["shape"].size() > TSR_MAX_RANK) {
    err = where + ": rank too large";
    return false;
  }
  for (const json &d : j["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0) {
      err = where + " ('" + t.name + "'): dims must be non-negative integers";
      return false;
    }
    t.shape.push_back(d.get<int64_t>());
  }
  int64_t elements = 0;
  if (!shapeSizes(t.shape, dtypeSize(t.dtype), elements, t.bytes)) {
    err = where + " ('" + t.name + "'): shape too large";
    return false;
  }
  return true;
}

bool readList(const json &j, const char *key, const std::string &where,
              std::vector<PTensor> &out, std::string &err) {
  if (!j.contains(key) || !j[key].is_array()) {
    err = where + ": '" + key + "' must be an array";
    return false;
  }
  for (size_t i = 0; i < j[key].size(); ++i) {
    PTensor t;
    if (!readTensor(j[key][i], where + "." + key + "[" + std::to_string(i) + "]",
                    t, err))
      return false;
    out.push_back(std::move(t));
  }
  return true;
}

const PTensor *find(const std::vector<PTensor> &ts, const std::string &name) {
  for (const PTensor &t : ts)
    if (t.name == name)
      return &t;
  return nullptr;
}

bool sameType(const PTensor &a, const PTensor &b) {
  return a.dtype == b.dtype && a.shape == b.shape;
}

/// Reads and checks pipeline.json: names, types, the data flow.
bool parsePipeline(const std::string &text, tsr_pipeline &p, std::string &err) {
  json root = json::parse(text, nullptr, false);
  if (root.is_discarded() || !root.is_object()) {
    err = "not a JSON object";
    return false;
  }
  if (root.value("format", "") != "tessera-pipeline-v1") {
    err = "'format' is not \"tessera-pipeline-v1\"";
    return false;
  }
  if (!readList(root, "inputs", "pipeline", p.inputs, err) ||
      !readList(root, "outputs", "pipeline", p.outputs, err))
    return false;
  if (!root.contains("stages") || !root["stages"].is_array() ||
      root["stages"].empty() || root["stages"].size() > 64) {
    err = "'stages' must be an array of 1 to 64 stages";
    return false;
  }
  int first = 0;
  for (size_t k = 0; k < root["stages"].size(); ++k) {
    const json &js = root["stages"][k];
    const std::string where = "stages[" + std::to_string(k) + "]";
    PStage s;
    if (!js.is_object() || !js.contains("artifact") ||
        !js["artifact"].is_string() || !js.contains("devices") ||
        !js["devices"].is_number_integer()) {
      err = where + ": expected \"artifact\" and \"devices\"";
      return false;
    }
    s.artifact = js["artifact"].get<std::string>();
    if (s.artifact.empty() || s.artifact.find('/') != std::string::npos ||
        s.artifact[0] == '.') {
      err = where + ": 'artifact' must be a file name in the pipeline's "
                    "directory";
      return false;
    }
    const int64_t devices = js["devices"].get<int64_t>();
    if (devices < 1 || devices > 65536) {
      err = where + ": 'devices' out of range";
      return false;
    }
    s.devices = int(devices);
    s.mesh = js.value("mesh", "");
    s.first = first;
    first += s.devices;
    if (!readList(js, "inputs", where, s.inputs, err) ||
        !readList(js, "outputs", where, s.outputs, err))
      return false;
    // Each input is a model input or an earlier stage's output.
    for (const PTensor &in : s.inputs) {
      const PTensor *src = find(p.inputs, in.name);
      for (size_t t = 0; !src && t < p.stages.size(); ++t)
        src = find(p.stages[t].outputs, in.name);
      if (!src || !sameType(*src, in)) {
        err = where + ": input '" + in.name +
              (src ? "' does not match the tensor of that name"
                   : "' is neither a model input nor an earlier stage's "
                     "output");
        return false;
      }
    }
    for (const PTensor &o : s.outputs)
      for (const PStage &t : p.stages)
        if (find(t.outputs, o.name)) {
          err = where + ": output '" + o.name +
                "' is also an earlier stage's output";
          return false;
        }
    p.stages.push_back(std::move(s));
  }
  for (const PTensor &out : p.outputs) {
    bool made = false;
    for (const PStage &s : p.stages)
      if (const PTensor *t = find(s.outputs, out.name))
        made = made || sameType(*t, out);
    if (!made) {
      err = "model output '" + out.name + "' is made by no stage";
      return false;
    }
  }
  return true;
}

/// The stage making `name` (the first that outputs it), or -1.
[[maybe_unused]] int producer(const tsr_pipeline &p, const std::string &name) {
  for (size_t t = 0; t < p.stages.size(); ++t)
    if (find(p.stages[t].outputs, name))
      return int(t);
  return -1;
}

tsr_error *loadStage(tsr_pipeline &p, const char *path);

} // namespace

extern "C" {

tsr_error *tsr_pipeline_load(const char *path, tsr_pipeline **out) {
  if (out)
    *out = nullptr;
  if (!path || !out)
    return makeError(TSR_ERR_INVALID_ARGUMENT,
                     "tsr_pipeline_load: path or out is NULL");
  try {
    std::ifstream in(path);
    if (!in)
      return makeError(TSR_ERR_IO, std::string("'") + path + "': cannot open");
    std::string text((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
    auto p = std::make_unique<tsr_pipeline>();
    std::string err;
    if (!parsePipeline(text, *p, err))
      return makeError(TSR_ERR_FORMAT, std::string("'") + path + "': " + err);
    Error e;
    if (!dist::init(&e))
      return makeError(e.code, "tsr_pipeline_load: " + e.message);
    const int world = dist::worldSize(), rank = dist::worldRank();
    const PStage &last = p->stages.back();
    if (last.first + last.devices != world)
      return makeError(TSR_ERR_INVALID_ARGUMENT,
                       std::string("'") + path + "': the pipeline's " +
                           std::to_string(p->stages.size()) +
                           " stages need " +
                           std::to_string(last.first + last.devices) +
                           " processes, MPI_COMM_WORLD has " +
                           std::to_string(world) + ": launch it with mpirun -np " +
                           std::to_string(last.first + last.devices));
    for (size_t k = 0; k < p->stages.size(); ++k)
      if (rank >= p->stages[k].first &&
          rank < p->stages[k].first + p->stages[k].devices)
        p->me = int(k);
    if (!dist::setDeviceGroup(p->me, &e))
      return makeError(e.code, "tsr_pipeline_load: " + e.message);
#ifdef TSR_HAVE_MPI
    // Every process creates every broadcast communicator, in one order.
    for (size_t t = 0; t < p->stages.size(); ++t)
      for (size_t s = t + 1; s < p->stages.size(); ++s) {
        bool flows = false;
        for (const PTensor &in : p->stages[s].inputs)
          flows = flows || producer(*p, in.name) == int(t);
        if (!flows)
          continue;
        const PStage &src = p->stages[t], &dst = p->stages[s];
        for (int d = src.first; d < src.first + src.devices; ++d) {
          const bool member =
              rank == d || (rank >= dst.first && rank < dst.first + dst.devices);
          MPI_Comm c;
          MPI_Comm_split(MPI_COMM_WORLD, member ? 0 : MPI_UNDEFINED,
                         rank == d ? 0 : rank + 1, &c);
          if (member)
            p->bcast[{d, int(s)}] = c;
        }
      }
#endif
    // This process's stage; every process learns whether all loaded theirs
    // (a failure on some would leave the others waiting in collectives).
    tsr_error *local = loadStage(*p, path);
#ifdef TSR_HAVE_MPI
    int ok = local ? 0 : 1, all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!local && !all)
      return makeError(TSR_ERR_INVALID_ARGUMENT,
                       std::string("'") + path +
                           "': another process could not load its stage");
#endif
    if (local)
      return local;
    *out = p.release();
    return nullptr;
  } catch (const std::bad_alloc &) {
    return outOfMemoryError();
  } catch (const std::exception &e) {
    return makeError(TSR_ERR_INTERNAL,
                     std::string("tsr_pipeline_load: internal error: ") +
                         e.what());
  }
}

} // extern "C"

namespace {

tsr_error *loadStage(tsr_pipeline &pipe, const char *path) {
  tsr_pipeline *p = &pipe;
  {
    std::string dir = path;
    const size_t slash = dir.rfind('/');
    dir = slash == std::string::npos ? "." : dir.substr(0, slash);
    const PStage &mine = p->stages[size_t(p->me)];
    const std::string art = dir + "/" + mine.artifact;
    if (tsr_error *le = tsr_model_load_file(art.c_str(), &p->model))
      return le;
    if (tsr_model_num_devices(p->model) != mine.devices)
      return makeError(TSR_ERR_FORMAT,
                       "'" + art + "' is partitioned over " +
                           std::to_string(tsr_model_num_devices(p->model)) +
                           " devices, pipeline.json says " +
                           std::to_string(mine.devices));
    for (auto [role, list] : {std::pair{TSR_ROLE_INPUT, &mine.inputs},
                              std::pair{TSR_ROLE_OUTPUT, &mine.outputs}}) {
      bool ok = tsr_model_num_tensors(p->model, role) == list->size();
      for (size_t i = 0; ok && i < list->size(); ++i) {
        const PTensor &t = (*list)[i];
        const int64_t r = tsr_model_tensor_rank(p->model, role, i);
        const int64_t *dims = tsr_model_tensor_dims(p->model, role, i);
        ok = t.name == tsr_model_tensor_name(p->model, role, i) &&
             t.dtype == tsr_model_tensor_dtype(p->model, role, i) &&
             std::vector<int64_t>(dims, dims + r) == t.shape;
      }
      if (!ok)
        return makeError(TSR_ERR_FORMAT,
                         "'" + art + "': its " + tsr_role_name(role) +
                             "s do not match pipeline.json's stage " +
                             std::to_string(p->me));
    }
  }
  return nullptr;
}

} // namespace

extern "C" {

void tsr_pipeline_free(tsr_pipeline *p) { delete p; }

int64_t tsr_pipeline_num_stages(const tsr_pipeline *p) {
  return p ? int64_t(p->stages.size()) : 0;
}

int64_t tsr_pipeline_stage(const tsr_pipeline *p) { return p ? p->me : -1; }

int64_t tsr_pipeline_rank(const tsr_pipeline *p) {
  return p ? dist::worldRank() : -1;
}

size_t tsr_pipeline_num_tensors(const tsr_pipeline *p, tsr_role role) {
  if (!p)
    return 0;
  return role == TSR_ROLE_INPUT ? p->inputs.size()
         : role == TSR_ROLE_OUTPUT ? p->outputs.size()
                                   : 0;
}

static const PTensor *ptensor(const tsr_pipeline *p, tsr_role role, size_t i) {
  if (!p)
    return nullptr;
  const std::vector<PTensor> *l = role == TSR_ROLE_INPUT    ? &p->inputs
                                  : role == TSR_ROLE_OUTPUT ? &p->outputs
                                                            : nullptr;
  return l && i < l->size() ? &(*l)[i] : nullptr;
}

const char *tsr_pipeline_tensor_name(const tsr_pipeline *p, tsr_role role,
                                     size_t i) {
  const PTensor *t = ptensor(p, role, i);
  return t ? t->name.c_str() : nullptr;
}

tsr_dtype tsr_pipeline_tensor_dtype(const tsr_pipeline *p, tsr_role role,
                                    size_t i) {
  const PTensor *t = ptensor(p, role, i);
  return t ? t->dtype : TSR_DTYPE_INVALID;
}

int64_t tsr_pipeline_tensor_rank(const tsr_pipeline *p, tsr_role role,
                                 size_t i) {
  const PTensor *t = ptensor(p, role, i);
  return t ? int64_t(t->shape.size()) : -1;
}

const int64_t *tsr_pipeline_tensor_dims(const tsr_pipeline *p, tsr_role role,
                                        size_t i) {
  static const int64_t kNone[1] = {0};
  const PTensor *t = ptensor(p, role, i);
  return t ? (t->shape.empty() ? kNone : t->shape.data()) : nullptr;
}

double tsr_pipeline_transfer_seconds(const tsr_pipeline *p) {
  return p ? p->transferSeconds : 0;
}

tsr_error *tsr_pipeline_run(tsr_pipeline *p, const tsr_tensor *inputs,
                            size_t num_inputs, tsr_tensor *outputs,
                            size_t num_outputs, int64_t micro_batches,
                            int broadcast) {
  if (!p)
    return makeError(TSR_ERR_INVALID_ARGUMENT, "tsr_pipeline_run: NULL pipeline");
#ifndef TSR_HAVE_MPI
  (void)inputs;
  (void)num_inputs;
  (void)outputs;
  (void)num_outputs;
  (void)micro_batches;
  (void)broadcast;
  return makeError(TSR_ERR_UNSUPPORTED_TARGET,
                   "tsr_pipeline_run: this runtime was built without MPI");
#else
  try {
    const int64_t M = micro_batches;
    if (M < 1)
      return makeError(TSR_ERR_INVALID_ARGUMENT,
                       "tsr_pipeline_run: micro_batches must be >= 1");
    // The caller's tensors: by name, M micro-batches along dim 0.
    auto bind = [&](const std::vector<PTensor> &specs, const tsr_tensor *given,
                    size_t n, const char *role,
                    std::vector<uint8_t *> &data) -> std::string {
      data.assign(specs.size(), nullptr);
      for (size_t i = 0; i < specs.size(); ++i) {
        const PTensor &s = specs[i];
        const tsr_tensor *t = nullptr;
        for (size_t j = 0; j < n; ++j)
          if (given[j].name ? s.name == given[j].name : j == i)
            t = &given[j];
        if (!t)
          return std::string("missing ") + role + " '" + s.name + "'";
        std::vector<int64_t> want = s.shape;
        if (M > 1) {
          if (want.empty())
            return std::string(role) + " '" + s.name +
                   "' is a scalar: it cannot be cut into micro-batches";
          want[0] *= M;
        }
        if (t->dtype != s.dtype || t->rank != int64_t(want.size()) ||
            (t->rank && !t->shape) ||
            std::vector<int64_t>(t->shape, t->shape + t->rank) != want ||
            t->byte_size < s.bytes * size_t(M) || (!t->data && s.bytes))
          return std::string(role) + " '" + s.name + "': expected " +
                 formatShape(want) + " (" + dtypeName(s.dtype) + ")" +
                 (M > 1 ? ", " + std::to_string(M) + " micro-batches along dim 0"
                        : "");
        data[i] = static_cast<uint8_t *>(t->data);
      }
      return "";
    };
    std::vector<uint8_t *> inData, outData;
    std::string problem = bind(p->inputs, inputs, num_inputs, "input", inData);
    if (problem.empty())
      problem = bind(p->outputs, outputs, num_outputs, "output", outData);
    if (!problem.empty())
      return makeError(TSR_ERR_INVALID_ARGUMENT, "tsr_pipeline_run: " + problem);

    const int rank = dist::worldRank();
    for (const PStage &st : p->stages)
      for (const PTensor &t : st.inputs)
        if (t.bytes * size_t(M) > size_t(INT32_MAX))
          return makeError(TSR_ERR_INVALID_ARGUMENT,
                           "tsr_pipeline_run: '" + t.name +
                               "' is too large for one MPI message");
    for (const PTensor &t : p->outputs)
      if (t.bytes * size_t(M) > size_t(INT32_MAX))
        return makeError(TSR_ERR_INVALID_ARGUMENT,
                         "tsr_pipeline_run: '" + t.name +
                             "' is too large for one MPI message");
    // Sender choice, the same on every process: bytes sent per world rank.
    std::vector<double> load(size_t(dist::worldSize()), 0);
    auto leastLoaded = [&](const PStage &s) {
      int best = s.first;
      for (int d = s.first; d < s.first + s.devices; ++d)
        if (load[size_t(d)] < load[size_t(best)])
          best = d;
      return best;
    };
    // Boundary tensors in one global order: every (micro-batch, stage,
    // input) pair, consumers by stage. Each process walks it, taking part
    // where it sends or receives.
    std::map<std::string, std::vector<uint8_t>> mineOut; // this micro-batch
    double transfer = 0;
    auto timed = [&](auto &&f) {
      auto t0 = std::chrono::steady_clock::now();
      f();
      transfer += std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - t0)
                      .count();
    };
    // Moves boundary input i of stage s for the current micro-batch into
    // `into` (on stage s's processes; null elsewhere). Every process walks
    // the same transfers in one order and makes the same sender choices;
    // each takes part as receiver, sender (a device of the producing stage,
    // which holds the tensor in mineOut) or neither.
    auto move = [&](size_t s, size_t i, uint8_t *into) {
      const PStage &st = p->stages[s];
      const PTensor &t = st.inputs[i];
      const PStage &from = p->stages[size_t(producer(*p, t.name))];
      const bool receiving = int(s) == p->me;
      if (broadcast) {
        const int sender = leastLoaded(from);
        load[size_t(sender)] += double(t.bytes);
        if (receiving || sender == rank)
          timed([&] {
            MPI_Bcast(receiving ? into : mineOut.at(t.name).data(),
                      int(t.bytes), MPI_BYTE, 0, p->bcast.at({sender, int(s)}));
          });
        return;
      }
      // One send/recv per receiving device, from the least-loaded sender.
      for (int d = st.first; d < st.first + st.devices; ++d) {
        const int sender = leastLoaded(from);
        load[size_t(sender)] += double(t.bytes);
        if (d == rank)
          timed([&] {
            MPI_Recv(into, int(t.bytes), MPI_BYTE, sender, int(i),
                     MPI_COMM_WORLD, MPI_STATUS_IGNORE);
          });
        else if (sender == rank)
          timed([&] {
            MPI_Send(mineOut.at(t.name).data(), int(t.bytes), MPI_BYTE, d,
                     int(i), MPI_COMM_WORLD);
          });
      }
    };
    for (int64_t j = 0; j < M; ++j) {
      for (size_t s = 0; s < p->stages.size(); ++s) {
        const PStage &st = p->stages[s];
        // Stage s takes its inputs for micro-batch j...
        if (int(s) == p->me) {
          std::vector<tsr_tensor> ins;
          std::vector<std::vector<uint8_t>> keep;
          for (size_t i = 0; i < st.inputs.size(); ++i) {
            const PTensor &t = st.inputs[i];
            uint8_t *data;
            const PTensor *mi = find(p->inputs, t.name);
            if (mi) {
              size_t k = size_t(mi - p->inputs.data());
              data = inData[k] + size_t(j) * t.bytes;
            } else {
              keep.emplace_back(t.bytes);
              data = keep.back().data();
              move(s, i, data);
            }
            ins.push_back({t.name.c_str(), t.dtype, int64_t(t.shape.size()),
                           t.shape.data(), data, t.bytes});
          }
          std::vector<tsr_tensor> outs;
          mineOut.clear();
          for (const PTensor &t : st.outputs) {
            std::vector<uint8_t> &buf = mineOut[t.name];
            buf.resize(t.bytes);
            outs.push_back({t.name.c_str(), t.dtype, int64_t(t.shape.size()),
                            t.shape.data(), buf.data(), t.bytes});
          }
          if (tsr_error *e = tsr_model_run(p->model, ins.data(), ins.size(),
                                           outs.data(), outs.size())) {
            // The other stages would wait for this one forever.
            std::fprintf(stderr,
                         "tessera runtime: pipeline stage %d failed: %s\n",
                         p->me, tsr_error_message(e));
            std::fflush(stderr);
            MPI_Abort(MPI_COMM_WORLD, 1);
            return e;
          }
          for (size_t k = 0; k < p->outputs.size(); ++k)
            if (producer(*p, p->outputs[k].name) == int(s))
              std::memcpy(outData[k] + size_t(j) * p->outputs[k].bytes,
                          mineOut[p->outputs[k].name].data(),
                          p->outputs[k].bytes);
        }
        // ... which the other processes send, or watch go by.
        if (int(s) != p->me)
          for (size_t i = 0; i < st.inputs.size(); ++i)
            if (!find(p->inputs, st.inputs[i].name))
              move(s, i, nullptr);
      }
    }
    // The model's outputs, to every process.
    for (size_t k = 0; k < p->outputs.size(); ++k) {
      const PStage &from = p->stages[size_t(producer(*p, p->outputs[k].name))];
      MPI_Bcast(outData[k], int(p->outputs[k].bytes * size_t(M)), MPI_BYTE,
                from.first, MPI_COMM_WORLD);
    }
    p->transferSeconds = transfer;
    return nullptr;
  } catch (const std::bad_alloc &) {
    return outOfMemoryError();
  } catch (const std::exception &e) {
    return makeError(TSR_ERR_INTERNAL,
                     std::string("tsr_pipeline_run: internal error: ") + e.what());
  }
#endif
}

} // extern "C"
