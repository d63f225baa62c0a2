//===- test/unit/runtime/make_test_artifact.cpp - Test model on disk ------===//
//
// tessera-make-test-artifact OUT.tsr [--npy-dir DIR]
//
// Compiles the test model (ArtifactWriterForTest.h) with the C compiler CMake
// found and writes it as an artifact, for the C API test and the tessera-run
// tests. With --npy-dir also writes DIR/x.npy, DIR/b.npy (inputs),
// DIR/x_f64.npy (wrong dtype) and DIR/expected/{y,total}.npy.
//
//===----------------------------------------------------------------------===//

#include "ArtifactWriterForTest.h"
#include "Npy.h"

#include <iostream>
#include <sys/stat.h>

using namespace tessera::test;
namespace npy = tessera::runtime::npy;

namespace {

bool writeNpy(const std::string &path, tsr_dtype dtype,
              std::vector<int64_t> shape, const void *data, size_t size) {
  std::string error;
  if (npy::writeFileAtomic(path, dtype, shape.data(), shape.size(), data, size,
                           error))
    return true;
  std::cerr << "tessera-make-test-artifact: " << error << "\n";
  return false;
}

} // namespace

int main(int argc, char **argv) {
  std::string out, npyDir;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--npy-dir" && i + 1 < argc)
      npyDir = argv[++i];
    else if (out.empty() && arg[0] != '-')
      out = arg;
    else {
      std::cerr << "usage: tessera-make-test-artifact OUT.tsr [--npy-dir DIR]\n";
      return 2;
    }
  }
  if (out.empty()) {
    std::cerr << "usage: tessera-make-test-artifact OUT.tsr [--npy-dir DIR]\n";
    return 2;
  }
#ifdef TESSERA_TEST_CC
  const std::string cc = TESSERA_TEST_CC;
#else
  const std::string cc = "cc";
#endif
  Bytes so;
  std::string error;
  if (!compileSharedObject(cc, testModelSource(), tempDir(), so, error)) {
    std::cerr << "tessera-make-test-artifact: " << error << "\n";
    return 1;
  }
  if (const size_t slash = out.rfind('/'); slash != std::string::npos && slash)
    mkdir(out.substr(0, slash).c_str(), 0755);
  if (!writeFile(out, buildTestArtifact(so))) {
    std::cerr << "tessera-make-test-artifact: cannot write '" << out << "'\n";
    return 1;
  }
  if (npyDir.empty())
    return 0;

  mkdir(npyDir.c_str(), 0755);
  mkdir((npyDir + "/expected").c_str(), 0755);
  const std::vector<float> x = testX();
  const std::vector<int32_t> b = testB();
  const std::vector<double> x64(x.begin(), x.end());
  const std::vector<float> y = expectedY(x, b);
  const double total = expectedTotal(y);
  const bool ok =
      writeNpy(npyDir + "/x.npy", TSR_DTYPE_F32, {2, 3}, x.data(), 24) &&
      writeNpy(npyDir + "/b.npy", TSR_DTYPE_I32, {3}, b.data(), 12) &&
      writeNpy(npyDir + "/x_f64.npy", TSR_DTYPE_F64, {2, 3}, x64.data(), 48) &&
      writeNpy(npyDir + "/expected/y.npy", TSR_DTYPE_F32, {2, 3}, y.data(),
               24) &&
      writeNpy(npyDir + "/expected/total.npy", TSR_DTYPE_F64, {}, &total, 8);
  return ok ? 0 : 1;
}
