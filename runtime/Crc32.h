//===- runtime/Crc32.h - CRC-32 (IEEE 802.3) --------------------*- C++ -*-===//
//
// The checksum used by the artifact header and sections: the same CRC-32 as
// zlib's crc32() (reflected polynomial 0xEDB88320, init and final xor ~0).
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_RUNTIME_CRC32_H
#define TESSERA_RUNTIME_CRC32_H

#include <cstddef>
#include <cstdint>

namespace tessera::runtime {

/// Continues a CRC: crc32(crc32(0, a), b) == crc32 of a followed by b.
uint32_t crc32(uint32_t crc, const void *data, size_t size);

} // namespace tessera::runtime

#endif // TESSERA_RUNTIME_CRC32_H
