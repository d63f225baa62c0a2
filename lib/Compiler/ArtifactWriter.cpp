//===- ArtifactWriter.cpp - writes .tsr artifacts -------------------------===//
#include "lib/Compiler/ArtifactWriter.h"

#include "runtime/Crc32.h"
#include "tessera/Artifact.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

namespace tessera {

static_assert(sizeof(TsrFileHeader) == 64, "header layout");
static_assert(sizeof(TsrSectionEntry) == 32, "section entry layout");

namespace {
uint64_t alignUp(uint64_t v) {
  return (v + TSR_SECTION_ALIGN - 1) / TSR_SECTION_ALIGN * TSR_SECTION_ALIGN;
}
} // namespace

std::string buildArtifact(const std::vector<ArtifactSection> &sections) {
  TsrFileHeader header;
  std::memset(&header, 0, sizeof(header));
  std::memcpy(header.magic, TSR_MAGIC, 8);
  header.format_version = TSR_FORMAT_VERSION;
  header.section_count = sections.size();
  std::vector<TsrSectionEntry> table(sections.size());
  uint64_t offset =
      alignUp(sizeof(TsrFileHeader) + sections.size() * sizeof(TsrSectionEntry));
  for (size_t i = 0; i < sections.size(); ++i) {
    std::memset(&table[i], 0, sizeof(TsrSectionEntry));
    table[i].kind = sections[i].kind;
    table[i].offset = offset;
    table[i].size = sections[i].bytes.size();
    table[i].crc32 = runtime::crc32(0, sections[i].bytes.data(),
                                    sections[i].bytes.size());
    offset = alignUp(offset + sections[i].bytes.size());
  }
  header.file_size = offset;
  uint32_t crc = runtime::crc32(0, &header, sizeof(header));
  crc = runtime::crc32(crc, table.data(), table.size() * sizeof(TsrSectionEntry));
  header.header_crc32 = crc;

  std::string out(offset, '\0');
  std::memcpy(out.data(), &header, sizeof(header));
  std::memcpy(out.data() + sizeof(header), table.data(),
              table.size() * sizeof(TsrSectionEntry));
  for (size_t i = 0; i < sections.size(); ++i)
    std::memcpy(out.data() + table[i].offset, sections[i].bytes.data(),
                sections[i].bytes.size());
  return out;
}

bool writeFileAtomically(const std::string &path, const std::string &bytes,
                         std::string &error) {
  llvm::SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  llvm::SmallString<256> model(dir);
  llvm::sys::path::append(model, ".tessera-%%%%%%%%.tmp");
  int fd;
  llvm::SmallString<256> tmp;
  if (auto ec = llvm::sys::fs::createUniqueFile(model, fd, tmp)) {
    error = "cannot create a file in '" + dir.str().str() + "': " + ec.message();
    return false;
  }
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os.write(bytes.data(), bytes.size());
    os.flush();
    if (os.has_error()) {
      error = "cannot write '" + tmp.str().str() + "': " + os.error().message();
      os.clear_error();
      llvm::sys::fs::remove(tmp);
      return false;
    }
  }
  if (auto ec = llvm::sys::fs::rename(tmp, path)) {
    error = "cannot rename to '" + path + "': " + ec.message();
    llvm::sys::fs::remove(tmp);
    return false;
  }
  return true;
}

} // namespace tessera
