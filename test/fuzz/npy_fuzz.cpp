//===- test/fuzz/npy_fuzz.cpp - libFuzzer target: .npy reader -------------===//
//
// tessera-run reads user-supplied .npy files; the parser must reject bad ones
// with a message and never crash. Accepted arrays must round-trip.
//
//===----------------------------------------------------------------------===//

#include "Npy.h"
#include "Support.h"

namespace npy = tessera::runtime::npy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  npy::Array a;
  std::string error;
  if (!npy::parse(data, size, a, error)) {
    if (error.empty())
      __builtin_trap();
    return 0;
  }
  int64_t elements = 0;
  size_t bytes = 0;
  if (!tessera::runtime::shapeSizes(a.shape,
                                    tessera::runtime::dtypeSize(a.dtype),
                                    elements, bytes) ||
      bytes != a.data.size())
    __builtin_trap();
  std::vector<uint8_t> again;
  npy::Array b;
  if (!npy::serialize(a.dtype, a.shape.data(), a.shape.size(), a.data.data(),
                      a.data.size(), again, error) ||
      !npy::parse(again.data(), again.size(), b, error) || b.dtype != a.dtype ||
      b.shape != a.shape || b.data != a.data)
    __builtin_trap();
  return 0;
}
