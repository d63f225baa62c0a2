// tessera/Tessera.hpp, the header-only C++ wrapper: compile from memory,
// load, run against relu(x @ w) computed here; errors as exceptions with
// their codes; diagnostics through a std::function, whose exceptions come
// back out of the compile call.
#include "tessera/Tessera.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

static int failures = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,    \
                   #cond);                                                     \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

static const char *kModel = R"(
func.func @main(%x: tensor<2x3xf32> {tessera.name = "x"}) ->
    (tensor<2x2xf32> {tessera.name = "y"}) {
  %w = tessera.constant dense<[[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0]]> : tensor<3x2xf32> loc("w")
  %m = tessera.matmul %x, %w : tensor<2x3xf32>, tensor<3x2xf32> -> tensor<2x2xf32>
  %y = tessera.relu %m : tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
)";

template <typename F> static int codeOf(F &&f, bool &fromCompiler) {
  try {
    f();
  } catch (const tessera::Error &e) {
    fromCompiler = e.fromCompiler();
    return e.code();
  }
  return 0;
}

int main() {
  const float w[3][2] = {{1, -2}, {3, 4}, {-5, 6}};
  int remarks = 0;
  tessera::Compiler compiler({{"verbose", "1"}},
                             [&](const tsc_diagnostic &d) {
                               remarks += d.severity == TSC_SEVERITY_REMARK;
                             });
  std::string bytes = compiler.compileBuffer(kModel, std::strlen(kModel), "mlir");
  CHECK(remarks > 0);
  tessera::Model model = tessera::Model::fromMemory(bytes);
  CHECK(model.numInputs() == 1 && model.numOutputs() == 1);
  CHECK(model.input(0).name == "x" && model.input(0).elements() == 6);
  CHECK(model.output(0).shape == std::vector<int64_t>({2, 2}));
  CHECK(model.target() == "cpu");

  float x[6] = {1, 0.5f, -1, 2, -3, 0.25f}, y[4] = {};
  model.run({model.input(0).bind(x)}, {model.output(0).bind(y)});
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      float r = 0;
      for (int k = 0; k < 3; ++k)
        r += x[i * 3 + k] * w[k][j];
      CHECK(std::fabs(y[i * 2 + j] - std::fmax(r, 0.0f)) < 1e-5f);
    }

  bool fromCompiler = false;
  CHECK(codeOf([] { tessera::Compiler({{"precision", "f8"}}); }, fromCompiler) ==
        TSC_ERR_INVALID_OPTION);
  CHECK(fromCompiler);
  CHECK(codeOf([&] { compiler.compileBuffer("junk", 4, "mlir"); }, fromCompiler) ==
        TSC_ERR_COMPILE);
  CHECK(codeOf([] { tessera::Model::fromMemory(std::string("not an artifact")); },
               fromCompiler) == TSR_ERR_FORMAT);
  CHECK(!fromCompiler);
  float small[2] = {};
  tsr_tensor bad = model.input(0).bind(small);
  int64_t badShape[2] = {1, 2};
  bad.shape = badShape;
  bad.byte_size = sizeof small;
  CHECK(codeOf([&] { model.run({bad}, {model.output(0).bind(y)}); }, fromCompiler) ==
        TSR_ERR_SHAPE_MISMATCH);

  // A throwing handler: its exception comes out of the compile call.
  tessera::Compiler throwing({{"verbose", "1"}}, [](const tsc_diagnostic &) {
    throw std::logic_error("from the handler");
  });
  bool caught = false;
  try {
    throwing.compileBuffer(kModel, std::strlen(kModel), "mlir");
  } catch (const std::logic_error &e) {
    caught = std::string(e.what()) == "from the handler";
  }
  CHECK(caught);

  if (failures == 0)
    std::printf("C++ API: all checks passed\n");
  return failures ? 1 : 0;
}
