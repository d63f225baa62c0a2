//===- test/unit/runtime/ArtifactWriterForTest.h - Test artifacts -*- C++ -*-===//
//
// A small, independent artifact writer for tests, the fuzz seed generator and
// tessera-make-test-artifact: lays out header, section table and 64-byte
// aligned sections and computes the CRCs with its own (bitwise) CRC-32, so a
// bug in the runtime's CRC cannot cancel out. Also helpers to tamper with an
// artifact and re-seal it, and the test model used across the tests:
//
//   inputs  x: f32 [2,3], b: i32 [3]
//   weights w: f32 [2,3] (offset 0), scale: f32 [] (offset 64)
//   outputs y: f32 [2,3] = x * scale + w + b (b broadcast over rows)
//           total: f64 [] = sum of y
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_TEST_ARTIFACTWRITERFORTEST_H
#define TESSERA_TEST_ARTIFACTWRITERFORTEST_H

#include "tessera/Artifact.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/wait.h>
#include <spawn.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace tessera::test {

using Bytes = std::vector<uint8_t>;

//===--------------------------- container --------------------------------===//

/// Bitwise reference CRC-32 (IEEE), independent of the runtime's.
inline uint32_t refCrc32(const uint8_t *p, size_t n, uint32_t crc = 0) {
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k)
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

inline void putU32(Bytes &b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    b[at + i] = uint8_t(v >> (8 * i));
}
inline void putU64(Bytes &b, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    b[at + i] = uint8_t(v >> (8 * i));
}
inline uint32_t getU32(const Bytes &b, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= uint32_t(b[at + i]) << (8 * i);
  return v;
}
inline uint64_t getU64(const Bytes &b, size_t at) {
  return uint64_t(getU32(b, at)) | uint64_t(getU32(b, at + 4)) << 32;
}

struct Section {
  uint32_t kind;
  Bytes bytes;
};

/// A section table entry, read from or written to an artifact.
struct Entry {
  uint32_t kind, crc32;
  uint64_t offset, size, reserved;
};

constexpr size_t kHeaderSize = 64, kEntrySize = 32;

inline size_t entryAt(size_t index) { return kHeaderSize + index * kEntrySize; }

inline Entry readEntry(const Bytes &a, size_t index) {
  const size_t at = entryAt(index);
  return {getU32(a, at), getU32(a, at + 4), getU64(a, at + 8),
          getU64(a, at + 16), getU64(a, at + 24)};
}

inline void writeEntry(Bytes &a, size_t index, const Entry &e) {
  const size_t at = entryAt(index);
  putU32(a, at, e.kind);
  putU32(a, at + 4, e.crc32);
  putU64(a, at + 8, e.offset);
  putU64(a, at + 16, e.size);
  putU64(a, at + 24, e.reserved);
}

/// Recomputes header_crc32 over the header (crc zeroed) and section table.
inline void sealHeader(Bytes &a) {
  const uint32_t count = getU32(a, 12);
  putU32(a, 24, 0);
  const size_t tableEnd = entryAt(count);
  putU32(a, 24, refCrc32(a.data(), std::min(tableEnd, a.size())));
}

/// Recomputes the CRC of section `index`, then the header CRC.
inline void sealSection(Bytes &a, size_t index) {
  Entry e = readEntry(a, index);
  e.crc32 = refCrc32(a.data() + e.offset, e.size);
  writeEntry(a, index, e);
  sealHeader(a);
}

/// Lays out a valid artifact holding `sections` in the given order.
inline Bytes writeArtifact(const std::vector<Section> &sections,
                           uint32_t formatVersion = TSR_FORMAT_VERSION) {
  const size_t tableEnd = entryAt(sections.size());
  auto align = [](size_t v) {
    return (v + TSR_SECTION_ALIGN - 1) / TSR_SECTION_ALIGN * TSR_SECTION_ALIGN;
  };
  Bytes a(tableEnd, 0);
  std::memcpy(a.data(), TSR_MAGIC, 8);
  putU32(a, 8, formatVersion);
  putU32(a, 12, uint32_t(sections.size()));
  for (size_t i = 0; i < sections.size(); ++i) {
    a.resize(align(a.size()), 0);
    const Section &s = sections[i];
    writeEntry(a, i,
               {s.kind, refCrc32(s.bytes.data(), s.bytes.size()),
                uint64_t(a.size()), uint64_t(s.bytes.size()), 0});
    a.insert(a.end(), s.bytes.begin(), s.bytes.end());
  }
  putU64(a, 16, a.size());
  sealHeader(a);
  return a;
}

/// Index of the first section of `kind`, or -1.
inline int findSection(const Bytes &a, uint32_t kind) {
  const uint32_t count = getU32(a, 12);
  for (uint32_t i = 0; i < count; ++i)
    if (readEntry(a, i).kind == kind)
      return int(i);
  return -1;
}

//===--------------------------- the test model ---------------------------===//

inline const char *testModelSource() {
  return "void tessera_test_main(void **args) {\n"
         "  const float *x = (const float *)args[0];\n"
         "  const int *b = (const int *)args[1];\n"
         "  const float *w = (const float *)args[2];\n"
         "  const float *scale = (const float *)args[3];\n"
         "  float *y = (float *)args[4];\n"
         "  double *total = (double *)args[5];\n"
         "  double sum = 0.0;\n"
         "  for (int i = 0; i < 2; ++i)\n"
         "    for (int j = 0; j < 3; ++j) {\n"
         "      float v = x[i * 3 + j] * *scale + w[i * 3 + j] + (float)b[j];\n"
         "      y[i * 3 + j] = v;\n"
         "      sum += v;\n"
         "    }\n"
         "  *total = sum;\n"
         "}\n";
}

inline const char *testModelEntry() { return "tessera_test_main"; }

/// Values the tests feed in; all exactly representable, so the expected
/// results are exact whatever the compiler does with the arithmetic.
inline std::vector<float> testX() { return {0.5f, 1, 1.5f, -2, 2.5f, 3}; }
inline std::vector<int32_t> testB() { return {10, 20, -30}; }
inline std::vector<float> testW() { return {0.25f, 0.5f, 0.75f, 1, 1.25f, 1.5f}; }
inline float testScale() { return 2.0f; }

inline std::vector<float> expectedY(const std::vector<float> &x,
                                    const std::vector<int32_t> &b) {
  std::vector<float> y(6);
  const std::vector<float> w = testW();
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      y[i * 3 + j] = x[i * 3 + j] * testScale() + w[i * 3 + j] + float(b[j]);
  return y;
}

inline double expectedTotal(const std::vector<float> &y) {
  double sum = 0;
  for (float v : y)
    sum += v;
  return sum;
}

inline nlohmann::json tensorJson(const std::string &name,
                                 const std::string &dtype,
                                 std::vector<int64_t> shape) {
  return {{"name", name}, {"dtype", dtype}, {"shape", shape}};
}

inline nlohmann::json testManifest(const std::string &target = "cpu") {
  nlohmann::json w = tensorJson("w", "f32", {2, 3});
  w["offset"] = 0;
  w["size"] = 24;
  nlohmann::json scale = tensorJson("scale", "f32", {});
  scale["offset"] = 64;
  scale["size"] = 4;
  return {{"format_version", TSR_FORMAT_VERSION},
          {"producer", "tessera-test"},
          {"model", "test_model"},
          {"target", target},
          {"entry", testModelEntry()},
          {"abi", "tessera-packed-v1"},
          {"inputs", {tensorJson("x", "f32", {2, 3}), tensorJson("b", "i32", {3})}},
          {"outputs", {tensorJson("y", "f32", {2, 3}), tensorJson("total", "f64", {})}},
          {"weights", {w, scale}}};
}

/// The WEIGHTS section: w at offset 0, scale at offset 64.
inline Bytes testWeights() {
  Bytes bytes(68, 0);
  const std::vector<float> w = testW();
  std::memcpy(bytes.data(), w.data(), 24);
  const float scale = testScale();
  std::memcpy(bytes.data() + 64, &scale, 4);
  return bytes;
}

inline Bytes toBytes(const std::string &s) { return Bytes(s.begin(), s.end()); }

/// Manifest, host code and weights, in that order.
inline Bytes buildTestArtifact(const Bytes &hostCode,
                               const nlohmann::json &manifest = testManifest()) {
  return writeArtifact({{TSR_SECTION_MANIFEST, toBytes(manifest.dump(2))},
                        {TSR_SECTION_HOST_CODE, hostCode},
                        {TSR_SECTION_WEIGHTS, testWeights()}});
}

//===--------------------------- files and processes ----------------------===//

inline bool writeFile(const std::string &path, const Bytes &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char *>(bytes.data()),
            std::streamsize(bytes.size()));
  return bool(out);
}

inline bool readFile(const std::string &path, Bytes &bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  bytes.assign(std::istreambuf_iterator<char>(in),
               std::istreambuf_iterator<char>());
  return true;
}

/// Runs argv[0] (searched in PATH) and waits; returns its exit status, or
/// -1 if it could not be started or did not exit normally.
inline int runProcess(const std::vector<std::string> &args) {
  std::vector<char *> argv;
  for (const std::string &a : args)
    argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid;
  if (posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0)
    return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
}

/// Compiles C `source` into a shared object with `cc` in a fresh directory
/// under `tmpDir`; returns the .so bytes, or fills `error`.
inline bool compileSharedObject(const std::string &cc, const std::string &source,
                                const std::string &tmpDir, Bytes &so,
                                std::string &error,
                                const std::vector<std::string> &extraFlags = {}) {
  std::string dir = tmpDir + "/tessera-test-XXXXXX";
  if (!mkdtemp(dir.data())) {
    error = "mkdtemp failed in " + tmpDir;
    return false;
  }
  const std::string src = dir + "/model.c", lib = dir + "/model.so";
  bool ok = writeFile(src, toBytes(source));
  std::vector<std::string> args = {cc, "-shared", "-fPIC", "-O1", "-o", lib, src};
  args.insert(args.end(), extraFlags.begin(), extraFlags.end());
  const int rc = ok ? runProcess(args) : -1;
  ok = ok && rc == 0 && readFile(lib, so);
  if (!ok)
    error = "'" + cc + " -shared -fPIC' failed (exit " + std::to_string(rc) +
            ") compiling " + src;
  std::remove(src.c_str());
  std::remove(lib.c_str());
  rmdir(dir.c_str());
  return ok;
}

inline std::string tempDir() {
  const char *dir = std::getenv("TMPDIR");
  return dir && *dir ? dir : "/tmp";
}

} // namespace tessera::test

#endif // TESSERA_TEST_ARTIFACTWRITERFORTEST_H
