//===- tessera/Tessera.hpp - C++ wrapper of the C APIs ----------*- C++ -*-===//
//
// Header-only RAII over tessera/Compiler.h and tessera/Runtime.h (C++14):
// errors
// become tessera::Error exceptions (with the C code), handles free
// themselves, options are a list of name/value pairs and diagnostics a
// std::function. Nothing here is compiled into the libraries: link
// Tessera::compiler (for Compiler) and Tessera::runtime (for Model).
//
//   tessera::Compiler compiler({{"precision", "bf16"}});
//   tessera::Model model = tessera::Model::fromMemory(
//       compiler.compileFile("model.onnx"));
//   std::vector<float> x(model.input(0).elements()), y(model.output(0).elements());
//   model.run({model.input(0).bind(x.data())}, {model.output(0).bind(y.data())});
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_TESSERA_HPP
#define TESSERA_TESSERA_HPP

#include "tessera/Runtime.h"

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tessera {

/// An error from either library: what() is its message, code() the C code
/// (tsr_code or tsc_code, as `fromCompiler` says).
class Error : public std::runtime_error {
public:
  Error(std::string message, int code, bool fromCompiler)
      : std::runtime_error(std::move(message)), code_(code),
        fromCompiler_(fromCompiler) {}
  int code() const { return code_; }
  bool fromCompiler() const { return fromCompiler_; }

private:
  int code_;
  bool fromCompiler_;
};

namespace detail {
inline void check(tsr_error *e) {
  if (!e)
    return;
  Error err(tsr_error_message(e), tsr_error_code(e), false);
  tsr_error_free(e);
  throw err;
}
} // namespace detail

/// One model tensor's signature entry; bind() makes a tsr_tensor of it.
struct TensorInfo {
  std::string name;
  tsr_dtype dtype = TSR_DTYPE_INVALID;
  std::vector<int64_t> shape;

  int64_t elements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  size_t bytes() const { return size_t(elements()) * tsr_dtype_size(dtype); }
  /// A binding of `data` (elements() values of dtype) by name; the tensor
  /// refers to this TensorInfo's name and shape, so keep it alive.
  tsr_tensor bind(const void *data) const {
    tsr_tensor t;
    t.name = name.c_str();
    t.dtype = dtype;
    t.rank = int64_t(shape.size());
    t.shape = shape.data();
    t.data = const_cast<void *>(data);
    t.byte_size = bytes();
    return t;
  }
};

/// A loaded artifact (tsr_model). Runs may come from several threads.
class Model {
public:
  static Model fromFile(const std::string &path) {
    tsr_model *m = nullptr;
    detail::check(tsr_model_load_file(path.c_str(), &m));
    return Model(m);
  }
  static Model fromMemory(const void *data, size_t size) {
    tsr_model *m = nullptr;
    detail::check(tsr_model_load_memory(data, size, &m));
    return Model(m);
  }
  static Model fromMemory(const std::string &bytes) {
    return fromMemory(bytes.data(), bytes.size());
  }

  size_t numInputs() const { return inputs_.size(); }
  size_t numOutputs() const { return outputs_.size(); }
  const TensorInfo &input(size_t i) const { return inputs_.at(i); }
  const TensorInfo &output(size_t i) const { return outputs_.at(i); }
  std::string target() const { return tsr_model_target(model_.get()); }
  std::string manifestJson() const {
    return tsr_model_manifest_json(model_.get());
  }

  /// Runs with caller buffers (no copies on the CPU); `options` as in
  /// tsr_model_run_with_options.
  void run(const std::vector<tsr_tensor> &inputs,
           std::vector<tsr_tensor> outputs,
           const tsr_run_options *options = nullptr) const {
    detail::check(tsr_model_run_with_options(model_.get(), options,
                                             inputs.data(), inputs.size(),
                                             outputs.data(), outputs.size()));
  }

  tsr_model *get() const { return model_.get(); }

private:
  explicit Model(tsr_model *m) : model_(m, &tsr_model_free) {
    inputs_ = read(TSR_ROLE_INPUT);
    outputs_ = read(TSR_ROLE_OUTPUT);
  }
  std::vector<TensorInfo> read(tsr_role role) const {
    std::vector<TensorInfo> out;
    const tsr_model *m = model_.get();
    for (size_t i = 0, n = tsr_model_num_tensors(m, role); i < n; ++i) {
      TensorInfo t;
      t.name = tsr_model_tensor_name(m, role, i);
      t.dtype = tsr_model_tensor_dtype(m, role, i);
      const int64_t *dims = tsr_model_tensor_dims(m, role, i);
      t.shape.assign(dims, dims + tsr_model_tensor_rank(m, role, i));
      out.push_back(std::move(t));
    }
    return out;
  }

  std::shared_ptr<tsr_model> model_;
  std::vector<TensorInfo> inputs_, outputs_;
};

} // namespace tessera

// The compiler half, when its header is available (Tessera::compiler).
#if defined(__has_include)
#if __has_include("tessera/Compiler.h")
#include "tessera/Compiler.h"

namespace tessera {

namespace detail {
inline void check(tsc_error *e) {
  if (!e)
    return;
  Error err(tsc_error_message(e), tsc_error_code(e), true);
  tsc_error_free(e);
  throw err;
}
} // namespace detail

/// A compile session (tsc_session) with fixed options.
class Compiler {
public:
  using Options = std::vector<std::pair<std::string, std::string>>;
  using Handler = std::function<void(const tsc_diagnostic &)>;

  /// `handler` receives every diagnostic; an exception it throws is
  /// rethrown from the compile call once the library has returned.
  explicit Compiler(const Options &options = {}, Handler handler = {})
      : handler_(std::make_unique<Sink>()) {
    handler_->fn = std::move(handler);
    tsc_options *o = nullptr;
    detail::check(tsc_options_create(&o));
    std::unique_ptr<tsc_options, void (*)(tsc_options *)> guard(
        o, &tsc_options_free);
    for (const auto &option : options)
      detail::check(
          tsc_options_set(o, option.first.c_str(), option.second.c_str()));
    tsc_session *s = nullptr;
    detail::check(tsc_session_create(o, &s));
    session_.reset(s);
    if (handler_->fn)
      tsc_session_set_diagnostic_handler(s, &Compiler::forward,
                                         handler_.get());
  }

  /// The artifact (or IR, per "emit") of a model file.
  std::string compileFile(const std::string &path) {
    tsc_output *out = nullptr;
    tsc_error *e = tsc_compile_file(session_.get(), path.c_str(), &out);
    finish(e, out);
    return take(out);
  }
  /// The same from memory; format "onnx" or "mlir".
  std::string compileBuffer(const void *data, size_t size,
                            const std::string &format = "onnx",
                            const std::string &name = "<buffer>") {
    tsc_output *out = nullptr;
    tsc_error *e = tsc_compile_buffer(session_.get(), data, size,
                                      format.c_str(), name.c_str(), &out);
    finish(e, out);
    return take(out);
  }
  void compileFileToPath(const std::string &input, const std::string &output) {
    finish(tsc_compile_file_to_path(session_.get(), input.c_str(),
                                    output.c_str()));
  }

private:
  struct Sink {
    Handler fn;
    std::exception_ptr pending;
  };
  // No exception may unwind through the library: kept, rethrown in finish.
  static void forward(const tsc_diagnostic *d, void *user) {
    Sink *sink = static_cast<Sink *>(user);
    try {
      sink->fn(*d);
    } catch (...) {
      if (!sink->pending)
        sink->pending = std::current_exception();
    }
  }
  void finish(tsc_error *e, tsc_output *out = nullptr) {
    if (std::exception_ptr p = std::exchange(handler_->pending, nullptr)) {
      tsc_error_free(e);
      tsc_output_free(out);
      std::rethrow_exception(p);
    }
    detail::check(e);
  }
  static std::string take(tsc_output *out) {
    std::unique_ptr<tsc_output, void (*)(tsc_output *)> owned(
        out, &tsc_output_free);
    return std::string(static_cast<const char *>(tsc_output_data(out)),
                       tsc_output_size(out));
  }

  std::unique_ptr<Sink> handler_;
  std::unique_ptr<tsc_session, void (*)(tsc_session *)> session_{
      nullptr, &tsc_session_free};
};

} // namespace tessera
#endif
#endif

#endif // TESSERA_TESSERA_HPP
