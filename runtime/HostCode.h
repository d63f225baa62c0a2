//===- runtime/HostCode.h - Loading an artifact's host code -----*- C++ -*-===//
//
// Loads the HOST_CODE section (an ELF shared object) straight from memory:
// memfd_create + dlopen("/proc/self/fd/N"), falling back to a temporary file
// that is unlinked right after dlopen where memfd is unavailable (or when
// the environment sets TSR_RUNTIME_NO_MEMFD=1).
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_RUNTIME_HOSTCODE_H
#define TESSERA_RUNTIME_HOSTCODE_H

#include "Support.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace tessera::runtime {

/// A loaded shared object; dlclose'd on destruction.
class HostCode {
public:
  HostCode() = default;
  HostCode(const HostCode &) = delete;
  HostCode &operator=(const HostCode &) = delete;
  ~HostCode();

  /// Loads `size` bytes of ELF shared object. `label` (the model name) only
  /// names the memfd for debugging. Leaves *this empty on failure.
  bool load(const uint8_t *data, size_t size, const std::string &label,
            Error *err);

  /// Looks up a symbol; fails with the dlerror() text.
  void *symbol(const std::string &name, Error *err) const;

private:
  void *handle = nullptr;
  int fd = -1; // the memfd, kept open so its /proc path stays ours
};

} // namespace tessera::runtime

#endif // TESSERA_RUNTIME_HOSTCODE_H
