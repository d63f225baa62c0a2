//===- test/unit/runtime/ModelTest.cpp - Loading and running models -------===//
//
// Real artifacts: the test model's C source is compiled with the C compiler
// CMake found, packed with the test writer, loaded and run.
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestUtil.h"

#include <sys/stat.h>
#include <thread>

using namespace tessera::test;
using nlohmann::json;

namespace {

/// Caller-side buffers for one run of the test model.
struct Buffers {
  std::vector<float> x = testX();
  std::vector<int32_t> b = testB();
  std::vector<float> y = std::vector<float>(6, -1.0f);
  double total = -1;
  int64_t xShape[2] = {2, 3};
  int64_t bShape[1] = {3};
  int64_t yShape[2] = {2, 3};

  std::vector<tsr_tensor> inputs(bool named = true) {
    return {{named ? "x" : nullptr, TSR_DTYPE_F32, 2, xShape, x.data(), 24},
            {named ? "b" : nullptr, TSR_DTYPE_I32, 1, bShape, b.data(), 12}};
  }
  std::vector<tsr_tensor> outputs(bool named = true) {
    return {{named ? "y" : nullptr, TSR_DTYPE_F32, 2, yShape, y.data(), 24},
            {named ? "total" : nullptr, TSR_DTYPE_F64, 0, nullptr, &total, 8}};
  }
  void expectResults() const {
    const std::vector<float> want = expectedY(x, b);
    for (size_t i = 0; i < 6; ++i)
      EXPECT_EQ(y[i], want[i]) << "y[" << i << "]";
    EXPECT_EQ(total, expectedTotal(want));
  }
};

tsr_error *run(tsr_model *m, std::vector<tsr_tensor> in,
               std::vector<tsr_tensor> out) {
  return tsr_model_run(m, in.data(), in.size(), out.data(), out.size());
}

std::string writeTemp(const Bytes &bytes, const char *suffix) {
  std::string path = tempDir() + "/tessera-model-XXXXXX" + suffix;
  const int fd = mkstemps(path.data(), int(strlen(suffix)));
  if (fd >= 0)
    close(fd);
  writeFile(path, bytes);
  return path;
}

class ModelTest : public ::testing::Test {
protected:
  void SetUp() override {
    TSR_REQUIRE_HOST_CODE(so);
    artifact = buildTestArtifact(so);
    ASSERT_TSR_OK(
        tsr_model_load_memory(artifact.data(), artifact.size(), &model));
    ASSERT_NE(model, nullptr);
  }
  void TearDown() override { tsr_model_free(model); }

  Bytes artifact;
  tsr_model *model = nullptr;
};

} // namespace

TEST(RuntimeApi, VersionsDtypesAndCodes) {
  EXPECT_EQ(tsr_runtime_api_version(), TSR_RUNTIME_API_VERSION);
  EXPECT_EQ(tsr_runtime_format_version(), TSR_FORMAT_VERSION);
  EXPECT_STREQ(tsr_dtype_name(TSR_DTYPE_BF16), "bf16");
  EXPECT_STREQ(tsr_dtype_name(tsr_dtype(999)), "invalid");
  EXPECT_EQ(tsr_dtype_size(TSR_DTYPE_F64), 8u);
  EXPECT_EQ(tsr_dtype_size(TSR_DTYPE_BOOL), 1u);
  EXPECT_EQ(tsr_dtype_size(TSR_DTYPE_INVALID), 0u);
  EXPECT_EQ(tsr_dtype_from_name("i16"), TSR_DTYPE_I16);
  EXPECT_EQ(tsr_dtype_from_name("float"), TSR_DTYPE_INVALID);
  EXPECT_EQ(tsr_dtype_from_name(nullptr), TSR_DTYPE_INVALID);
  EXPECT_STREQ(tsr_code_name(TSR_ERR_SHAPE_MISMATCH), "TSR_ERR_SHAPE_MISMATCH");
  EXPECT_STREQ(tsr_role_name(TSR_ROLE_WEIGHT), "weight");
  EXPECT_STREQ(tsr_error_message(nullptr), "");
  EXPECT_EQ(tsr_error_code(nullptr), TSR_OK);
  tsr_error_free(nullptr);
  tsr_model_free(nullptr);
}

TEST(RuntimeApi, NullArgumentsAreErrorsNotCrashes) {
  tsr_model *m = nullptr;
  EXPECT_TSR_ERROR(tsr_model_load_file(nullptr, &m), TSR_ERR_INVALID_ARGUMENT,
                   "path is NULL");
  EXPECT_TSR_ERROR(tsr_model_load_file("x.tsr", nullptr),
                   TSR_ERR_INVALID_ARGUMENT, "out_model is NULL");
  EXPECT_TSR_ERROR(tsr_model_load_memory(nullptr, 5, &m),
                   TSR_ERR_INVALID_ARGUMENT, "data is NULL but size is 5");
  EXPECT_TSR_ERROR(tsr_model_run(nullptr, nullptr, 0, nullptr, 0),
                   TSR_ERR_INVALID_ARGUMENT, "model is NULL");
  EXPECT_EQ(tsr_model_name(nullptr), nullptr);
  EXPECT_EQ(tsr_model_num_inputs(nullptr), 0u);
  EXPECT_EQ(tsr_model_tensor_name(nullptr, TSR_ROLE_INPUT, 0), nullptr);
  EXPECT_EQ(tsr_model_tensor_rank(nullptr, TSR_ROLE_INPUT, 0), -1);
}

TEST(RuntimeApi, MissingFileAndDirectory) {
  tsr_model *m = nullptr;
  EXPECT_TSR_ERROR(tsr_model_load_file("/nonexistent/dir/model.tsr", &m),
                   TSR_ERR_IO,
                   "'/nonexistent/dir/model.tsr': cannot open: No such file");
  EXPECT_EQ(m, nullptr);
  EXPECT_TSR_ERROR(tsr_model_load_file("/", &m), TSR_ERR_IO,
                   "'/': not a regular file");
}

TEST_F(ModelTest, ReportsSignatureAndManifest) {
  EXPECT_STREQ(tsr_model_name(model), "test_model");
  EXPECT_STREQ(tsr_model_producer(model), "tessera-test");
  EXPECT_STREQ(tsr_model_target(model), "cpu");
  EXPECT_STREQ(tsr_model_entry(model), "tessera_test_main");
  EXPECT_EQ(tsr_model_format_version(model), TSR_FORMAT_VERSION);
  EXPECT_EQ(json::parse(tsr_model_manifest_json(model)), testManifest());

  ASSERT_EQ(tsr_model_num_inputs(model), 2u);
  ASSERT_EQ(tsr_model_num_outputs(model), 2u);
  EXPECT_EQ(tsr_model_num_tensors(model, TSR_ROLE_WEIGHT), 2u);
  EXPECT_EQ(tsr_model_num_tensors(model, tsr_role(7)), 0u);

  EXPECT_STREQ(tsr_model_tensor_name(model, TSR_ROLE_INPUT, 1), "b");
  EXPECT_EQ(tsr_model_tensor_dtype(model, TSR_ROLE_INPUT, 1), TSR_DTYPE_I32);
  EXPECT_EQ(tsr_model_tensor_rank(model, TSR_ROLE_INPUT, 0), 2);
  const int64_t *dims = tsr_model_tensor_dims(model, TSR_ROLE_INPUT, 0);
  ASSERT_NE(dims, nullptr);
  EXPECT_EQ(dims[0], 2);
  EXPECT_EQ(dims[1], 3);
  EXPECT_EQ(tsr_model_tensor_element_count(model, TSR_ROLE_INPUT, 0), 6);
  EXPECT_EQ(tsr_model_tensor_byte_size(model, TSR_ROLE_INPUT, 0), 24u);

  // A scalar: rank 0, one element, non-NULL dims.
  EXPECT_EQ(tsr_model_tensor_rank(model, TSR_ROLE_OUTPUT, 1), 0);
  EXPECT_NE(tsr_model_tensor_dims(model, TSR_ROLE_OUTPUT, 1), nullptr);
  EXPECT_EQ(tsr_model_tensor_element_count(model, TSR_ROLE_OUTPUT, 1), 1);
  EXPECT_EQ(tsr_model_tensor_byte_size(model, TSR_ROLE_OUTPUT, 1), 8u);
  EXPECT_STREQ(tsr_model_tensor_name(model, TSR_ROLE_WEIGHT, 1), "scale");

  EXPECT_EQ(tsr_model_tensor_index(model, TSR_ROLE_OUTPUT, "total"), 1);
  EXPECT_EQ(tsr_model_tensor_index(model, TSR_ROLE_OUTPUT, "x"), -1);
  EXPECT_EQ(tsr_model_tensor_index(model, TSR_ROLE_OUTPUT, nullptr), -1);

  // Out of range.
  EXPECT_EQ(tsr_model_tensor_name(model, TSR_ROLE_INPUT, 2), nullptr);
  EXPECT_EQ(tsr_model_tensor_dtype(model, TSR_ROLE_OUTPUT, 9),
            TSR_DTYPE_INVALID);
  EXPECT_EQ(tsr_model_tensor_rank(model, TSR_ROLE_WEIGHT, 2), -1);
  EXPECT_EQ(tsr_model_tensor_dims(model, TSR_ROLE_INPUT, 2), nullptr);
  EXPECT_EQ(tsr_model_tensor_element_count(model, TSR_ROLE_INPUT, 2), -1);
  EXPECT_EQ(tsr_model_tensor_byte_size(model, TSR_ROLE_INPUT, 2), 0u);
}

TEST_F(ModelTest, RunsByName) {
  Buffers buf;
  ASSERT_TSR_OK(run(model, buf.inputs(), buf.outputs()));
  buf.expectResults();
}

TEST_F(ModelTest, RunsByPositionAndInAnyNamedOrder) {
  Buffers positional;
  ASSERT_TSR_OK(run(model, positional.inputs(false), positional.outputs(false)));
  positional.expectResults();

  Buffers reordered;
  std::vector<tsr_tensor> in = reordered.inputs(), out = reordered.outputs();
  std::swap(in[0], in[1]);
  std::swap(out[0], out[1]);
  ASSERT_TSR_OK(run(model, in, out));
  reordered.expectResults();
}

TEST_F(ModelTest, RunsRepeatedlyWithNewInputs) {
  for (int round = 0; round < 5; ++round) {
    Buffers buf;
    for (float &v : buf.x)
      v += float(round);
    buf.b[2] = -round;
    ASSERT_TSR_OK(run(model, buf.inputs(), buf.outputs()));
    buf.expectResults();
  }
}

TEST_F(ModelTest, RunsFromSeveralThreads) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        Buffers buf;
        buf.x[0] = float(t * 1000 + i);
        ErrorHolder e(run(model, buf.inputs(), buf.outputs()));
        if (e.error || buf.y != expectedY(buf.x, buf.b))
          ++failures[t];
      }
    });
  for (std::thread &t : threads)
    t.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST_F(ModelTest, LoadsFromFile) {
  const std::string path = writeTemp(artifact, ".tsr");
  tsr_model *fromFile = nullptr;
  EXPECT_TSR_OK(tsr_model_load_file(path.c_str(), &fromFile));
  ASSERT_NE(fromFile, nullptr);
  Buffers buf;
  EXPECT_TSR_OK(run(fromFile, buf.inputs(), buf.outputs()));
  buf.expectResults();
  tsr_model_free(fromFile);

  // A truncated file names the path and both sizes.
  Bytes cut(artifact.begin(), artifact.begin() + long(artifact.size() / 2));
  writeFile(path, cut);
  EXPECT_TSR_ERROR(tsr_model_load_file(path.c_str(), &fromFile),
                   TSR_ERR_CORRUPT,
                   "'" + path + "': artifact truncated: header says " +
                       std::to_string(artifact.size()) + " bytes, file has " +
                       std::to_string(cut.size()));
  std::remove(path.c_str());
}

TEST_F(ModelTest, ManyModelsLoadedTogetherAndInTurn) {
  // Separate copies of the code, and no stale handle reuse across loads.
  std::vector<tsr_model *> models;
  for (int i = 0; i < 8; ++i) {
    tsr_model *m = nullptr;
    ASSERT_TSR_OK(tsr_model_load_memory(artifact.data(), artifact.size(), &m));
    models.push_back(m);
  }
  for (int round = 0; round < 16; ++round) {
    tsr_model_free(models[size_t(round) % models.size()]);
    tsr_model *m = nullptr;
    ASSERT_TSR_OK(tsr_model_load_memory(artifact.data(), artifact.size(), &m));
    models[size_t(round) % models.size()] = m;
  }
  for (tsr_model *m : models) {
    Buffers buf;
    EXPECT_TSR_OK(run(m, buf.inputs(), buf.outputs()));
    buf.expectResults();
    tsr_model_free(m);
  }
}

TEST_F(ModelTest, ShapeMismatchNamesTheInputAndBothShapes) {
  Buffers buf;
  std::vector<tsr_tensor> in = buf.inputs();
  int64_t wrong[2] = {2, 4};
  in[0].shape = wrong;
  EXPECT_TSR_ERROR(run(model, in, buf.outputs()), TSR_ERR_SHAPE_MISMATCH,
                   "input 'x': expected shape [2,3] (f32), got [2,4]");
  in = buf.inputs();
  in[0].rank = 1;
  EXPECT_TSR_ERROR(run(model, in, buf.outputs()), TSR_ERR_SHAPE_MISMATCH,
                   "input 'x': expected shape [2,3] (f32), got [2]");
  std::vector<tsr_tensor> out = buf.outputs();
  out[1].rank = 1;
  out[1].shape = buf.bShape;
  EXPECT_TSR_ERROR(run(model, buf.inputs(), out), TSR_ERR_SHAPE_MISMATCH,
                   "output 'total': expected shape [] (f64), got [3]");
  in = buf.inputs();
  in[0].rank = -1;
  EXPECT_TSR_ERROR(run(model, in, buf.outputs()), TSR_ERR_SHAPE_MISMATCH,
                   "input 'x': rank -1 is invalid");
  in = buf.inputs();
  in[0].shape = nullptr;
  EXPECT_TSR_ERROR(run(model, in, buf.outputs()), TSR_ERR_INVALID_ARGUMENT,
                   "input 'x': shape is NULL but rank is 2");
}

TEST_F(ModelTest, DtypeMismatch) {
  Buffers buf;
  std::vector<tsr_tensor> in = buf.inputs();
  in[1].dtype = TSR_DTYPE_I64;
  EXPECT_TSR_ERROR(run(model, in, buf.outputs()), TSR_ERR_DTYPE_MISMATCH,
                   "input 'b': expected dtype i32, got i64");
  in[1].dtype = tsr_dtype(77);
  EXPECT_TSR_ERROR(run(model, in, buf.outputs()), TSR_ERR_DTYPE_MISMATCH,
                   "got invalid (77)");
  const int minusOne = -1; // what a C caller may store
  std::memcpy(&in[1].dtype, &minusOne, sizeof minusOne);
  EXPECT_TSR_ERROR(run(model, in, buf.outputs()), TSR_ERR_DTYPE_MISMATCH,
                   "got invalid (-1)");
}

TEST_F(ModelTest, BufferSizeDataAndAlignment) {
  Buffers buf;
  std::vector<tsr_tensor> out = buf.outputs();
  out[0].byte_size = 20;
  EXPECT_TSR_ERROR(run(model, buf.inputs(), out), TSR_ERR_SHAPE_MISMATCH,
                   "output 'y': buffer has 20 bytes, expected at least 24 for "
                   "shape [2,3] (f32)");
  std::vector<tsr_tensor> in = buf.inputs();
  in[0].data = nullptr;
  EXPECT_TSR_ERROR(run(model, in, buf.outputs()), TSR_ERR_INVALID_ARGUMENT,
                   "input 'x': data is NULL");
  std::vector<unsigned char> raw(64);
  in = buf.inputs();
  const uintptr_t addr = reinterpret_cast<uintptr_t>(raw.data());
  in[0].data = raw.data() + (4 - addr % 4) % 4 + 1; // 4-aligned + 1
  EXPECT_TSR_ERROR(run(model, in, buf.outputs()), TSR_ERR_INVALID_ARGUMENT,
                   "input 'x': data is not aligned to 4 bytes (f32)");
  // A larger buffer than needed is fine.
  Buffers big;
  std::vector<tsr_tensor> bigOut = big.outputs();
  std::vector<float> roomy(100);
  bigOut[0].data = roomy.data();
  bigOut[0].byte_size = roomy.size() * sizeof(float);
  EXPECT_TSR_OK(run(model, big.inputs(), bigOut));
  EXPECT_EQ(roomy[0], expectedY(big.x, big.b)[0]);
}

TEST_F(ModelTest, WrongNumberOrBindingOfTensors) {
  Buffers buf;
  std::vector<tsr_tensor> in = buf.inputs();
  in.pop_back();
  EXPECT_TSR_ERROR(run(model, in, buf.outputs()), TSR_ERR_INVALID_ARGUMENT,
                   "missing input 'b' (expected shape [3] (i32)); the model "
                   "has 2 inputs, got 1");
  in = buf.inputs(false);
  in.push_back(in[0]);
  EXPECT_TSR_ERROR(run(model, in, buf.outputs()), TSR_ERR_INVALID_ARGUMENT,
                   "input #2 (unnamed): the model has only 2 inputs");
  in = buf.inputs();
  in[1].name = "z";
  EXPECT_TSR_ERROR(run(model, in, buf.outputs()), TSR_ERR_INVALID_ARGUMENT,
                   "input #1: the model has no input named 'z' (its inputs: "
                   "'x', 'b')");
  in = buf.inputs();
  in[1].name = "x";
  EXPECT_TSR_ERROR(run(model, in, buf.outputs()), TSR_ERR_INVALID_ARGUMENT,
                   "input 'x' is given more than once (entries #0 and #1)");
  EXPECT_TSR_ERROR(tsr_model_run(model, nullptr, 2, nullptr, 0),
                   TSR_ERR_INVALID_ARGUMENT, "inputs is NULL but its count is 2");
  EXPECT_TSR_ERROR(run(model, buf.inputs(), {}), TSR_ERR_INVALID_ARGUMENT,
                   "missing output 'y'");
}

TEST_F(ModelTest, ReportsEveryProblemAtOnce) {
  Buffers buf;
  std::vector<tsr_tensor> in = buf.inputs();
  int64_t wrong[2] = {3, 2};
  in[0].shape = wrong;
  in[1].dtype = TSR_DTYPE_F32;
  std::vector<tsr_tensor> out = buf.outputs();
  out.pop_back();
  ErrorHolder e(run(model, in, out));
  ASSERT_NE(e.error, nullptr);
  EXPECT_EQ(e.code(), TSR_ERR_SHAPE_MISMATCH); // the first problem's code
  for (const char *part :
       {"input 'x': expected shape [2,3] (f32), got [3,2]",
        "input 'b': expected dtype i32, got f32", "missing output 'total'"})
    EXPECT_NE(e.message().find(part), std::string::npos)
        << "lacks \"" << part << "\": " << e.message();
  // Nothing was written.
  EXPECT_EQ(buf.y[0], -1.0f);
}

TEST(ModelLoad, HostCodeThatIsNotASharedObject) {
  Bytes a = buildTestArtifact(toBytes("this is not an ELF file"));
  expectLoadError(a, TSR_ERR_INTERNAL, "cannot load the artifact's host code: ");
}

TEST(ModelLoad, EntrySymbolMissing) {
  TSR_REQUIRE_HOST_CODE(so);
  json m = testManifest();
  m["entry"] = "no_such_entry";
  expectLoadError(buildTestArtifact(so, m), TSR_ERR_FORMAT,
                  "the host code does not define the entry symbol "
                  "'no_such_entry'");
}

TEST(ModelLoad, TempFileFallbackWhenMemfdIsUnavailable) {
  TSR_REQUIRE_HOST_CODE(so);
  const Bytes a = buildTestArtifact(so);
  setenv("TSR_RUNTIME_NO_MEMFD", "1", 1);
  tsr_model *m = nullptr;
  ErrorHolder e(tsr_model_load_memory(a.data(), a.size(), &m));
  unsetenv("TSR_RUNTIME_NO_MEMFD");
  ASSERT_EQ(e.error, nullptr) << e.describe();
  Buffers buf;
  EXPECT_TSR_OK(run(m, buf.inputs(), buf.outputs()));
  buf.expectResults();
  tsr_model_free(m);
}

TEST(ModelLoad, UnloadableCodeIsNeverReusedForAnotherModel) {
  // Objects linked with -z nodelete stay loaded after dlclose, still known
  // to the dynamic loader by their /proc/self/fd/N path. When the next model
  // gets the same fd number, it must still get its own code.
  TSR_REQUIRE_HOST_CODE(so);
  (void)so; // compiled below with extra flags
  std::string negated = testModelSource();
  const std::string store = "y[i * 3 + j] = v;";
  negated.replace(negated.find(store), store.size(), "y[i * 3 + j] = -v;");
  Bytes first, second;
  std::string error;
  ASSERT_TRUE(compileSharedObject(testCompiler(), testModelSource(), tempDir(),
                                  first, error, {"-Wl,-z,nodelete"}))
      << error;
  ASSERT_TRUE(compileSharedObject(testCompiler(), negated, tempDir(), second,
                                  error, {"-Wl,-z,nodelete"}))
      << error;
  for (int round = 0; round < 3; ++round) {
    for (const Bytes *code : {&first, &second}) {
      const Bytes a = buildTestArtifact(*code);
      tsr_model *m = nullptr;
      ASSERT_TSR_OK(tsr_model_load_memory(a.data(), a.size(), &m));
      Buffers buf;
      EXPECT_TSR_OK(run(m, buf.inputs(), buf.outputs()));
      const float want = expectedY(buf.x, buf.b)[0];
      EXPECT_EQ(buf.y[0], code == &first ? want : -want)
          << "round " << round << ": got another model's code";
      tsr_model_free(m);
    }
  }
}
