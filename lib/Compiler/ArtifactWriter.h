//===- ArtifactWriter.h - writes .tsr artifacts -----------------*- C++ -*-===//
#ifndef TESSERA_LIB_COMPILER_ARTIFACTWRITER_H
#define TESSERA_LIB_COMPILER_ARTIFACTWRITER_H

#include <cstdint>
#include <string>
#include <vector>

namespace tessera {

struct ArtifactSection {
  uint32_t kind; ///< TsrSectionKind
  std::string bytes;
};

/// Serialises sections into the layout of include/tessera/Artifact.h.
std::string buildArtifact(const std::vector<ArtifactSection> &sections);

/// Writes `bytes` to `path` atomically (temp file + rename). Returns false
/// and sets `error` on failure; `path` is then untouched.
bool writeFileAtomically(const std::string &path, const std::string &bytes,
                         std::string &error);

} // namespace tessera

#endif
