//===- test/fuzz/make_seeds.cpp - Seed corpora for the fuzz targets -------===//
//
// tessera-fuzz-seeds ARTIFACT_DIR [NPY_DIR]
//
// Writes a valid artifact (placeholder host code: the fuzz target never
// loads code) and variants that reach each group of checks, plus .npy seeds.
//
//===----------------------------------------------------------------------===//

#include "../unit/runtime/ArtifactWriterForTest.h"
#include "Npy.h"
#include "Support.h"

#include <algorithm>
#include <cstring>
#include <iostream>
#include <sys/stat.h>

using namespace tessera::test;
using nlohmann::json;

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: tessera-fuzz-seeds ARTIFACT_DIR [NPY_DIR]\n";
    return 2;
  }
  const std::string dir = argv[1];
  mkdir(dir.c_str(), 0755);
  const Bytes code = toBytes("\x7f" "ELF placeholder host code");
  std::vector<std::pair<std::string, Bytes>> seeds;
  const Bytes valid = buildTestArtifact(code);
  seeds.push_back({"valid.tsr", valid});

  json noWeights = testManifest();
  noWeights.erase("weights");
  seeds.push_back({"no-weights.tsr",
                   writeArtifact({{TSR_SECTION_MANIFEST,
                                   toBytes(noWeights.dump())},
                                  {TSR_SECTION_HOST_CODE, code}})});
  seeds.push_back({"cuda.tsr",
                   writeArtifact({{TSR_SECTION_MANIFEST,
                                   toBytes(testManifest("cuda").dump())},
                                  {TSR_SECTION_WEIGHTS, testWeights()},
                                  {TSR_SECTION_PTX, toBytes("// ptx")}})});
  json spmd = testManifest();
  spmd["mesh"] = {{"axes", {"data", "model"}}, {"shape", {2, 3}}};
  spmd["inputs"][0]["split"] = json::parse("[[0], [1]]");
  spmd["inputs"][0]["local_shape"] = {1, 1};
  spmd["outputs"][0]["split"] = json::parse("[[], [1]]");
  spmd["outputs"][0]["local_shape"] = {2, 1};
  seeds.push_back({"partitioned.tsr", buildTestArtifact(code, spmd)});
  json bad = testManifest();
  bad["inputs"][0]["shape"] = {2, -3};
  seeds.push_back({"negative-dim.tsr", buildTestArtifact(code, bad)});
  bad = testManifest();
  bad["weights"][1]["offset"] = 128;
  seeds.push_back({"weight-oob.tsr", buildTestArtifact(code, bad)});
  seeds.push_back({"bad-json.tsr",
                   writeArtifact({{TSR_SECTION_MANIFEST, toBytes("{\"a\": [1,")},
                                  {TSR_SECTION_HOST_CODE, code}})});
  seeds.push_back({"truncated.tsr", Bytes(valid.begin(), valid.begin() + 100)});
  Bytes flipped = valid;
  flipped[valid.size() - 1] ^= 1;
  seeds.push_back({"bad-crc.tsr", flipped});
  seeds.push_back({"version-2.tsr", writeArtifact({}, 2)});
  seeds.push_back({"empty.tsr", {}});

  for (const auto &[name, bytes] : seeds)
    if (!writeFile(dir + "/" + name, bytes)) {
      std::cerr << "tessera-fuzz-seeds: cannot write " << dir << "/" << name
                << "\n";
      return 1;
    }

  if (argc == 3) {
    const std::string npyDir = argv[2];
    mkdir(npyDir.c_str(), 0755);
    namespace npy = tessera::runtime::npy;
    const float f[6] = {1, 2, 3, 4, 5, 6};
    const int64_t shape2[2] = {2, 3};
    const int64_t shape1[1] = {6};
    std::string error;
    Bytes out;
    int n = 0;
    for (tsr_dtype dtype : {TSR_DTYPE_F32, TSR_DTYPE_I8, TSR_DTYPE_BOOL,
                            TSR_DTYPE_F16, TSR_DTYPE_I64}) {
      const size_t bytes = 6 * tessera::runtime::dtypeSize(dtype);
      Bytes data(bytes);
      std::memcpy(data.data(), f, std::min(bytes, sizeof f));
      const bool ok = npy::serialize(dtype, n % 2 ? shape1 : shape2,
                                     n % 2 ? 1 : 2, data.data(), bytes, out,
                                     error) &&
                      writeFile(npyDir + "/seed" + std::to_string(n++) + ".npy",
                                out);
      if (!ok) {
        std::cerr << "tessera-fuzz-seeds: " << error << "\n";
        return 1;
      }
    }
  }
  return 0;
}
