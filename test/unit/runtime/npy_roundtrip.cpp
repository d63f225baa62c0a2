//===- test/unit/runtime/npy_roundtrip.cpp - Re-encode a .npy file --------===//
//
// tessera-npy-roundtrip IN.npy OUT.npy: reads IN with the runtime's reader and
// writes it with its writer. numpy_compat.py checks the result against numpy.
//
//===----------------------------------------------------------------------===//

#include "Npy.h"

#include <cstdio>

namespace npy = tessera::runtime::npy;

int main(int argc, char **argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: tessera-npy-roundtrip IN.npy OUT.npy\n");
    return 2;
  }
  npy::Array a;
  std::string error;
  if (!npy::readFile(argv[1], a, error) ||
      !npy::writeFileAtomic(argv[2], a.dtype, a.shape.data(), a.shape.size(),
                            a.data.data(), a.data.size(), error)) {
    std::fprintf(stderr, "tessera-npy-roundtrip: %s\n", error.c_str());
    return 1;
  }
  return 0;
}
