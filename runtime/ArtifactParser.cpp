//===- runtime/ArtifactParser.cpp - Validating artifact parser ------------===//
//
// Order of checks: size and magic, format version, file size (truncation),
// header fields, section table bounds, header CRC, each section's placement,
// section counts, overlaps, section CRCs, manifest JSON, manifest schema,
// weight placement. Every failure stops with one message naming the field,
// section or offset at fault.
//
//===----------------------------------------------------------------------===//

#include "ArtifactParser.h"

#include "Crc32.h"
#include "tessera/Artifact.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>

using nlohmann::json;

namespace tessera::runtime {

std::string sectionKindName(uint32_t kind) {
  switch (kind) {
  case TSR_SECTION_MANIFEST:
    return "manifest";
  case TSR_SECTION_HOST_CODE:
    return "host_code";
  case TSR_SECTION_WEIGHTS:
    return "weights";
  case TSR_SECTION_PTX:
    return "ptx";
  case TSR_SECTION_CUBIN:
    return "cubin";
  default:
    return "kind " + std::to_string(kind);
  }
}

namespace {

constexpr size_t kHeaderSize = 64;
constexpr size_t kEntrySize = 32;
static_assert(sizeof(TsrFileHeader) == kHeaderSize, "ABI: header is 64 bytes");
static_assert(sizeof(TsrSectionEntry) == kEntrySize, "ABI: entry is 32 bytes");
static_assert(offsetof(TsrFileHeader, header_crc32) == 24, "ABI layout");
static_assert(offsetof(TsrSectionEntry, offset) == 8, "ABI layout");

// Field offsets, from Artifact.h.
constexpr size_t kVersionAt = offsetof(TsrFileHeader, format_version);
constexpr size_t kCountAt = offsetof(TsrFileHeader, section_count);
constexpr size_t kFileSizeAt = offsetof(TsrFileHeader, file_size);
constexpr size_t kCrcAt = offsetof(TsrFileHeader, header_crc32);
constexpr size_t kFlagsAt = offsetof(TsrFileHeader, flags);
constexpr size_t kReservedAt = offsetof(TsrFileHeader, reserved);

uint32_t readU32(const uint8_t *p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 |
         uint32_t(p[3]) << 24;
}

uint64_t readU64(const uint8_t *p) {
  return uint64_t(readU32(p)) | uint64_t(readU32(p + 4)) << 32;
}

std::string hex32(uint32_t v) {
  char buf[16];
  snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

bool fail(Error *err, tsr_code code, std::string message) {
  err->code = code;
  err->message = std::move(message);
  return false;
}

std::string sectionLabel(size_t index, uint32_t kind) {
  return "section #" + std::to_string(index) + " ('" + sectionKindName(kind) +
         "')";
}

//===--------------------------- header and table -------------------------===//

bool parseContainer(const uint8_t *bytes, size_t size, ParsedArtifact &out,
                    Error *err) {
  const size_t magicLen = std::min<size_t>(size, 8);
  if (size == 0 || std::memcmp(bytes, TSR_MAGIC, magicLen) != 0) {
    if (size == 0)
      return fail(err, TSR_ERR_CORRUPT, "artifact truncated: file has 0 bytes");
    return fail(err, TSR_ERR_FORMAT,
                "not a Tessera artifact (bad magic; expected \"TESSERA\\0\" "
                "at offset 0)");
  }
  if (size < kHeaderSize)
    return fail(err, TSR_ERR_CORRUPT,
                "artifact truncated: file has " + std::to_string(size) +
                    " bytes, less than the 64-byte header");

  const uint32_t version = readU32(bytes + kVersionAt);
  if (version != TSR_FORMAT_VERSION)
    return fail(err, TSR_ERR_VERSION,
                "artifact format version " + std::to_string(version) +
                    " is not supported by this runtime (supports " +
                    std::to_string(TSR_FORMAT_VERSION) + ")");

  const uint64_t fileSize = readU64(bytes + kFileSizeAt);
  if (fileSize > size)
    return fail(err, TSR_ERR_CORRUPT,
                "artifact truncated: header says " + std::to_string(fileSize) +
                    " bytes, file has " + std::to_string(size));
  if (fileSize < size)
    return fail(err, TSR_ERR_CORRUPT,
                "artifact has " + std::to_string(size - fileSize) +
                    " bytes of trailing data: header says " +
                    std::to_string(fileSize) + " bytes, file has " +
                    std::to_string(size));

  const uint32_t count = readU32(bytes + kCountAt);
  if (count > TSR_MAX_SECTIONS)
    return fail(err, TSR_ERR_CORRUPT,
                "header: section_count " + std::to_string(count) +
                    " exceeds the maximum of " +
                    std::to_string(TSR_MAX_SECTIONS));
  const size_t tableEnd = kHeaderSize + size_t(count) * kEntrySize;
  if (tableEnd > size)
    return fail(err, TSR_ERR_CORRUPT,
                "artifact truncated: the section table (" +
                    std::to_string(count) + " entries) ends at byte " +
                    std::to_string(tableEnd) + " but the file has " +
                    std::to_string(size) + " bytes");

  // CRC of the header with its crc field zeroed, then the table.
  uint8_t header[kHeaderSize];
  std::memcpy(header, bytes, kHeaderSize);
  std::memset(header + kCrcAt, 0, 4);
  uint32_t crc = crc32(0, header, kHeaderSize);
  crc = crc32(crc, bytes + kHeaderSize, tableEnd - kHeaderSize);
  const uint32_t storedCrc = readU32(bytes + kCrcAt);
  if (crc != storedCrc)
    return fail(err, TSR_ERR_CORRUPT,
                "artifact header is corrupted (CRC mismatch): stored " +
                    hex32(storedCrc) + ", computed " + hex32(crc) +
                    " over the header and section table");

  const uint32_t flags = readU32(bytes + kFlagsAt);
  if (flags != 0)
    return fail(err, TSR_ERR_FORMAT,
                "header: flags must be 0, got " + hex32(flags));
  for (size_t i = 0; i < sizeof(TsrFileHeader::reserved); ++i)
    if (bytes[kReservedAt + i] != 0)
      return fail(err, TSR_ERR_FORMAT,
                  "header: reserved byte at offset " +
                      std::to_string(kReservedAt + i) + " must be zero");

  out.formatVersion = version;
  out.fileSize = fileSize;
  out.sections.clear();
  for (size_t i = 0; i < count; ++i) {
    const uint8_t *e = bytes + kHeaderSize + i * kEntrySize;
    SectionInfo s;
    s.kind = readU32(e + offsetof(TsrSectionEntry, kind));
    s.crc32 = readU32(e + offsetof(TsrSectionEntry, crc32));
    s.offset = readU64(e + offsetof(TsrSectionEntry, offset));
    s.size = readU64(e + offsetof(TsrSectionEntry, size));
    const uint64_t reserved = readU64(e + offsetof(TsrSectionEntry, reserved));
    const std::string label = sectionLabel(i, s.kind);

    if (s.kind < TSR_SECTION_MANIFEST || s.kind > TSR_SECTION_CUBIN)
      return fail(err, TSR_ERR_FORMAT,
                  "section #" + std::to_string(i) + " has unknown kind " +
                      std::to_string(s.kind));
    if (reserved != 0)
      return fail(err, TSR_ERR_FORMAT,
                  label + ": reserved field must be zero");
    if (s.offset % TSR_SECTION_ALIGN != 0)
      return fail(err, TSR_ERR_CORRUPT,
                  label + ": offset " + std::to_string(s.offset) +
                      " is not a multiple of " +
                      std::to_string(TSR_SECTION_ALIGN));
    if (s.offset < tableEnd)
      return fail(err, TSR_ERR_CORRUPT,
                  label + ": offset " + std::to_string(s.offset) +
                      " overlaps the header and section table (which end at "
                      "byte " + std::to_string(tableEnd) + ")");
    uint64_t end = 0;
    if (__builtin_add_overflow(s.offset, s.size, &end) || end > fileSize)
      return fail(err, TSR_ERR_CORRUPT,
                  label + ": bytes [" + std::to_string(s.offset) + ", " +
                      std::to_string(s.offset) + " + " +
                      std::to_string(s.size) +
                      ") extend past the end of the artifact (" +
                      std::to_string(fileSize) + " bytes)");

    int *slot = s.kind == TSR_SECTION_MANIFEST    ? &out.manifestSection
                : s.kind == TSR_SECTION_HOST_CODE ? &out.hostCodeSection
                : s.kind == TSR_SECTION_WEIGHTS   ? &out.weightsSection
                : s.kind == TSR_SECTION_PTX       ? &out.ptxSection
                                                  : &out.cubinSection;
    if (*slot >= 0)
      return fail(err, TSR_ERR_FORMAT,
                  "artifact has more than one '" + sectionKindName(s.kind) +
                      "' section (#" + std::to_string(*slot) + " and #" +
                      std::to_string(i) + ")");
    *slot = static_cast<int>(i);
    out.sections.push_back(s);
  }
  if (out.manifestSection < 0)
    return fail(err, TSR_ERR_FORMAT, "artifact has no 'manifest' section");

  // No two sections may share bytes.
  std::vector<size_t> order(out.sections.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const uint64_t oa = out.sections[a].offset, ob = out.sections[b].offset;
    return oa < ob || (oa == ob && a < b);
  });
  for (size_t k = 1; k < order.size(); ++k) {
    const SectionInfo &prev = out.sections[order[k - 1]];
    const SectionInfo &cur = out.sections[order[k]];
    if (prev.offset + prev.size > cur.offset)
      return fail(err, TSR_ERR_CORRUPT,
                  sectionLabel(order[k - 1], prev.kind) + " and " +
                      sectionLabel(order[k], cur.kind) + " overlap");
  }

  for (size_t i = 0; i < out.sections.size(); ++i) {
    const SectionInfo &s = out.sections[i];
    const uint32_t actual = crc32(0, bytes + s.offset, s.size);
    if (actual != s.crc32)
      return fail(err, TSR_ERR_CORRUPT,
                  "section '" + sectionKindName(s.kind) +
                      "' is corrupted (CRC mismatch): stored " +
                      hex32(s.crc32) + ", computed " + hex32(actual) +
                      " over " + std::to_string(s.size) +
                      " bytes at offset " + std::to_string(s.offset));
  }
  return true;
}

//===--------------------------- manifest ---------------------------------===//

/// Reads typed fields of the manifest, naming the JSON path on failure.
class ManifestReader {
public:
  explicit ManifestReader(Error *err) : err(err) {}

  bool schema(std::string message) {
    return fail(err, TSR_ERR_FORMAT, "manifest: " + std::move(message));
  }

  const json *field(const json &obj, const char *key, const std::string &path,
                    bool required) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required)
        schema("missing required field '" + path + key + "'");
      return nullptr;
    }
    return &*it;
  }

  bool string(const json &obj, const char *key, const std::string &path,
              std::string &out, bool allowEmpty = false) {
    const json *v = field(obj, key, path, /*required=*/true);
    if (!v)
      return false;
    if (!v->is_string())
      return schema("'" + path + key + "' must be a string, got " +
                    v->type_name());
    out = v->get_ref<const std::string &>();
    if (out.find('\0') != std::string::npos)
      return schema("'" + path + key + "' contains a NUL character");
    if (!allowEmpty && out.empty())
      return schema("'" + path + key + "' must not be empty");
    return true;
  }

  bool integer(const json &v, const std::string &what, int64_t &out) {
    if (v.is_number_unsigned()) {
      const uint64_t u = v.get<uint64_t>();
      if (u > uint64_t(INT64_MAX))
        return schema("'" + what + "' is too large (" + std::to_string(u) +
                      ")");
      out = int64_t(u);
      return true;
    }
    if (!v.is_number_integer())
      return schema("'" + what + "' must be an integer, got " +
                    (v.is_number() ? std::string("a non-integer number")
                                   : std::string(v.type_name())));
    out = v.get<int64_t>();
    return true;
  }

  bool integerField(const json &obj, const char *key, const std::string &path,
                    int64_t &out) {
    const json *v = field(obj, key, path, /*required=*/true);
    return v && integer(*v, path + key, out);
  }

  bool tensor(const json &entry, const std::string &path, TensorSpec &out) {
    if (!entry.is_object())
      return schema("'" + path + "' must be an object, got " +
                    entry.type_name());
    if (!string(entry, "name", path + ".", out.name))
      return false;
    const std::string where = path + " ('" + out.name + "')";
    std::string dtype;
    if (!string(entry, "dtype", path + ".", dtype))
      return false;
    out.dtype = dtypeFromName(dtype);
    if (out.dtype == TSR_DTYPE_INVALID)
      return schema(where + ": dtype '" + dtype +
                    "' is not a known dtype (expected one of " +
                    dtypeNameList() + ")");
    const json *shape = field(entry, "shape", path + ".", /*required=*/true);
    if (!shape)
      return false;
    if (!shape->is_array())
      return schema(where + ": 'shape' must be an array, got " +
                    shape->type_name());
    if (shape->size() > TSR_MAX_RANK)
      return schema(where + ": rank " + std::to_string(shape->size()) +
                    " exceeds the maximum of " + std::to_string(TSR_MAX_RANK));
    out.shape.clear();
    for (size_t d = 0; d < shape->size(); ++d) {
      int64_t dim = 0;
      const std::string dimPath = path + ".shape[" + std::to_string(d) + "]";
      if (!integer((*shape)[d], dimPath, dim))
        return false;
      if (dim < 0)
        return schema("'" + dimPath + "' of '" + out.name +
                      "' is negative (" + std::to_string(dim) + ")");
      out.shape.push_back(dim);
    }
    if (!shapeSizes(out.shape, dtypeSize(out.dtype), out.elementCount,
                    out.byteSize) ||
        out.byteSize > size_t(INT64_MAX))
      return schema(where + ": shape " + formatShape(out.shape) + " (" +
                    dtype + ") is too large (its byte size overflows)");
    return true;
  }

  template <typename Spec>
  bool tensorList(const json &root, const char *key, bool required,
                  std::vector<Spec> &out) {
    out.clear();
    const json *list = field(root, key, "", required);
    if (!list)
      return !required;
    if (!list->is_array())
      return schema("'" + std::string(key) + "' must be an array, got " +
                    list->type_name());
    std::set<std::string> names;
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string path = std::string(key) + "[" + std::to_string(i) + "]";
      Spec spec;
      if (!tensor((*list)[i], path, spec))
        return false;
      if (!names.insert(spec.name).second)
        return schema("'" + path + "': name '" + spec.name +
                      "' is used by more than one entry of '" + key + "'");
      out.push_back(std::move(spec));
    }
    return true;
  }

  bool boolean(const json &obj, const char *key, const std::string &path,
               bool &out) {
    const json *v = field(obj, key, path, /*required=*/true);
    if (!v)
      return false;
    if (!v->is_boolean())
      return schema("'" + path + key + "' must be a boolean, got " +
                    v->type_name());
    out = v->get<bool>();
    return true;
  }

  /// An array of small non-negative integers (e.g. bytes, launch dims).
  bool uintList(const json &obj, const char *key, const std::string &path,
                uint64_t max, std::vector<uint64_t> &out) {
    const json *v = field(obj, key, path, /*required=*/true);
    if (!v)
      return false;
    if (!v->is_array())
      return schema("'" + path + key + "' must be an array, got " +
                    v->type_name());
    out.clear();
    for (size_t i = 0; i < v->size(); ++i) {
      int64_t x = 0;
      std::string p = path + key + "[" + std::to_string(i) + "]";
      if (!integer((*v)[i], p, x))
        return false;
      if (x < 0 || uint64_t(x) > max)
        return schema("'" + p + "' = " + std::to_string(x) +
                      " is outside [0, " + std::to_string(max) + "]");
      out.push_back(uint64_t(x));
    }
    return true;
  }

private:
  Error *err;
};

/// "mesh" of a partitioned artifact, then each input's and output's
/// "split" and "local_shape" against it.
bool parseMesh(const json &root, ParsedArtifact &out, ManifestReader &r) {
  const json *mesh = r.field(root, "mesh", "", /*required=*/false);
  if (mesh) {
    if (!mesh->is_object())
      return r.schema(std::string("'mesh' must be an object, got ") +
                      mesh->type_name());
    std::vector<uint64_t> shape;
    if (!r.uintList(*mesh, "shape", "mesh.", 1u << 16, shape))
      return false;
    const json *axes = r.field(*mesh, "axes", "mesh.", /*required=*/true);
    if (!axes)
      return false;
    if (!axes->is_array() || axes->size() != shape.size() || shape.empty() ||
        shape.size() > 16)
      return r.schema("'mesh.axes' must be an array of 1 to 16 names, one per "
                      "entry of 'mesh.shape'");
    uint64_t devices = 1;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (!(*axes)[i].is_string())
        return r.schema("'mesh.axes[" + std::to_string(i) +
                        "]' must be a string");
      if (shape[i] == 0)
        return r.schema("'mesh.shape[" + std::to_string(i) + "]' is 0");
      devices *= shape[i];
      if (devices > (1u << 16))
        return r.schema("'mesh' has more than 65536 devices");
      out.meshShape.push_back(int64_t(shape[i]));
      out.meshAxes.push_back((*axes)[i].get<std::string>());
    }
  }
  auto splits = [&](const char *key, std::vector<TensorSpec> &specs) {
    const json &list = root[key];
    for (size_t i = 0; i < specs.size(); ++i) {
      TensorSpec &t = specs[i];
      const json &entry = list[i];
      const std::string path = std::string(key) + "[" + std::to_string(i) + "].";
      const std::string where = std::string(key) + "[" + std::to_string(i) +
                                "] ('" + t.name + "')";
      const json *split = r.field(entry, "split", path, /*required=*/false);
      if (!split)
        continue;
      if (out.meshShape.empty())
        return r.schema(where + " has a 'split' but the artifact has no 'mesh'");
      if (!split->is_array() || split->size() != t.shape.size())
        return r.schema("'" + path + "split' must be an array of " +
                        std::to_string(t.shape.size()) + " axis lists");
      std::vector<uint64_t> local;
      if (!r.uintList(entry, "local_shape", path, uint64_t(INT64_MAX), local))
        return false;
      if (local.size() != t.shape.size())
        return r.schema("'" + path + "local_shape' has " +
                        std::to_string(local.size()) + " dims, 'shape' " +
                        std::to_string(t.shape.size()));
      std::vector<bool> used(out.meshShape.size(), false);
      for (size_t d = 0; d < t.shape.size(); ++d) {
        const json &axes = (*split)[d];
        const std::string dpath = path + "split[" + std::to_string(d) + "]";
        if (!axes.is_array())
          return r.schema("'" + dpath + "' must be an array of mesh axes");
        std::vector<int> list;
        int64_t n = 1;
        for (size_t k = 0; k < axes.size(); ++k) {
          int64_t a = 0;
          if (!r.integer(axes[k], dpath, a))
            return false;
          if (a < 0 || a >= int64_t(out.meshShape.size()) || used[size_t(a)])
            return r.schema("'" + dpath + "': mesh axis " + std::to_string(a) +
                            " is out of range or used twice");
          used[size_t(a)] = true;
          list.push_back(int(a));
          n *= out.meshShape[size_t(a)];
        }
        if (t.shape[d] % n || int64_t(local[d]) != t.shape[d] / n)
          return r.schema(where + ": dim " + std::to_string(d) + " (" +
                          std::to_string(t.shape[d]) + ") split over " +
                          std::to_string(n) + " devices is not local dim " +
                          std::to_string(local[d]));
        t.split.push_back(std::move(list));
        t.localShape.push_back(int64_t(local[d]));
      }
      int64_t elements = 0;
      if (!shapeSizes(t.localShape, dtypeSize(t.dtype), elements, t.localBytes))
        return r.schema(where + ": local shape overflows");
    }
    for (TensorSpec &t : specs)
      if (t.split.empty()) {
        t.localShape = t.shape;
        t.localBytes = t.byteSize;
      }
    return true;
  };
  if (!splits("inputs", out.inputs) || !splits("outputs", out.outputs))
    return false;
  const json *weights = r.field(root, "weights", "", /*required=*/false);
  if (weights)
    for (size_t i = 0; i < weights->size(); ++i)
      if ((*weights)[i].contains("split"))
        return r.schema("'weights[" + std::to_string(i) +
                        "]' has a 'split': weights are stored whole");
  return true;
}

/// The "gpu" launch plan of a cuda artifact.
bool parseGpuPlan(const json &root, ParsedArtifact &out, ManifestReader &r) {
  GpuPlan &plan = out.gpu;
  if (!r.string(root, "gpu_arch", "", plan.arch))
    return false;
  const json *gpu = r.field(root, "gpu", "", /*required=*/true);
  if (!gpu)
    return false;
  if (!gpu->is_object())
    return r.schema(std::string("'gpu' must be an object, got ") +
                    gpu->type_name());
  int64_t arena = 0;
  if (!r.integerField(*gpu, "arena_bytes", "gpu.", arena) ||
      !r.string(*gpu, "kernel_module", "gpu.", plan.kernelModule))
    return false;
  if (arena < 0 || arena > (int64_t(1) << 40))
    return r.schema("'gpu.arena_bytes' = " + std::to_string(arena) +
                    " is outside [0, 2^40]");
  plan.arenaBytes = uint64_t(arena);
  const size_t nargs =
      out.inputs.size() + out.weights.size() + out.outputs.size();
  auto argBytes = [&](size_t i) -> uint64_t {
    if (i < out.inputs.size())
      return out.inputs[i].byteSize;
    i -= out.inputs.size();
    if (i < out.weights.size())
      return out.weights[i].byteSize;
    return out.outputs[i - out.weights.size()].byteSize;
  };

  const json *bufs = r.field(*gpu, "buffers", "gpu.", true);
  if (!bufs)
    return false;
  if (!bufs->is_array())
    return r.schema("'gpu.buffers' must be an array");
  for (size_t i = 0; i < bufs->size(); ++i) {
    const json &b = (*bufs)[i];
    const std::string path = "gpu.buffers[" + std::to_string(i) + "].";
    if (!b.is_object())
      return r.schema("'" + path.substr(0, path.size() - 1) +
                      "' must be an object");
    GpuBuffer buf;
    std::string kind;
    int64_t bytes = 0;
    if (!r.string(b, "kind", path, kind) ||
        !r.integerField(b, "bytes", path, bytes))
      return false;
    if (bytes < 0)
      return r.schema("'" + path + "bytes' is negative");
    buf.bytes = uint64_t(bytes);
    if (kind == "arg") {
      int64_t index = 0;
      if (!r.integerField(b, "index", path, index))
        return false;
      if (index < 0 || size_t(index) >= nargs)
        return r.schema("'" + path + "index' = " + std::to_string(index) +
                        " is not an argument (the model has " +
                        std::to_string(nargs) + ")");
      buf.kind = GpuBuffer::Arg;
      buf.argIndex = size_t(index);
      if (buf.bytes != argBytes(buf.argIndex))
        return r.schema("'" + path + "bytes' = " + std::to_string(bytes) +
                        " differs from argument " + std::to_string(index) +
                        "'s " + std::to_string(argBytes(buf.argIndex)) +
                        " bytes");
    } else if (kind == "arena" || kind == "const") {
      int64_t offset = 0;
      if (!r.integerField(b, "offset", path, offset))
        return false;
      if (offset < 0 || uint64_t(offset) > plan.arenaBytes ||
          buf.bytes > plan.arenaBytes - uint64_t(offset))
        return r.schema("'" + path.substr(0, path.size() - 1) +
                        "': bytes [" + std::to_string(offset) + ", +" +
                        std::to_string(bytes) + ") are outside the arena (" +
                        std::to_string(plan.arenaBytes) + " bytes)");
      buf.offset = uint64_t(offset);
      buf.kind = kind == "arena" ? GpuBuffer::Arena : GpuBuffer::Const;
      if (buf.kind == GpuBuffer::Const) {
        std::vector<uint64_t> data;
        if (b.contains("splat")) {
          int64_t count = 0;
          if (!r.uintList(b, "splat", path, 255, data) ||
              !r.integerField(b, "count", path, count))
            return false;
          if (data.empty() || count < 0 ||
              uint64_t(count) * data.size() != buf.bytes)
            return r.schema("'" + path + "splat' x count does not make " +
                            std::to_string(bytes) + " bytes");
          buf.data.reserve(buf.bytes);
          for (int64_t c = 0; c < count; ++c)
            buf.data.insert(buf.data.end(), data.begin(), data.end());
        } else {
          if (!r.uintList(b, "data", path, 255, data))
            return false;
          if (data.size() != buf.bytes)
            return r.schema("'" + path + "data' has " +
                            std::to_string(data.size()) + " bytes, not " +
                            std::to_string(bytes));
          buf.data.assign(data.begin(), data.end());
        }
      }
    } else {
      return r.schema("'" + path + "kind' is '" + kind +
                      "' (expected arg, arena or const)");
    }
    plan.buffers.push_back(std::move(buf));
  }

  auto parseRef = [&](const json &j, const std::string &path, uint64_t need,
                      GpuRef &ref) {
    if (!j.is_object())
      return r.schema("'" + path + "' must be an object");
    int64_t id = 0, offset = 0;
    if (!r.integerField(j, "buffer", path + ".", id) ||
        !r.integerField(j, "offset", path + ".", offset))
      return false;
    if (id < 0 || size_t(id) >= plan.buffers.size())
      return r.schema("'" + path + ".buffer' = " + std::to_string(id) +
                      " is not a buffer");
    const GpuBuffer &b = plan.buffers[size_t(id)];
    if (offset < 0 || uint64_t(offset) > b.bytes ||
        need > b.bytes - uint64_t(offset))
      return r.schema("'" + path + "': " + std::to_string(need) +
                      " bytes at offset " + std::to_string(offset) +
                      " do not fit buffer " + std::to_string(id) + " (" +
                      std::to_string(b.bytes) + " bytes)");
    ref.buffer = size_t(id);
    ref.offset = uint64_t(offset);
    return true;
  };

  const json *steps = r.field(*gpu, "steps", "gpu.", true);
  if (!steps)
    return false;
  if (!steps->is_array())
    return r.schema("'gpu.steps' must be an array");
  for (size_t i = 0; i < steps->size(); ++i) {
    const json &s = (*steps)[i];
    const std::string path = "gpu.steps[" + std::to_string(i) + "]";
    if (!s.is_object())
      return r.schema("'" + path + "' must be an object");
    GpuStep step;
    std::string op;
    if (!r.string(s, "op", path + ".", op) ||
        !r.string(s, "loc", path + ".", step.loc, /*allowEmpty=*/true))
      return false;
    if (op == "launch") {
      step.op = GpuStep::Launch;
      std::vector<uint64_t> grid, block;
      if (!r.string(s, "kernel", path + ".", step.kernel) ||
          !r.uintList(s, "grid", path + ".", 0x7fffffff, grid) ||
          !r.uintList(s, "block", path + ".", 1024, block))
        return false;
      if (grid.size() != 3 || block.size() != 3)
        return r.schema("'" + path + "': grid and block need 3 dims");
      uint64_t threads = 1;
      for (int d = 0; d < 3; ++d) {
        if (grid[d] == 0 || block[d] == 0)
          return r.schema("'" + path + "': launch dims must be positive");
        step.grid[d] = uint32_t(grid[d]);
        step.block[d] = uint32_t(block[d]);
        threads *= block[d];
      }
      if (threads > 1024)
        return r.schema("'" + path + "': " + std::to_string(threads) +
                        " threads per block (at most 1024)");
      const json *args = r.field(s, "args", path + ".", true);
      if (!args)
        return false;
      if (!args->is_array() || args->size() > 256)
        return r.schema("'" + path + ".args' must be an array of <= 256");
      for (size_t a = 0; a < args->size(); ++a) {
        GpuRef ref;
        if (!parseRef((*args)[a], path + ".args[" + std::to_string(a) + "]",
                      0, ref))
          return false;
        step.args.push_back(ref);
      }
    } else if (op == "gemm") {
      step.op = GpuStep::Gemm;
      std::string dtype;
      if (!r.string(s, "dtype", path + ".", dtype) ||
          !r.integerField(s, "batch", path + ".", step.batch) ||
          !r.integerField(s, "m", path + ".", step.m) ||
          !r.integerField(s, "n", path + ".", step.n) ||
          !r.integerField(s, "k", path + ".", step.k) ||
          !r.boolean(s, "a_batched", path + ".", step.aBatched) ||
          !r.boolean(s, "b_batched", path + ".", step.bBatched))
        return false;
      if (dtype == "f32")
        step.inputDtype = TSR_DTYPE_F32;
      else if (dtype == "bf16")
        step.inputDtype = TSR_DTYPE_BF16;
      else if (dtype == "f16")
        step.inputDtype = TSR_DTYPE_F16;
      else
        return r.schema("'" + path + ".dtype' '" + dtype +
                        "' is not supported (f32, bf16, f16)");
      const int64_t lim = int64_t(1) << 31;
      if (step.batch < 1 || step.m < 1 || step.n < 1 || step.k < 1 ||
          step.batch >= lim || step.m >= lim || step.n >= lim ||
          step.k >= lim)
        return r.schema("'" + path + "': batch/m/n/k must be in [1, 2^31)");
      // A and B have the step's dtype, C is f32.
      const uint64_t e = dtypeSize(step.inputDtype), B = uint64_t(step.batch), M = uint64_t(step.m),
                     N = uint64_t(step.n), K = uint64_t(step.k);
      uint64_t needA = 0, needB = 0, needC = 0;
      if (__builtin_mul_overflow((step.aBatched ? B : 1) * e, M * K, &needA) ||
          __builtin_mul_overflow((step.bBatched ? B : 1) * e, K * N, &needB) ||
          __builtin_mul_overflow(B * 4, M * N, &needC))
        return r.schema("'" + path + "': GEMM sizes overflow");
      const json *a = r.field(s, "a", path + ".", true);
      const json *b = r.field(s, "b", path + ".", true);
      const json *c = r.field(s, "c", path + ".", true);
      if (!a || !b || !c || !parseRef(*a, path + ".a", needA, step.a) ||
          !parseRef(*b, path + ".b", needB, step.b) ||
          !parseRef(*c, path + ".c", needC, step.c))
        return false;
    } else {
      return r.schema("'" + path + ".op' is '" + op +
                      "' (expected launch or gemm)");
    }
    plan.steps.push_back(std::move(step));
  }
  return true;
}

bool parseManifest(const uint8_t *bytes, ParsedArtifact &out, Error *err) {
  const SectionInfo &ms = out.sections[out.manifestSection];
  out.manifestJson.assign(reinterpret_cast<const char *>(bytes + ms.offset),
                          ms.size);
  json root;
  try {
    root = json::parse(out.manifestJson);
  } catch (const json::exception &e) {
    return fail(err, TSR_ERR_FORMAT,
                std::string("manifest: invalid JSON: ") + e.what());
  }
  ManifestReader r(err);
  if (!root.is_object())
    return r.schema(std::string("the top level must be a JSON object, got ") +
                    root.type_name());

  int64_t version = 0;
  if (!r.integerField(root, "format_version", "", version))
    return false;
  if (version != int64_t(out.formatVersion))
    return fail(err, TSR_ERR_VERSION,
                "manifest: format_version is " + std::to_string(version) +
                    " but the header says " +
                    std::to_string(out.formatVersion));
  if (!r.string(root, "producer", "", out.producer, /*allowEmpty=*/true) ||
      !r.string(root, "model", "", out.model, /*allowEmpty=*/true) ||
      !r.string(root, "target", "", out.target) ||
      !r.string(root, "entry", "", out.entry) ||
      !r.string(root, "abi", "", out.abi))
    return false;
  if (out.target != "cpu" && out.target != "cuda")
    return fail(err, TSR_ERR_UNSUPPORTED_TARGET,
                "this artifact targets '" + out.target +
                    "', which this runtime does not know (known: cpu, cuda)");
  if (out.abi != "tessera-packed-v1" && out.abi != "tessera-packed-v2")
    return fail(err, TSR_ERR_VERSION,
                "manifest: abi '" + out.abi +
                    "' is not supported by this runtime (supports "
                    "'tessera-packed-v1', 'tessera-packed-v2')");
  // v2: the host code takes one more pointer, a scratch arena of
  // `arena_bytes` bytes planned at compile time.
  if (out.abi == "tessera-packed-v2") {
    int64_t arena = 0;
    if (!r.integerField(root, "arena_bytes", "", arena))
      return false;
    if (arena <= 0 || arena > (int64_t(1) << 40))
      return r.schema("'arena_bytes' = " + std::to_string(arena) +
                      " is out of range (1 .. 2^40)");
    out.arenaBytes = uint64_t(arena);
  }

  if (!r.tensorList(root, "inputs", /*required=*/true, out.inputs) ||
      !r.tensorList(root, "outputs", /*required=*/true, out.outputs) ||
      !r.tensorList(root, "weights", /*required=*/false, out.weights))
    return false;
  if (out.outputs.empty())
    return r.schema("'outputs' is empty; a model must have an output");
  if (!parseMesh(root, out, r))
    return false;
  if (!out.meshShape.empty() && out.target != "cpu")
    return fail(err, TSR_ERR_UNSUPPORTED_TARGET,
                "partitioned artifacts run on the cpu target only");

  // Weight offsets/sizes, then their placement in the WEIGHTS section.
  const json *weights = root.contains("weights") ? &root["weights"] : nullptr;
  const uint64_t sectionSize =
      out.weightsSection >= 0 ? out.sections[out.weightsSection].size : 0;
  for (size_t i = 0; i < out.weights.size(); ++i) {
    WeightSpec &w = out.weights[i];
    const json &entry = (*weights)[i];
    const std::string path = "weights[" + std::to_string(i) + "].";
    const std::string where = "weights[" + std::to_string(i) + "] ('" +
                              w.name + "')";
    int64_t offset = 0, size = 0;
    if (!r.integerField(entry, "offset", path, offset) ||
        !r.integerField(entry, "size", path, size))
      return false;
    if (offset < 0 || size < 0)
      return r.schema(where + ": offset and size must be non-negative (got " +
                      std::to_string(offset) + ", " + std::to_string(size) +
                      ")");
    if (uint64_t(offset) % TSR_SECTION_ALIGN != 0)
      return r.schema(where + ": offset " + std::to_string(offset) +
                      " is not a multiple of " +
                      std::to_string(TSR_SECTION_ALIGN));
    if (uint64_t(size) != w.byteSize)
      return r.schema(where + ": size " + std::to_string(size) +
                      " does not match its shape " + formatShape(w.shape) +
                      " (" + dtypeName(w.dtype) + ") = " +
                      std::to_string(w.byteSize) + " bytes");
    if (out.weightsSection < 0)
      return r.schema(where + " is declared but the artifact has no "
                              "'weights' section");
    if (uint64_t(offset) > sectionSize ||
        uint64_t(size) > sectionSize - uint64_t(offset))
      return r.schema(where + ": bytes [" + std::to_string(offset) + ", " +
                      std::to_string(offset) + " + " + std::to_string(size) +
                      ") are outside the 'weights' section (" +
                      std::to_string(sectionSize) + " bytes)");
    w.offset = uint64_t(offset);
  }

  if (out.target == "cpu" && out.hostCodeSection < 0)
    return fail(err, TSR_ERR_FORMAT,
                "artifact targets cpu but has no 'host_code' section");
  if (out.target == "cuda") {
    if (out.ptxSection < 0)
      return fail(err, TSR_ERR_FORMAT,
                  "artifact targets cuda but has no 'ptx' section");
    if (!parseGpuPlan(root, out, r))
      return false;
  }
  return true;
}

} // namespace
} // namespace tessera::runtime

bool tsr_internal_parse_artifact(const uint8_t *bytes, size_t size,
                                 tessera::runtime::ParsedArtifact *parsed,
                                 tessera::runtime::Error *err) {
  using namespace tessera::runtime;
  if (!parsed || !err)
    return false;
  if (!bytes && size != 0)
    return fail(err, TSR_ERR_INVALID_ARGUMENT, "artifact data is NULL");
  *parsed = ParsedArtifact();
  try {
    if (!parseContainer(bytes, size, *parsed, err) ||
        !parseManifest(bytes, *parsed, err)) {
      *parsed = ParsedArtifact();
      return false;
    }
  } catch (const std::bad_alloc &) {
    *parsed = ParsedArtifact();
    return fail(err, TSR_ERR_OUT_OF_MEMORY, "out of memory reading artifact");
  } catch (const std::exception &e) {
    // Not expected: every json access above is type-checked first.
    *parsed = ParsedArtifact();
    return fail(err, TSR_ERR_INTERNAL,
                std::string("internal error reading artifact: ") + e.what());
  }
  return true;
}
