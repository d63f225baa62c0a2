//===- runtime/Support.h - Runtime-internal helpers -------------*- C++ -*-===//
//
// Dtype tables, shape formatting and the internal error type shared by the
// artifact parser, the loader, the npy reader and the tools. Not installed.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_RUNTIME_SUPPORT_H
#define TESSERA_RUNTIME_SUPPORT_H

#include "tessera/Runtime.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::runtime {

/// An error as the runtime reports it: a code and a message that names what
/// went wrong and where.
struct Error {
  tsr_code code = TSR_OK;
  std::string message;
};

struct DtypeInfo {
  tsr_dtype dtype;
  const char *name; // artifact spelling
  size_t size;      // bytes per element
};

/// All valid dtypes, in enum order.
inline constexpr DtypeInfo kDtypes[] = {
    {TSR_DTYPE_F32, "f32", 4},  {TSR_DTYPE_F64, "f64", 8},
    {TSR_DTYPE_F16, "f16", 2},  {TSR_DTYPE_BF16, "bf16", 2},
    {TSR_DTYPE_I8, "i8", 1},    {TSR_DTYPE_U8, "u8", 1},
    {TSR_DTYPE_I16, "i16", 2},  {TSR_DTYPE_I32, "i32", 4},
    {TSR_DTYPE_I64, "i64", 8},  {TSR_DTYPE_BOOL, "bool", 1},
};

inline const DtypeInfo *dtypeInfo(tsr_dtype dtype) {
  for (const DtypeInfo &info : kDtypes)
    if (info.dtype == dtype)
      return &info;
  return nullptr;
}

inline const char *dtypeName(tsr_dtype dtype) {
  const DtypeInfo *info = dtypeInfo(dtype);
  return info ? info->name : "invalid";
}

inline size_t dtypeSize(tsr_dtype dtype) {
  const DtypeInfo *info = dtypeInfo(dtype);
  return info ? info->size : 0;
}

inline tsr_dtype dtypeFromName(std::string_view name) {
  for (const DtypeInfo &info : kDtypes)
    if (name == info.name)
      return info.dtype;
  return TSR_DTYPE_INVALID;
}

/// "f32, f64, ..." for error messages.
inline std::string dtypeNameList() {
  std::string out;
  for (const DtypeInfo &info : kDtypes) {
    if (!out.empty())
      out += ", ";
    out += info.name;
  }
  return out;
}

/// "[1,3,224,224]"; "[]" for a scalar.
inline std::string formatShape(const int64_t *dims, size_t rank) {
  std::string out = "[";
  for (size_t i = 0; i < rank; ++i) {
    if (i)
      out += ",";
    out += std::to_string(dims[i]);
  }
  return out + "]";
}

inline std::string formatShape(const std::vector<int64_t> &dims) {
  return formatShape(dims.data(), dims.size());
}

/// Product of the dims times the element size, or false on a negative dim or
/// overflow of int64 (elements) / size_t (bytes).
inline bool shapeSizes(const std::vector<int64_t> &dims, size_t elementSize,
                       int64_t &elements, size_t &bytes) {
  int64_t count = 1;
  for (int64_t d : dims) {
    if (d < 0 || __builtin_mul_overflow(count, d, &count))
      return false;
  }
  size_t total = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(count),
                             static_cast<uint64_t>(elementSize), &total))
    return false;
  elements = count;
  bytes = total;
  return true;
}

} // namespace tessera::runtime

#endif // TESSERA_RUNTIME_SUPPORT_H
