//===- test/unit/runtime/ArtifactParserTest.cpp - Artifact validation -----===//
//
// Every way an artifact can be malformed, through the public load path (which
// fails before any code is loaded) and the internal parser. The host code
// here is a placeholder: these artifacts never get as far as dlopen.
//
//===----------------------------------------------------------------------===//

#include "ArtifactParser.h"
#include "Crc32.h"
#include "RuntimeTestUtil.h"

#include <functional>
#include <limits>

using namespace tessera::test;
using nlohmann::json;
using tessera::runtime::Error;
using tessera::runtime::ParsedArtifact;

namespace {

Bytes placeholderCode() { return toBytes("placeholder host code, never loaded"); }

Bytes artifactWith(const json &manifest) {
  return buildTestArtifact(placeholderCode(), manifest);
}

Bytes artifactWithManifestText(const std::string &text) {
  return writeArtifact({{TSR_SECTION_MANIFEST, toBytes(text)},
                        {TSR_SECTION_HOST_CODE, placeholderCode()},
                        {TSR_SECTION_WEIGHTS, testWeights()}});
}

ParsedArtifact parseOk(const Bytes &a) {
  ParsedArtifact parsed;
  Error err;
  EXPECT_TRUE(tsr_internal_parse_artifact(a.data(), a.size(), &parsed, &err))
      << err.message;
  return parsed;
}

} // namespace

TEST(Crc32, MatchesZlibCheckValue) {
  const char *check = "123456789";
  EXPECT_EQ(tessera::runtime::crc32(0, check, 9), 0xCBF43926u);
  EXPECT_EQ(refCrc32(reinterpret_cast<const uint8_t *>(check), 9), 0xCBF43926u);
  EXPECT_EQ(tessera::runtime::crc32(0, nullptr, 0), 0u);
}

TEST(Crc32, IsIncrementalAndAgreesWithReference) {
  Bytes data(1000);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = uint8_t(i * 131 + 7);
  for (size_t split : {0u, 1u, 7u, 8u, 9u, 500u, 999u, 1000u}) {
    uint32_t c = tessera::runtime::crc32(0, data.data(), split);
    c = tessera::runtime::crc32(c, data.data() + split, data.size() - split);
    EXPECT_EQ(c, refCrc32(data.data(), data.size())) << "split " << split;
  }
}

TEST(ArtifactParser, ParsesAValidArtifact) {
  const ParsedArtifact p = parseOk(artifactWith(testManifest()));
  EXPECT_EQ(p.formatVersion, TSR_FORMAT_VERSION);
  EXPECT_EQ(p.target, "cpu");
  EXPECT_EQ(p.entry, testModelEntry());
  EXPECT_EQ(p.model, "test_model");
  EXPECT_EQ(p.producer, "tessera-test");
  ASSERT_EQ(p.inputs.size(), 2u);
  EXPECT_EQ(p.inputs[0].name, "x");
  EXPECT_EQ(p.inputs[0].dtype, TSR_DTYPE_F32);
  EXPECT_EQ(p.inputs[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(p.inputs[0].byteSize, 24u);
  EXPECT_EQ(p.inputs[1].dtype, TSR_DTYPE_I32);
  ASSERT_EQ(p.outputs.size(), 2u);
  EXPECT_EQ(p.outputs[1].shape.size(), 0u);
  EXPECT_EQ(p.outputs[1].elementCount, 1);
  EXPECT_EQ(p.outputs[1].byteSize, 8u);
  ASSERT_EQ(p.weights.size(), 2u);
  EXPECT_EQ(p.weights[1].offset, 64u);
  EXPECT_GE(p.hostCodeSection, 0);
  EXPECT_GE(p.weightsSection, 0);
  EXPECT_EQ(p.ptxSection, -1);
}

namespace {
/// A cuda manifest: x (arg 0, 24 bytes) -> kernel k0 -> arena slot -> a GEMM
/// into y (arg 4); one constant.
json cudaManifest() {
  json m = testManifest("cuda");
  m["entry"] = "tessera_kernels";
  m["gpu_arch"] = "sm_90";
  json ref0 = {{"buffer", 0}, {"offset", 0}};
  m["gpu"] = {
      {"arena_bytes", 512},
      {"kernel_module", "tessera_kernels"},
      {"buffers",
       {{{"kind", "arg"}, {"index", 0}, {"bytes", 24}},
        {{"kind", "arena"}, {"offset", 0}, {"bytes", 24}},
        {{"kind", "arg"}, {"index", 4}, {"bytes", 24}},
        {{"kind", "const"}, {"offset", 256}, {"bytes", 8},
         {"splat", {0, 0, 128, 63}}, {"count", 2}}}},
      {"steps",
       {{{"op", "launch"}, {"kernel", "k0"}, {"grid", {1, 1, 1}},
         {"block", {6, 1, 1}}, {"args", {ref0, {{"buffer", 1}, {"offset", 0}}}},
         {"loc", "x"}},
        {{"op", "gemm"}, {"dtype", "f32"}, {"batch", 1}, {"m", 2}, {"n", 2},
         {"k", 3}, {"a", {{"buffer", 1}, {"offset", 0}}},
         {"b", {{"buffer", 0}, {"offset", 0}}},
         {"c", {{"buffer", 2}, {"offset", 0}}}, {"a_batched", false},
         {"b_batched", false}, {"loc", "mm"}}}}};
  return m;
}

Bytes cudaArtifact(const json &m) {
  return writeArtifact({{TSR_SECTION_MANIFEST, toBytes(m.dump())},
                        {TSR_SECTION_WEIGHTS, testWeights()},
                        {TSR_SECTION_PTX, toBytes("// ptx")}});
}

void expectParseError(const Bytes &a, const std::string &substring) {
  ParsedArtifact parsed;
  Error err;
  EXPECT_FALSE(tsr_internal_parse_artifact(a.data(), a.size(), &parsed, &err));
  EXPECT_NE(err.message.find(substring), std::string::npos) << err.message;
}
} // namespace

TEST(ArtifactParser, ParsesACudaLaunchPlan) {
  const ParsedArtifact p = parseOk(cudaArtifact(cudaManifest()));
  EXPECT_EQ(p.target, "cuda");
  EXPECT_GE(p.ptxSection, 0);
  EXPECT_EQ(p.gpu.arch, "sm_90");
  EXPECT_EQ(p.gpu.arenaBytes, 512u);
  ASSERT_EQ(p.gpu.buffers.size(), 4u);
  EXPECT_EQ(p.gpu.buffers[2].argIndex, 4u);
  // The splat constant is expanded: two floats 1.0.
  const std::vector<uint8_t> one = {0, 0, 128, 63, 0, 0, 128, 63};
  EXPECT_EQ(p.gpu.buffers[3].data, one);
  ASSERT_EQ(p.gpu.steps.size(), 2u);
  EXPECT_EQ(p.gpu.steps[0].kernel, "k0");
  EXPECT_EQ(p.gpu.steps[0].block[0], 6u);
  EXPECT_EQ(p.gpu.steps[1].op, tessera::runtime::GpuStep::Gemm);
  EXPECT_EQ(p.gpu.steps[1].k, 3);
}

TEST(ArtifactParser, RejectsBadCudaLaunchPlans) {
  json m = cudaManifest();
  m.erase("gpu");
  expectParseError(cudaArtifact(m), "missing required field 'gpu'");
  m = cudaManifest();
  m["gpu"]["buffers"][1]["offset"] = 500; // 24 bytes past a 512-byte arena
  expectParseError(cudaArtifact(m), "are outside the arena");
  m = cudaManifest();
  m["gpu"]["buffers"][0]["bytes"] = 25;
  expectParseError(cudaArtifact(m), "differs from argument 0's 24 bytes");
  m = cudaManifest();
  m["gpu"]["buffers"][0]["index"] = 6;
  expectParseError(cudaArtifact(m), "is not an argument");
  m = cudaManifest();
  m["gpu"]["steps"][1]["m"] = 3; // 3x3 floats do not fit the 24-byte arena slot
  expectParseError(cudaArtifact(m), "do not fit buffer 1");
  m = cudaManifest();
  m["gpu"]["steps"][1]["dtype"] = "f64";
  expectParseError(cudaArtifact(m), "'f64' is not supported (f32, bf16, f16)");
  m = cudaManifest();
  m["gpu"]["steps"][1]["dtype"] = "bf16";
  m["gpu"]["steps"][1]["m"] = 4; // C = 4x2 f32 = 32 bytes > buffer 2's 24
  expectParseError(cudaArtifact(m), "do not fit buffer 2");
  m = cudaManifest();
  m["gpu"]["steps"][0]["block"] = {64, 32, 1};
  expectParseError(cudaArtifact(m), "2048 threads per block");
  m = cudaManifest();
  m["gpu"]["steps"][0]["args"][0]["buffer"] = 9;
  expectParseError(cudaArtifact(m), "is not a buffer");
  m = cudaManifest();
  m["gpu"]["buffers"][3]["count"] = 3;
  expectParseError(cudaArtifact(m), "x count does not make 8 bytes");
  m = cudaManifest();
  m["gpu"]["steps"][1]["op"] = "conv";
  expectParseError(cudaArtifact(m), "expected launch or gemm");
  Bytes noPtx = writeArtifact({{TSR_SECTION_MANIFEST, toBytes(cudaManifest().dump())},
                               {TSR_SECTION_WEIGHTS, testWeights()}});
  expectParseError(noPtx, "has no 'ptx' section");
}

TEST(ArtifactParser, MixedPrecisionGemmSizesUseTheInputDtype) {
  // bf16 A and B take 2 bytes an element, C stays f32: m = 3 fits where the
  // f32 GEMM does not (A = 3x3 bf16 = 18 of buffer 1's 24 bytes, C = 3x2 f32).
  json m = cudaManifest();
  m["gpu"]["steps"][1]["dtype"] = "bf16";
  m["gpu"]["steps"][1]["m"] = 3;
  const ParsedArtifact p = parseOk(cudaArtifact(m));
  EXPECT_EQ(p.gpu.steps[1].inputDtype, TSR_DTYPE_BF16);
  m["gpu"]["steps"][1]["dtype"] = "f16";
  EXPECT_EQ(parseOk(cudaArtifact(m)).gpu.steps[1].inputDtype, TSR_DTYPE_F16);
  m["gpu"]["steps"][1]["dtype"] = "f32";
  expectParseError(cudaArtifact(m), "do not fit buffer 1");
}

TEST(ArtifactParser, CudaArtifactLoadsAndRunFailsClearlyWithoutADevice) {
  // Loading validates and keeps the artifact (inspectable without a GPU);
  // the first run opens the device. Here there is none, or (on a GPU
  // machine) device 999 does not exist: either way TSR_ERR_DEVICE.
  setenv("TESSERA_CUDA_DEVICE", "999", 1);
  Bytes a = cudaArtifact(cudaManifest());
  tsr_model *model = nullptr;
  ASSERT_TSR_OK(tsr_model_load_memory(a.data(), a.size(), &model));
  EXPECT_STREQ(tsr_model_target(model), "cuda");
  std::vector<float> x(6), y(6);
  std::vector<int32_t> b(3);
  double total = 0;
  const int64_t s23[] = {2, 3}, s3[] = {3};
  tsr_tensor in[2] = {{"x", TSR_DTYPE_F32, 2, s23, x.data(), 24},
                      {"b", TSR_DTYPE_I32, 1, s3, b.data(), 12}};
  tsr_tensor out[2] = {{"y", TSR_DTYPE_F32, 2, s23, y.data(), 24},
                       {"total", TSR_DTYPE_F64, 0, nullptr, &total, 8}};
  EXPECT_TSR_ERROR(tsr_model_run(model, in, 2, out, 2), TSR_ERR_DEVICE, "CUDA");
  tsr_model_free(model);
  unsetenv("TESSERA_CUDA_DEVICE");
}

TEST(ArtifactParser, WeightsAreOptional) {
  json m = testManifest();
  m.erase("weights");
  Bytes a = writeArtifact({{TSR_SECTION_MANIFEST, toBytes(m.dump())},
                           {TSR_SECTION_HOST_CODE, placeholderCode()}});
  EXPECT_TRUE(parseOk(a).weights.empty());
}

//===--------------------------- container --------------------------------===//

TEST(ArtifactContainer, EveryTruncationIsReported) {
  const Bytes full = artifactWith(testManifest());
  for (size_t len = 0; len < full.size(); ++len) {
    SCOPED_TRACE("truncated to " + std::to_string(len) + " bytes");
    const Bytes cut(full.begin(), full.begin() + long(len));
    expectLoadError(cut, TSR_ERR_CORRUPT, "artifact truncated");
    if (len >= 64 && len % 97 == 0)
      expectLoadError(cut, TSR_ERR_CORRUPT,
                      "header says " + std::to_string(full.size()) +
                          " bytes, file has " + std::to_string(len));
  }
}

TEST(ArtifactContainer, TrailingDataIsReported) {
  Bytes a = artifactWith(testManifest());
  a.push_back(0);
  expectLoadError(a, TSR_ERR_CORRUPT, "1 bytes of trailing data");
}

TEST(ArtifactContainer, WrongMagic) {
  Bytes a = artifactWith(testManifest());
  a[1] = 'X';
  expectLoadError(a, TSR_ERR_FORMAT, "not a Tessera artifact (bad magic");
  expectLoadError(toBytes("PK\x03\x04 a zip file"), TSR_ERR_FORMAT,
                  "not a Tessera artifact");
}

TEST(ArtifactContainer, WrongVersion) {
  expectLoadError(writeArtifact({}, 2), TSR_ERR_VERSION,
                  "artifact format version 2 is not supported by this runtime "
                  "(supports 1)");
  expectLoadError(writeArtifact({}, 0), TSR_ERR_VERSION,
                  "artifact format version 0 is not supported");
}

TEST(ArtifactContainer, TooManySections) {
  Bytes a = artifactWith(testManifest());
  putU32(a, 12, TSR_MAX_SECTIONS + 1);
  sealHeader(a);
  expectLoadError(a, TSR_ERR_CORRUPT, "section_count 65 exceeds the maximum of 64");
}

TEST(ArtifactContainer, SectionTablePastTheEnd) {
  Bytes a = writeArtifact({});
  putU32(a, 12, 3); // three entries promised, none present
  expectLoadError(a, TSR_ERR_CORRUPT,
                  "artifact truncated: the section table (3 entries) ends at "
                  "byte 160 but the file has 64 bytes");
}

TEST(ArtifactContainer, FlippedHeaderOrTableByteIsCaught) {
  const Bytes good = artifactWith(testManifest());
  const size_t tableEnd = entryAt(3);
  for (size_t at = 0; at < tableEnd; ++at) {
    SCOPED_TRACE("byte " + std::to_string(at));
    Bytes a = good;
    a[at] ^= 0x10;
    tsr_model *m = nullptr;
    ErrorHolder e(tsr_model_load_memory(a.data(), a.size(), &m));
    ASSERT_NE(e.error, nullptr);
    // Bytes after the fields checked before the CRC are caught by it.
    if (at >= 24) {
      EXPECT_NE(e.message().find("artifact header is corrupted (CRC mismatch)"),
                std::string::npos)
          << e.describe();
    }
  }
}

TEST(ArtifactContainer, FlippedSectionByteIsCaughtByItsCrc) {
  const Bytes good = artifactWith(testManifest());
  for (const auto &[kind, name] :
       std::vector<std::pair<uint32_t, std::string>>{
           {TSR_SECTION_MANIFEST, "manifest"},
           {TSR_SECTION_HOST_CODE, "host_code"},
           {TSR_SECTION_WEIGHTS, "weights"}}) {
    const Entry e = readEntry(good, size_t(findSection(good, kind)));
    for (uint64_t at : {e.offset, e.offset + e.size / 2, e.offset + e.size - 1}) {
      SCOPED_TRACE(name + " byte " + std::to_string(at));
      Bytes a = good;
      a[at] ^= 0x01;
      expectLoadError(a, TSR_ERR_CORRUPT,
                      "section '" + name + "' is corrupted (CRC mismatch)");
    }
  }
}

TEST(ArtifactContainer, FlagsAndReservedMustBeZero) {
  Bytes a = artifactWith(testManifest());
  putU32(a, 28, 1);
  sealHeader(a);
  expectLoadError(a, TSR_ERR_FORMAT, "header: flags must be 0, got 0x00000001");
  a = artifactWith(testManifest());
  a[40] = 7;
  sealHeader(a);
  expectLoadError(a, TSR_ERR_FORMAT, "reserved byte at offset 40 must be zero");
  a = artifactWith(testManifest());
  Entry e = readEntry(a, 1);
  e.reserved = 5;
  writeEntry(a, 1, e);
  sealHeader(a);
  expectLoadError(a, TSR_ERR_FORMAT,
                  "section #1 ('host_code'): reserved field must be zero");
}

TEST(ArtifactContainer, SectionPlacementIsChecked) {
  const Bytes good = artifactWith(testManifest());
  auto tamper = [&](size_t index, auto &&edit) {
    Bytes a = good;
    Entry e = readEntry(a, index);
    edit(e);
    writeEntry(a, index, e);
    sealHeader(a);
    return a;
  };
  expectLoadError(tamper(2, [](Entry &e) { e.offset += 4; }), TSR_ERR_CORRUPT,
                  "section #2 ('weights'): offset");
  expectLoadError(tamper(2, [](Entry &e) { e.offset += 4; }), TSR_ERR_CORRUPT,
                  "is not a multiple of 64");
  expectLoadError(tamper(2, [](Entry &e) { e.size += 1000; }), TSR_ERR_CORRUPT,
                  "section #2 ('weights'): bytes [");
  expectLoadError(tamper(2, [](Entry &e) { e.size = ~uint64_t(0) - 10; }),
                  TSR_ERR_CORRUPT, "extend past the end of the artifact");
  expectLoadError(tamper(0, [](Entry &e) { e.offset = 64; }), TSR_ERR_CORRUPT,
                  "overlaps the header and section table");
  const uint64_t manifestOffset = readEntry(good, 0).offset;
  expectLoadError(tamper(1, [&](Entry &e) {
                    e.offset = manifestOffset;
                    e.size = 8;
                  }),
                  TSR_ERR_CORRUPT,
                  "section #0 ('manifest') and section #1 ('host_code') overlap");
  expectLoadError(tamper(1, [](Entry &e) { e.kind = 9; }), TSR_ERR_FORMAT,
                  "section #1 has unknown kind 9");
  expectLoadError(tamper(1, [](Entry &e) { e.kind = TSR_SECTION_MANIFEST; }),
                  TSR_ERR_FORMAT,
                  "more than one 'manifest' section (#0 and #1)");
}

TEST(ArtifactContainer, ManifestAndHostCodeAreRequired) {
  expectLoadError(writeArtifact({{TSR_SECTION_HOST_CODE, placeholderCode()}}),
                  TSR_ERR_FORMAT, "artifact has no 'manifest' section");
  expectLoadError(
      writeArtifact({{TSR_SECTION_MANIFEST, toBytes(testManifest().dump())},
                     {TSR_SECTION_WEIGHTS, testWeights()}}),
      TSR_ERR_FORMAT, "artifact targets cpu but has no 'host_code' section");
  expectLoadError(writeArtifact({{TSR_SECTION_MANIFEST, toBytes("{}")},
                                 {TSR_SECTION_WEIGHTS, {}},
                                 {TSR_SECTION_WEIGHTS, {}}}),
                  TSR_ERR_FORMAT, "more than one 'weights' section");
}

//===--------------------------- manifest ---------------------------------===//

TEST(ArtifactManifest, BadJson) {
  expectLoadError(artifactWithManifestText("{\"format_version\": 1,"),
                  TSR_ERR_FORMAT, "manifest: invalid JSON: ");
  expectLoadError(artifactWithManifestText(""), TSR_ERR_FORMAT,
                  "manifest: invalid JSON: ");
  expectLoadError(artifactWithManifestText("{\"a\": \"\xff\xfe\"}"),
                  TSR_ERR_FORMAT, "manifest: invalid JSON: ");
  expectLoadError(artifactWithManifestText("[1, 2]"), TSR_ERR_FORMAT,
                  "manifest: the top level must be a JSON object, got array");
}

TEST(ArtifactManifest, EveryRequiredFieldIsReportedWhenMissing) {
  for (const char *key : {"format_version", "producer", "model", "target",
                          "entry", "abi", "inputs", "outputs"}) {
    json m = testManifest();
    m.erase(key);
    expectLoadError(artifactWith(m), TSR_ERR_FORMAT,
                    std::string("manifest: missing required field '") + key +
                        "'");
  }
  for (const char *key : {"name", "dtype", "shape"}) {
    json m = testManifest();
    m["outputs"][1].erase(key);
    expectLoadError(artifactWith(m), TSR_ERR_FORMAT,
                    std::string("missing required field 'outputs[1].") + key +
                        "'");
  }
  for (const char *key : {"offset", "size"}) {
    json m = testManifest();
    m["weights"][0].erase(key);
    expectLoadError(artifactWith(m), TSR_ERR_FORMAT,
                    std::string("missing required field 'weights[0].") + key +
                        "'");
  }
}

TEST(ArtifactManifest, FieldTypesAreChecked) {
  json m = testManifest();
  m["entry"] = 42;
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT,
                  "'entry' must be a string, got number");
  m = testManifest();
  m["entry"] = "";
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT, "'entry' must not be empty");
  m = testManifest();
  m["inputs"] = json::object();
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT,
                  "'inputs' must be an array, got object");
  m = testManifest();
  m["inputs"][0] = "x";
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT,
                  "'inputs[0]' must be an object, got string");
  m = testManifest();
  m["inputs"][0]["shape"] = {2, 3.5};
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT,
                  "'inputs[0].shape[1]' must be an integer, got a non-integer");
  m = testManifest();
  m["inputs"][0]["shape"] = "2x3";
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT,
                  "inputs[0] ('x'): 'shape' must be an array, got string");
  m = testManifest();
  m["format_version"] = "1";
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT,
                  "'format_version' must be an integer, got string");
  m = testManifest();
  m["inputs"][1]["name"] = std::string("b\0c", 3);
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT,
                  "'inputs[1].name' contains a NUL character");
}

TEST(ArtifactManifest, ShapesAndDtypesAreChecked) {
  json m = testManifest();
  m["inputs"][0]["shape"] = {2, -3};
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT,
                  "'inputs[0].shape[1]' of 'x' is negative (-3)");
  m = testManifest();
  m["outputs"][0]["dtype"] = "f128";
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT,
                  "outputs[0] ('y'): dtype 'f128' is not a known dtype");
  m = testManifest();
  m["inputs"][0]["shape"] = {int64_t(1) << 40, int64_t(1) << 40};
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT,
                  "inputs[0] ('x'): shape [1099511627776,1099511627776] (f32) "
                  "is too large");
  m = testManifest();
  m["inputs"][0]["shape"] = {int64_t(1) << 62, 1};
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT, "is too large");
  m = testManifest();
  m["inputs"][0]["shape"] = {uint64_t(1) << 63};
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT,
                  "'inputs[0].shape[0]' is too large");
  m = testManifest();
  m["inputs"][0]["shape"] = std::vector<int64_t>(TSR_MAX_RANK + 1, 1);
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT, "rank 33 exceeds the maximum");
  m = testManifest();
  m["inputs"][1]["name"] = "x";
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT,
                  "'inputs[1]': name 'x' is used by more than one entry");
  m = testManifest();
  m["outputs"] = json::array();
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT, "'outputs' is empty");
}

TEST(ArtifactManifest, VersionsTargetAndAbiAreChecked) {
  json m = testManifest();
  m["format_version"] = 2;
  expectLoadError(artifactWith(m), TSR_ERR_VERSION,
                  "manifest: format_version is 2 but the header says 1");
  m = testManifest();
  m["abi"] = "tessera-packed-v9";
  expectLoadError(artifactWith(m), TSR_ERR_VERSION,
                  "abi 'tessera-packed-v9' is not supported by this runtime");
  m = testManifest("tpu");
  expectLoadError(artifactWith(m), TSR_ERR_UNSUPPORTED_TARGET,
                  "this artifact targets 'tpu', which this runtime does not "
                  "know");
}

TEST(ArtifactManifest, WeightsMustFitTheWeightsSection) {
  json m = testManifest();
  m["weights"][1]["offset"] = 128;
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT,
                  "weights[1] ('scale'): bytes [128, 128 + 4) are outside the "
                  "'weights' section (68 bytes)");
  m = testManifest();
  m["weights"][1]["offset"] = 32;
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT,
                  "weights[1] ('scale'): offset 32 is not a multiple of 64");
  m = testManifest();
  m["weights"][0]["size"] = 20;
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT,
                  "weights[0] ('w'): size 20 does not match its shape [2,3] "
                  "(f32) = 24 bytes");
  m = testManifest();
  m["weights"][0]["offset"] = -64;
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT,
                  "offset and size must be non-negative");
  m = testManifest();
  m["weights"][1]["offset"] = std::numeric_limits<int64_t>::max() / 64 * 64;
  expectLoadError(artifactWith(m), TSR_ERR_FORMAT, "are outside the 'weights'");
  expectLoadError(
      writeArtifact({{TSR_SECTION_MANIFEST, toBytes(testManifest().dump())},
                     {TSR_SECTION_HOST_CODE, placeholderCode()}}),
      TSR_ERR_FORMAT,
      "weights[0] ('w') is declared but the artifact has no 'weights' section");
}

TEST(ArtifactParser, NullArgumentsAreRejected) {
  ParsedArtifact parsed;
  Error err;
  EXPECT_FALSE(tsr_internal_parse_artifact(nullptr, 10, &parsed, &err));
  EXPECT_EQ(err.code, TSR_ERR_INVALID_ARGUMENT);
  EXPECT_FALSE(tsr_internal_parse_artifact(nullptr, 0, &parsed, &err));
  EXPECT_EQ(err.code, TSR_ERR_CORRUPT);
}

TEST(ArtifactManifest, PartitionedMeshAndSplitsAreParsed) {
  json m = testManifest();
  m["mesh"] = {{"axes", {"data", "model"}}, {"shape", {2, 3}}};
  m["inputs"][0]["split"] = json::parse("[[0], [1]]");
  m["inputs"][0]["local_shape"] = {1, 1};
  m["outputs"][0]["split"] = json::parse("[[], [1]]");
  m["outputs"][0]["local_shape"] = {2, 1};
  const ParsedArtifact p = parseOk(artifactWith(m));
  EXPECT_EQ(p.meshShape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(p.meshAxes, (std::vector<std::string>{"data", "model"}));
  EXPECT_EQ(p.devices(), 6);
  EXPECT_EQ(p.inputs[0].split, (std::vector<std::vector<int>>{{0}, {1}}));
  EXPECT_EQ(p.inputs[0].localShape, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(p.inputs[0].localBytes, 4u);
  // Without a split a tensor is whole on every device.
  EXPECT_TRUE(p.inputs[1].split.empty());
  EXPECT_EQ(p.inputs[1].localShape, p.inputs[1].shape);
  EXPECT_EQ(p.outputs[0].localBytes, 8u);
}

TEST(ArtifactManifest, PartitionedManifestsAreChecked) {
  auto with = [](const std::function<void(json &)> &edit) {
    json m = testManifest();
    m["mesh"] = {{"axes", {"data", "model"}}, {"shape", {2, 3}}};
    m["inputs"][0]["split"] = json::parse("[[0], [1]]");
    m["inputs"][0]["local_shape"] = {1, 1};
    edit(m);
    return artifactWith(m);
  };
  expectParseError(with([](json &m) { m.erase("mesh"); }),
                   "inputs[0] ('x') has a 'split' but the artifact has no 'mesh'");
  expectParseError(with([](json &m) { m["inputs"][0]["split"] = json::parse("[[2], []]"); }),
                   "'inputs[0].split[0]': mesh axis 2 is out of range or used twice");
  expectParseError(with([](json &m) { m["inputs"][0]["split"] = json::parse("[[0], [0]]"); }),
                   "'inputs[0].split[1]': mesh axis 0 is out of range or used twice");
  expectParseError(with([](json &m) { m["inputs"][0]["split"] = json::parse("[[0]]"); }),
                   "'inputs[0].split' must be an array of 2 axis lists");
  expectParseError(with([](json &m) { m["inputs"][0]["local_shape"] = {2, 1}; }),
                   "inputs[0] ('x'): dim 0 (2) split over 2 devices is not local dim 2");
  expectParseError(with([](json &m) {
                     m["inputs"][0]["split"] = json::parse("[[], [0]]");
                     m["inputs"][0]["local_shape"] = {2, 1};
                   }),
                   "inputs[0] ('x'): dim 1 (3) split over 2 devices is not local dim 1");
  expectParseError(with([](json &m) { m["inputs"][0].erase("local_shape"); }),
                   "missing required field 'inputs[0].local_shape'");
  expectParseError(with([](json &m) { m["mesh"]["shape"] = {2, 0}; }),
                   "'mesh.shape[1]' is 0");
  expectParseError(with([](json &m) { m["mesh"]["axes"] = {"data"}; }),
                   "'mesh.axes' must be an array of 1 to 16 names");
  expectParseError(with([](json &m) { m["mesh"] = 3; }),
                   "'mesh' must be an object, got number");
  expectParseError(with([](json &m) { m["mesh"]["shape"] = {65536, 2}; }),
                   "'mesh' has more than 65536 devices");
  expectParseError(with([](json &m) { m["weights"][0]["split"] = json::parse("[[0]]"); }),
                   "'weights[0]' has a 'split': weights are stored whole");
}
