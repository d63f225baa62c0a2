//===- runtime/Npy.cpp - Reading and writing NumPy .npy files -------------===//
//
// Format: "\x93NUMPY", major, minor, header length (u16 for 1.x, u32 for
// 2.x/3.x), then a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and a final '\n', then the raw data.
//
//===----------------------------------------------------------------------===//

#include "Npy.h"

#include "Support.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tessera::runtime::npy {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

struct DescrInfo {
  const char *descr;
  tsr_dtype dtype;
};
// Accepted spellings; the first one per dtype is the one we write.
constexpr DescrInfo kDescrs[] = {
    {"<f4", TSR_DTYPE_F32}, {"<f8", TSR_DTYPE_F64}, {"<f2", TSR_DTYPE_F16},
    {"|i1", TSR_DTYPE_I8},  {"<i1", TSR_DTYPE_I8},  {"|u1", TSR_DTYPE_U8},
    {"<u1", TSR_DTYPE_U8},  {"<i2", TSR_DTYPE_I16}, {"<i4", TSR_DTYPE_I32},
    {"<i8", TSR_DTYPE_I64}, {"|b1", TSR_DTYPE_BOOL},
};

const char *kSupportedList = "<f4, <f8, <f2, |i1, |u1, <i2, <i4, <i8, |b1";

/// A tiny reader for the Python dict literal in the header.
class HeaderParser {
public:
  explicit HeaderParser(const std::string &text) : s(text) {}

  bool parse(std::string &descr, bool &fortran, std::vector<int64_t> &shape,
             std::string &error) {
    bool haveDescr = false, haveFortran = false, haveShape = false;
    skipSpace();
    if (!eat('{'))
      return fail("header is not a dict literal", error);
    for (;;) {
      skipSpace();
      if (eat('}'))
        break;
      std::string key;
      if (!string(key))
        return fail("expected a quoted key", error);
      skipSpace();
      if (!eat(':'))
        return fail("expected ':' after '" + key + "'", error);
      skipSpace();
      if (key == "descr") {
        if (peek() == '[')
          return fail("structured dtypes are not supported", error);
        if (!string(descr))
          return fail("'descr' must be a string", error);
        haveDescr = true;
      } else if (key == "fortran_order") {
        if (word("True"))
          fortran = true;
        else if (word("False"))
          fortran = false;
        else
          return fail("'fortran_order' must be True or False", error);
        haveFortran = true;
      } else if (key == "shape") {
        if (!tuple(shape, error))
          return false;
        haveShape = true;
      } else {
        return fail("unexpected key '" + key + "'", error);
      }
      skipSpace();
      if (eat(','))
        continue;
      if (eat('}'))
        break;
      return fail("expected ',' or '}' after '" + key + "'", error);
    }
    skipSpace();
    if (pos != s.size())
      return fail("unexpected text after the dict", error);
    if (!haveDescr || !haveFortran || !haveShape)
      return fail(std::string("missing key '") +
                      (!haveDescr     ? "descr"
                       : !haveFortran ? "fortran_order"
                                      : "shape") +
                      "'",
                  error);
    return true;
  }

private:
  const std::string &s;
  size_t pos = 0;

  static bool fail(const std::string &what, std::string &error) {
    error = "malformed .npy header: " + what;
    return false;
  }
  char peek() const { return pos < s.size() ? s[pos] : '\0'; }
  bool eat(char c) {
    if (peek() != c)
      return false;
    ++pos;
    return true;
  }
  void skipSpace() {
    while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\n' ||
                              s[pos] == '\t' || s[pos] == '\r'))
      ++pos;
  }
  bool word(const char *w) {
    const size_t n = std::strlen(w);
    if (s.compare(pos, n, w) != 0)
      return false;
    pos += n;
    return true;
  }
  bool string(std::string &out) {
    const char quote = peek();
    if (quote != '\'' && quote != '"')
      return false;
    const size_t end = s.find(quote, pos + 1);
    if (end == std::string::npos)
      return false;
    out = s.substr(pos + 1, end - pos - 1);
    pos = end + 1;
    return true;
  }
  bool tuple(std::vector<int64_t> &shape, std::string &error) {
    shape.clear();
    if (!eat('('))
      return fail("'shape' must be a tuple", error);
    for (;;) {
      skipSpace();
      if (eat(')'))
        return true;
      if (peek() < '0' || peek() > '9')
        return fail("'shape' entries must be non-negative integers", error);
      int64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, peek() - '0', &v))
          return fail("'shape' entry is too large", error);
        ++pos;
      }
      eat('L'); // Python 2 long suffix
      if (shape.size() == TSR_MAX_RANK)
        return fail("rank exceeds " + std::to_string(TSR_MAX_RANK), error);
      shape.push_back(v);
      skipSpace();
      if (eat(')'))
        return true;
      if (!eat(','))
        return fail("expected ',' or ')' in 'shape'", error);
    }
  }
};

} // namespace

const char *descrFor(tsr_dtype dtype) {
  for (const DescrInfo &d : kDescrs)
    if (d.dtype == dtype)
      return d.descr;
  return nullptr;
}

bool parse(const uint8_t *bytes, size_t size, Array &out, std::string &error) {
  if (size < kMagicLen + 2 || std::memcmp(bytes, kMagic, kMagicLen) != 0) {
    error = "not a .npy file (bad magic)";
    return false;
  }
  const unsigned major = bytes[6], minor = bytes[7];
  size_t headerLen = 0, headerStart = 0;
  if (major == 1) {
    if (size < 10) {
      error = "truncated .npy file (no header length)";
      return false;
    }
    headerLen = size_t(bytes[8]) | size_t(bytes[9]) << 8;
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) {
      error = "truncated .npy file (no header length)";
      return false;
    }
    headerLen = size_t(bytes[8]) | size_t(bytes[9]) << 8 |
                size_t(bytes[10]) << 16 | size_t(bytes[11]) << 24;
    headerStart = 12;
  } else {
    error = ".npy format version " + std::to_string(major) + "." +
            std::to_string(minor) + " is not supported (supports 1.0-3.0)";
    return false;
  }
  if (headerLen > size - headerStart) {
    error = "truncated .npy file: header length " + std::to_string(headerLen) +
            " exceeds the file size";
    return false;
  }
  const std::string header(reinterpret_cast<const char *>(bytes) + headerStart,
                           headerLen);
  std::string descr;
  bool fortran = false;
  std::vector<int64_t> shape;
  if (!HeaderParser(header).parse(descr, fortran, shape, error))
    return false;
  if (fortran) {
    error = "Fortran-order arrays are not supported (save with "
            "np.ascontiguousarray)";
    return false;
  }
  tsr_dtype dtype = TSR_DTYPE_INVALID;
  for (const DescrInfo &d : kDescrs)
    if (descr == d.descr)
      dtype = d.dtype;
  if (dtype == TSR_DTYPE_INVALID) {
    if (!descr.empty() && descr[0] == '>')
      error = "big-endian data ('" + descr + "') is not supported";
    else
      error = "unsupported dtype '" + descr + "' (supported: " +
              kSupportedList + ")";
    return false;
  }
  int64_t elements = 0;
  size_t dataSize = 0;
  if (!shapeSizes(shape, dtypeSize(dtype), elements, dataSize)) {
    error = "shape " + formatShape(shape) + " is too large";
    return false;
  }
  const size_t available = size - headerStart - headerLen;
  if (available < dataSize) {
    error = "truncated .npy file: shape " + formatShape(shape) + " (" +
            descr + ") needs " + std::to_string(dataSize) +
            " data bytes, file has " + std::to_string(available);
    return false;
  }
  if (available > dataSize) {
    error = ".npy file has " + std::to_string(available - dataSize) +
            " unexpected bytes after the array data";
    return false;
  }
  const uint8_t *payload = bytes + headerStart + headerLen;
  out.dtype = dtype;
  out.shape = std::move(shape);
  out.data.assign(payload, payload + dataSize);
  return true;
}

bool readFile(const std::string &path, Array &out, std::string &error) {
  const std::string where = "'" + path + "': ";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = where + "cannot open: " + std::strerror(errno);
    return false;
  }
  std::vector<uint8_t> bytes;
  struct stat st;
  bool ok = ::fstat(fd, &st) == 0;
  if (!ok)
    error = where + "cannot stat: " + std::strerror(errno);
  else if (!S_ISREG(st.st_mode)) {
    ok = false;
    error = where + "not a regular file";
  }
  if (ok) {
    bytes.resize(size_t(st.st_size));
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        if (n < 0) {
          ok = false;
          error = where + "read failed: " + std::strerror(errno);
        }
        break;
      }
      done += size_t(n);
    }
    bytes.resize(done);
  }
  ::close(fd);
  if (!ok)
    return false;
  if (!parse(bytes.data(), bytes.size(), out, error)) {
    error = where + error;
    return false;
  }
  return true;
}

bool serialize(tsr_dtype dtype, const int64_t *shape, size_t rank,
               const void *data, size_t byteSize, std::vector<uint8_t> &out,
               std::string &error) {
  const char *descr = descrFor(dtype);
  if (!descr) {
    error = std::string("dtype ") + dtypeName(dtype) +
            " cannot be stored in a .npy file";
    return false;
  }
  std::string dict = std::string("{'descr': '") + descr +
                     "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < rank; ++i)
    dict += std::to_string(shape[i]) + (rank == 1 || i + 1 < rank ? "," : "") +
            (i + 1 < rank ? " " : "");
  dict += "), }";
  // Pad with spaces so that the data starts at a multiple of 64 bytes.
  const bool v1 = dict.size() + 1 + 64 <= 65535;
  const size_t prefix = v1 ? 10 : 12;
  const size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';

  std::string head(kMagic, kMagicLen);
  head += char(v1 ? 1 : 2);
  head += char(0);
  const size_t len = dict.size();
  for (int i = 0; i < (v1 ? 2 : 4); ++i)
    head += char((len >> (8 * i)) & 0xff);
  head += dict;
  out.resize(head.size() + byteSize);
  std::memcpy(out.data(), head.data(), head.size());
  if (byteSize)
    std::memcpy(out.data() + head.size(), data, byteSize);
  return true;
}

bool writeFileAtomic(const std::string &path, tsr_dtype dtype,
                     const int64_t *shape, size_t rank, const void *data,
                     size_t byteSize, std::string &error) {
  std::vector<uint8_t> bytes;
  if (!serialize(dtype, shape, rank, data, byteSize, bytes, error)) {
    error = "'" + path + "': " + error;
    return false;
  }
  // Same directory, so that rename() is atomic; npos + 1 wraps to 0.
  const size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : path.substr(0, slash + 1);
  std::string temp =
      path.substr(0, slash + 1) + "." + path.substr(slash + 1) + ".tmp-XXXXXX";
  const int fd = mkstemp(temp.data());
  if (fd < 0) {
    error = "'" + path + "': cannot create a temporary file in '" + dir +
            "': " + std::strerror(errno);
    return false;
  }
  const mode_t mask = umask(0);
  umask(mask);
  bool ok = fchmod(fd, 0666 & ~mask) == 0;
  size_t done = 0;
  while (ok && done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      ok = false;
    else
      done += size_t(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int savedErrno = errno;
  ok = (::close(fd) == 0) && ok;
  if (ok && ::rename(temp.c_str(), path.c_str()) == 0)
    return true;
  error = "'" + path + "': cannot write: " +
          std::strerror(ok ? errno : savedErrno);
  ::unlink(temp.c_str());
  return false;
}

} // namespace tessera::runtime::npy
