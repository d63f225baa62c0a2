//===- runtime/HostCode.cpp - Loading an artifact's host code -------------===//

#include "HostCode.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace tessera::runtime {
namespace {

bool writeAll(int fd, const uint8_t *data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    data += n;
    size -= size_t(n);
  }
  return true;
}

std::string dlerrorText() {
  const char *text = dlerror();
  return text ? text : "unknown dlopen error";
}

/// glibc identifies an already loaded object by the path string it was
/// opened with. A /proc/self/fd/N or temp path can repeat (fd numbers and
/// file names are reused), and an object that could not be unloaded
/// (RTLD_NODELETE, unique symbols) would then be returned instead of ours.
bool pathIsTaken(const std::string &path) {
  if (void *stale = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD)) {
    dlclose(stale);
    return true;
  }
  return false;
}

constexpr int kAttempts = 16;

} // namespace

HostCode::~HostCode() {
  if (handle)
    dlclose(handle);
  if (fd >= 0)
    ::close(fd);
}

bool HostCode::load(const uint8_t *data, size_t size, const std::string &label,
                    Error *err) {
  const std::string memfdName = "tessera:" + label.substr(0, 200);
  // TSR_RUNTIME_NO_MEMFD=1 forces the temp-file path (for tests/debugging).
  const char *noMemfd = getenv("TSR_RUNTIME_NO_MEMFD");
  int mfd = noMemfd && *noMemfd == '1'
                ? -1
                : memfd_create(memfdName.c_str(), MFD_CLOEXEC);
  if (mfd >= 0) {
    if (!writeAll(mfd, data, size)) {
      const int e = errno;
      ::close(mfd);
      err->code = TSR_ERR_IO;
      err->message = "cannot write host code to a memfd: " +
                     std::string(strerror(e));
      return false;
    }
    // Find a /proc/self/fd path no loaded object already answers to.
    int fds[kAttempts];
    int used = 0;
    fds[used++] = mfd;
    while (pathIsTaken("/proc/self/fd/" + std::to_string(fds[used - 1])) &&
           used < kAttempts) {
      const int again = fcntl(fds[used - 1], F_DUPFD_CLOEXEC, 0);
      if (again < 0)
        break;
      fds[used++] = again;
    }
    const int chosen = fds[used - 1];
    const std::string path = "/proc/self/fd/" + std::to_string(chosen);
    const bool taken = pathIsTaken(path);
    if (!taken)
      handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    std::string reason = handle || taken ? "" : dlerrorText();
    for (int i = 0; i < used; ++i)
      if (fds[i] != chosen || !handle)
        ::close(fds[i]);
    if (handle) {
      fd = chosen;
      return true;
    }
    // /proc may be unmounted; the temp file path below can still work, but
    // a real dlopen failure (bad ELF, missing symbol) is reported as is.
    if (!taken && reason.find("No such file") == std::string::npos) {
      err->code = TSR_ERR_INTERNAL;
      err->message = "cannot load the artifact's host code: " + reason;
      return false;
    }
  }

  // Fallback: a private temp file, unlinked as soon as dlopen returns.
  const char *dir = getenv("TMPDIR");
  std::string base = (dir && *dir) ? dir : "/tmp";
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    std::string path = base + "/tessera-host-XXXXXX.so";
    int tfd = mkstemps(path.data(), 3);
    if (tfd < 0) {
      err->code = TSR_ERR_IO;
      err->message = "cannot create a temporary file in '" + base +
                     "' for the host code: " + strerror(errno);
      return false;
    }
    const bool written = writeAll(tfd, data, size);
    const int writeErrno = errno;
    ::close(tfd);
    if (!written) {
      ::unlink(path.c_str());
      err->code = TSR_ERR_IO;
      err->message = "cannot write the host code to '" + path +
                     "': " + strerror(writeErrno);
      return false;
    }
    if (pathIsTaken(path)) {
      ::unlink(path.c_str());
      continue;
    }
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    std::string reason = handle ? "" : dlerrorText();
    ::unlink(path.c_str());
    if (handle)
      return true;
    err->code = TSR_ERR_INTERNAL;
    err->message = "cannot load the artifact's host code: " + reason;
    return false;
  }
  err->code = TSR_ERR_INTERNAL;
  err->message = "cannot load the artifact's host code: no unused file name";
  return false;
}

void *HostCode::symbol(const std::string &name, Error *err) const {
  dlerror(); // clear
  void *sym = dlsym(handle, name.c_str());
  if (!sym) {
    const char *text = dlerror();
    err->code = TSR_ERR_FORMAT;
    err->message = "the host code does not define the entry symbol '" + name +
                   "'" + (text ? std::string(" (") + text + ")" : "");
  }
  return sym;
}

} // namespace tessera::runtime
