//===- runtime/Npy.h - Reading and writing NumPy .npy files -----*- C++ -*-===//
//
// The subset of the .npy format (versions 1.0, 2.0 and 3.0) that maps onto
// runtime dtypes: little-endian, C order, descr one of <f4 <f8 <f2 |i1 |u1
// <i2 <i4 <i8 |b1. Used by tessera-run and the tests; not installed.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_RUNTIME_NPY_H
#define TESSERA_RUNTIME_NPY_H

#include "tessera/Runtime.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::runtime::npy {

/// A dense, row-major, little-endian array.
struct Array {
  tsr_dtype dtype = TSR_DTYPE_INVALID;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
};

/// The descr numpy writes for `dtype` ("<f4", "|b1", ...), or nullptr when
/// numpy has no equivalent (bf16).
const char *descrFor(tsr_dtype dtype);

/// Parses a whole .npy file held in memory. On failure `error` says what is
/// wrong (without naming the file; callers prefix that).
bool parse(const uint8_t *bytes, size_t size, Array &out, std::string &error);

/// Reads and parses a file; `error` starts with "'PATH': ".
bool readFile(const std::string &path, Array &out, std::string &error);

/// Encodes an array as .npy bytes (version 1.0, or 2.0 for huge headers).
bool serialize(tsr_dtype dtype, const int64_t *shape, size_t rank,
               const void *data, size_t byteSize, std::vector<uint8_t> &out,
               std::string &error);

/// Writes `path` atomically: a temporary file in the same directory,
/// fsync'd and then renamed over `path`, so that readers never see a
/// half-written file. Nothing is left behind on failure.
bool writeFileAtomic(const std::string &path, tsr_dtype dtype,
                     const int64_t *shape, size_t rank, const void *data,
                     size_t byteSize, std::string &error);

} // namespace tessera::runtime::npy

#endif // TESSERA_RUNTIME_NPY_H
