//===- runtime/Model.cpp - C API: errors, loading, signature queries ------===//

#include "Model.h"

#include "tessera/Artifact.h"
#include "tessera/Runtime.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <new>
#include <sys/stat.h>
#include <unistd.h>

using namespace tessera::runtime;

namespace tessera::runtime {

tsr_error *outOfMemoryError() {
  // Returned when even the error object cannot be allocated; never freed.
  static tsr_error oom{TSR_ERR_OUT_OF_MEMORY, "out of memory"};
  return &oom;
}

tsr_error *makeError(tsr_code code, std::string message) {
  try {
    return new tsr_error{code, std::move(message)};
  } catch (...) {
    return outOfMemoryError();
  }
}

AlignedBytes allocateAligned(size_t size) {
  size_t rounded = (size + TSR_SECTION_ALIGN - 1) / TSR_SECTION_ALIGN *
                   TSR_SECTION_ALIGN;
  if (rounded < size) // overflow
    return nullptr;
  if (rounded == 0)
    rounded = TSR_SECTION_ALIGN;
  return AlignedBytes(
      static_cast<uint8_t *>(std::aligned_alloc(TSR_SECTION_ALIGN, rounded)));
}

} // namespace tessera::runtime

namespace {

/// Validates, then loads the code: the common part of both load functions.
/// `where` prefixes messages (the file path, or empty).
tsr_error *loadFromBytes(AlignedBytes bytes, size_t size,
                         const std::string &where, tsr_model **out) {
  auto model = std::make_unique<tsr_model>();
  model->bytes = std::move(bytes);
  model->size = size;
  Error err;
  if (!tsr_internal_parse_artifact(model->bytes.get(), size, &model->artifact,
                                   &err))
    return makeError(err.code, where + err.message);

  const ParsedArtifact &art = model->artifact;
  if (art.weightsSection >= 0) {
    uint8_t *base =
        model->bytes.get() + art.sections[art.weightsSection].offset;
    for (const WeightSpec &w : art.weights)
      model->weightData.push_back(base + w.offset);
  }
  if (art.target == "cuda") {
    // The device is opened at the first run, so that a cuda artifact can be
    // inspected (signature, --info) on a machine without a GPU.
    *out = model.release();
    return nullptr;
  }
  if (art.target != "cpu")
    return makeError(TSR_ERR_UNSUPPORTED_TARGET,
                     where + "this artifact targets " + art.target +
                         ", which this runtime cannot run");

  const SectionInfo &code = art.sections[art.hostCodeSection];
  if (!model->code.load(model->bytes.get() + code.offset, code.size,
                        art.model, &err))
    return makeError(err.code, where + err.message);
  void *entry = model->code.symbol(art.entry, &err);
  if (!entry)
    return makeError(err.code, where + err.message);
  model->entry = reinterpret_cast<tsr_model::Entry>(entry);
  *out = model.release();
  return nullptr;
}

template <typename F> tsr_error *guarded(F &&body) {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return outOfMemoryError();
  } catch (const std::exception &e) {
    return makeError(TSR_ERR_INTERNAL, std::string("internal error: ") +
                                           e.what());
  } catch (...) {
    return makeError(TSR_ERR_INTERNAL, "internal error");
  }
}

const TensorSpec *tensorSpec(const tsr_model *model, tsr_role role,
                             size_t index) {
  if (!model)
    return nullptr;
  const ParsedArtifact &art = model->artifact;
  switch (role) {
  case TSR_ROLE_INPUT:
    return index < art.inputs.size() ? &art.inputs[index] : nullptr;
  case TSR_ROLE_OUTPUT:
    return index < art.outputs.size() ? &art.outputs[index] : nullptr;
  case TSR_ROLE_WEIGHT:
    return index < art.weights.size() ? &art.weights[index] : nullptr;
  case TSR_ROLE_MAX_ENUM:
    break;
  }
  return nullptr;
}

} // namespace

extern "C" {

//===--------------------------- errors -----------------------------------===//

const char *tsr_error_message(const tsr_error *error) {
  return error ? error->message.c_str() : "";
}

tsr_code tsr_error_code(const tsr_error *error) {
  return error ? error->code : TSR_OK;
}

void tsr_error_free(tsr_error *error) {
  if (error != outOfMemoryError())
    delete error;
}

const char *tsr_code_name(tsr_code code) {
  switch (code) {
  case TSR_OK: return "TSR_OK";
  case TSR_ERR_IO: return "TSR_ERR_IO";
  case TSR_ERR_FORMAT: return "TSR_ERR_FORMAT";
  case TSR_ERR_VERSION: return "TSR_ERR_VERSION";
  case TSR_ERR_CORRUPT: return "TSR_ERR_CORRUPT";
  case TSR_ERR_INVALID_ARGUMENT: return "TSR_ERR_INVALID_ARGUMENT";
  case TSR_ERR_SHAPE_MISMATCH: return "TSR_ERR_SHAPE_MISMATCH";
  case TSR_ERR_DTYPE_MISMATCH: return "TSR_ERR_DTYPE_MISMATCH";
  case TSR_ERR_UNSUPPORTED_TARGET: return "TSR_ERR_UNSUPPORTED_TARGET";
  case TSR_ERR_OUT_OF_MEMORY: return "TSR_ERR_OUT_OF_MEMORY";
  case TSR_ERR_INTERNAL: return "TSR_ERR_INTERNAL";
  case TSR_ERR_DEVICE: return "TSR_ERR_DEVICE";
  case TSR_CODE_MAX_ENUM: break;
  }
  return "TSR_ERR_UNKNOWN";
}

//===--------------------------- versions and dtypes ----------------------===//

int tsr_runtime_api_version(void) { return TSR_RUNTIME_API_VERSION; }

uint32_t tsr_runtime_format_version(void) { return TSR_FORMAT_VERSION; }

const char *tsr_dtype_name(tsr_dtype dtype) { return dtypeName(dtype); }

size_t tsr_dtype_size(tsr_dtype dtype) { return dtypeSize(dtype); }

tsr_dtype tsr_dtype_from_name(const char *name) {
  return name ? dtypeFromName(name) : TSR_DTYPE_INVALID;
}

const char *tsr_role_name(tsr_role role) {
  switch (role) {
  case TSR_ROLE_INPUT: return "input";
  case TSR_ROLE_OUTPUT: return "output";
  case TSR_ROLE_WEIGHT: return "weight";
  case TSR_ROLE_MAX_ENUM: break;
  }
  return "invalid";
}

//===--------------------------- loading ----------------------------------===//

tsr_error *tsr_model_load_file(const char *path, tsr_model **out_model) {
  if (out_model)
    *out_model = nullptr;
  if (!path || !out_model)
    return makeError(TSR_ERR_INVALID_ARGUMENT,
                     !path ? "tsr_model_load_file: path is NULL"
                           : "tsr_model_load_file: out_model is NULL");
  return guarded([&]() -> tsr_error * {
    const std::string where = std::string("'") + path + "': ";
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return makeError(TSR_ERR_IO,
                       where + "cannot open: " + std::strerror(errno));
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st;
    if (::fstat(fd, &st) != 0)
      return makeError(TSR_ERR_IO,
                       where + "cannot stat: " + std::strerror(errno));
    if (!S_ISREG(st.st_mode))
      return makeError(TSR_ERR_IO, where + "not a regular file");
    const size_t size = size_t(st.st_size);
    AlignedBytes bytes = allocateAligned(size);
    if (!bytes)
      return makeError(TSR_ERR_OUT_OF_MEMORY,
                       where + "cannot allocate " + std::to_string(size) +
                           " bytes to read the artifact");
    size_t done = 0;
    while (done < size) {
      const ssize_t n = ::read(fd, bytes.get() + done, size - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return makeError(TSR_ERR_IO,
                         where + "read failed: " + std::strerror(errno));
      if (n == 0)
        break; // shrank while reading: validation reports the truncation
      done += size_t(n);
    }
    return loadFromBytes(std::move(bytes), done, where, out_model);
  });
}

tsr_error *tsr_model_load_memory(const void *data, size_t size,
                                 tsr_model **out_model) {
  if (out_model)
    *out_model = nullptr;
  if (!out_model)
    return makeError(TSR_ERR_INVALID_ARGUMENT,
                     "tsr_model_load_memory: out_model is NULL");
  if (!data && size != 0)
    return makeError(TSR_ERR_INVALID_ARGUMENT,
                     "tsr_model_load_memory: data is NULL but size is " +
                         std::to_string(size));
  return guarded([&]() -> tsr_error * {
    AlignedBytes bytes = allocateAligned(size);
    if (!bytes)
      return makeError(TSR_ERR_OUT_OF_MEMORY,
                       "cannot allocate " + std::to_string(size) +
                           " bytes for the artifact");
    if (size)
      std::memcpy(bytes.get(), data, size);
    return loadFromBytes(std::move(bytes), size, "", out_model);
  });
}

void tsr_model_free(tsr_model *model) { delete model; }

//===--------------------------- manifest ---------------------------------===//

const char *tsr_model_name(const tsr_model *model) {
  return model ? model->artifact.model.c_str() : nullptr;
}
const char *tsr_model_producer(const tsr_model *model) {
  return model ? model->artifact.producer.c_str() : nullptr;
}
const char *tsr_model_target(const tsr_model *model) {
  return model ? model->artifact.target.c_str() : nullptr;
}
const char *tsr_model_entry(const tsr_model *model) {
  return model ? model->artifact.entry.c_str() : nullptr;
}
const char *tsr_model_manifest_json(const tsr_model *model) {
  return model ? model->artifact.manifestJson.c_str() : nullptr;
}
uint32_t tsr_model_format_version(const tsr_model *model) {
  return model ? model->artifact.formatVersion : 0;
}

//===--------------------------- signature --------------------------------===//

size_t tsr_model_num_inputs(const tsr_model *model) {
  return model ? model->artifact.inputs.size() : 0;
}
size_t tsr_model_num_outputs(const tsr_model *model) {
  return model ? model->artifact.outputs.size() : 0;
}

size_t tsr_model_num_tensors(const tsr_model *model, tsr_role role) {
  if (!model)
    return 0;
  switch (role) {
  case TSR_ROLE_INPUT: return model->artifact.inputs.size();
  case TSR_ROLE_OUTPUT: return model->artifact.outputs.size();
  case TSR_ROLE_WEIGHT: return model->artifact.weights.size();
  case TSR_ROLE_MAX_ENUM: break;
  }
  return 0;
}

int64_t tsr_model_tensor_index(const tsr_model *model, tsr_role role,
                               const char *name) {
  if (!name)
    return -1;
  const size_t n = tsr_model_num_tensors(model, role);
  for (size_t i = 0; i < n; ++i)
    if (tensorSpec(model, role, i)->name == name)
      return int64_t(i);
  return -1;
}

const char *tsr_model_tensor_name(const tsr_model *model, tsr_role role,
                                  size_t index) {
  const TensorSpec *t = tensorSpec(model, role, index);
  return t ? t->name.c_str() : nullptr;
}

tsr_dtype tsr_model_tensor_dtype(const tsr_model *model, tsr_role role,
                                 size_t index) {
  const TensorSpec *t = tensorSpec(model, role, index);
  return t ? t->dtype : TSR_DTYPE_INVALID;
}

int64_t tsr_model_tensor_rank(const tsr_model *model, tsr_role role,
                              size_t index) {
  const TensorSpec *t = tensorSpec(model, role, index);
  return t ? int64_t(t->shape.size()) : -1;
}

const int64_t *tsr_model_tensor_dims(const tsr_model *model, tsr_role role,
                                     size_t index) {
  static const int64_t kNoDims[1] = {0};
  const TensorSpec *t = tensorSpec(model, role, index);
  if (!t)
    return nullptr;
  return t->shape.empty() ? kNoDims : t->shape.data();
}

int64_t tsr_model_tensor_element_count(const tsr_model *model, tsr_role role,
                                       size_t index) {
  const TensorSpec *t = tensorSpec(model, role, index);
  return t ? t->elementCount : -1;
}

size_t tsr_model_tensor_byte_size(const tsr_model *model, tsr_role role,
                                  size_t index) {
  const TensorSpec *t = tensorSpec(model, role, index);
  return t ? t->byteSize : 0;
}

} // extern "C"
