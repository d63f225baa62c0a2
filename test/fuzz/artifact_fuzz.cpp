//===- test/fuzz/artifact_fuzz.cpp - libFuzzer target: artifact parser ----===//
//
// Feeds arbitrary bytes to tsr_internal_parse_artifact, the validation every
// load runs before trusting a byte (no code is loaded here). Each input is
// parsed twice: as is, and with every CRC recomputed, so that mutations reach
// the section table and manifest checks instead of stopping at a checksum.
// A successful parse must describe an artifact that satisfies the invariants
// the loader relies on; a failed one must carry a code and a message.
//
//===----------------------------------------------------------------------===//

#include "ArtifactParser.h"
#include "Crc32.h"

#include <algorithm>
#include <cstring>
#include <vector>

using namespace tessera::runtime;

namespace {

#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond))                                                               \
      __builtin_trap();                                                        \
  } while (0)

uint32_t readU32(const uint8_t *p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 |
         uint32_t(p[3]) << 24;
}
uint64_t readU64(const uint8_t *p) {
  return uint64_t(readU32(p)) | uint64_t(readU32(p + 4)) << 32;
}
void writeU32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = uint8_t(v >> (8 * i));
}

/// Recomputes section CRCs (for entries in bounds) and the header CRC.
void repairCrcs(std::vector<uint8_t> &a) {
  if (a.size() < 64)
    return;
  const size_t count = std::min<size_t>(readU32(a.data() + 12), 64);
  const size_t tableEnd = std::min(a.size(), 64 + count * 32);
  for (size_t i = 0; 64 + (i + 1) * 32 <= tableEnd; ++i) {
    uint8_t *e = a.data() + 64 + i * 32;
    const uint64_t offset = readU64(e + 8), size = readU64(e + 16);
    if (offset <= a.size() && size <= a.size() - offset)
      writeU32(e + 4, crc32(0, a.data() + offset, size));
  }
  writeU32(a.data() + 24, 0);
  writeU32(a.data() + 24, crc32(0, a.data(), tableEnd));
}

void checkTensor(const TensorSpec &t) {
  FUZZ_CHECK(!t.name.empty());
  FUZZ_CHECK(t.shape.size() <= TSR_MAX_RANK);
  int64_t elements = 1;
  for (int64_t d : t.shape) {
    FUZZ_CHECK(d >= 0);
    FUZZ_CHECK(!__builtin_mul_overflow(elements, d, &elements));
  }
  FUZZ_CHECK(elements == t.elementCount);
  FUZZ_CHECK(t.byteSize == size_t(elements) * dtypeSize(t.dtype));
}

void parseAndCheck(const uint8_t *data, size_t size) {
  ParsedArtifact p;
  Error err;
  if (!tsr_internal_parse_artifact(data, size, &p, &err)) {
    FUZZ_CHECK(err.code != TSR_OK && !err.message.empty());
    return;
  }
  FUZZ_CHECK(p.fileSize == size);
  FUZZ_CHECK(p.manifestSection >= 0);
  for (const SectionInfo &s : p.sections) {
    FUZZ_CHECK(s.offset % 64 == 0);
    FUZZ_CHECK(s.offset <= size && s.size <= size - s.offset);
  }
  FUZZ_CHECK(p.target == "cuda" || p.hostCodeSection >= 0);
  FUZZ_CHECK(!p.entry.empty() && !p.outputs.empty());
  for (const TensorSpec &t : p.inputs)
    checkTensor(t);
  for (const TensorSpec &t : p.outputs)
    checkTensor(t);
  for (const WeightSpec &w : p.weights) {
    checkTensor(w);
    FUZZ_CHECK(p.weightsSection >= 0);
    const SectionInfo &ws = p.sections[size_t(p.weightsSection)];
    FUZZ_CHECK(w.offset % 64 == 0);
    FUZZ_CHECK(w.offset <= ws.size && w.byteSize <= ws.size - w.offset);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  parseAndCheck(data, size);
  std::vector<uint8_t> repaired(data, data + size);
  repairCrcs(repaired);
  parseAndCheck(repaired.data(), repaired.size());
  return 0;
}
