//===- runtime/Dist.cpp - Collectives and shards over MPI -----------------===//

#include "Dist.h"

#include "ArtifactParser.h"
#include "tessera/Collectives.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#ifdef TSR_HAVE_MPI
#include <mpi.h>
#endif

namespace tessera::runtime::dist {
namespace {

std::mutex initMutex;
bool initialized = false;
// This process's device index and the devices of its program: the world,
// or the stage of a pipeline it runs (setDeviceGroup).
int rank0 = 0, size0 = 1;
int worldRank0 = 0, worldSize0 = 1;
#ifdef TSR_HAVE_MPI
MPI_Comm deviceComm = MPI_COMM_WORLD;
#endif

[[noreturn]] void die(const std::string &message) {
  std::fprintf(stderr, "tessera runtime: collective failed: %s\n",
               message.c_str());
  std::fflush(stderr);
#ifdef TSR_HAVE_MPI
  int up = 0;
  MPI_Initialized(&up);
  if (up)
    MPI_Abort(MPI_COMM_WORLD, 70);
#endif
  std::abort();
}

/// A device's coordinates in the mesh (row-major linear rank).
std::vector<int64_t> coords(const std::vector<int64_t> &mesh, int64_t rank) {
  std::vector<int64_t> c(mesh.size());
  for (size_t i = mesh.size(); i-- > 0;) {
    c[i] = rank % mesh[i];
    rank /= mesh[i];
  }
  return c;
}

/// The index over `axes` (major first) of the device at `c`.
int64_t indexOver(const std::vector<int64_t> &mesh,
                  const std::vector<int64_t> &c, const std::vector<int> &axes) {
  int64_t g = 0;
  for (int a : axes)
    g = g * mesh[a] + c[a];
  return g;
}

int64_t product(const std::vector<int64_t> &v) {
  int64_t n = 1;
  for (int64_t x : v)
    n *= x;
  return n;
}

/// A decoded tessera/Collectives.h descriptor.
struct Desc {
  int64_t kind = 0, dtype = 0, reduction = 0, a = 0, b = 0;
  std::vector<int64_t> mesh;
  std::vector<int> axes;
  std::vector<int64_t> shape;
  size_t elementSize = 0;
  int64_t groupSize = 1;

  static Desc read(const int64_t *d) {
    Desc out;
    if (!d || d[0] != TSR_COLL_DESC_VERSION)
      die("descriptor version " + std::to_string(d ? d[0] : -1) +
          " is not " + std::to_string(TSR_COLL_DESC_VERSION) +
          " (artifact and runtime disagree)");
    out.kind = d[1];
    out.dtype = d[2];
    out.reduction = d[3];
    out.a = d[4];
    out.b = d[5];
    int64_t i = 6;
    const int64_t m = d[i++];
    if (m < 1 || m > 16)
      die("mesh rank " + std::to_string(m) + " out of range");
    out.mesh.assign(d + i, d + i + m);
    i += m;
    for (int64_t s : out.mesh)
      if (s < 1)
        die("a mesh axis of size " + std::to_string(s));
    const int64_t k = d[i++];
    if (k < 0 || k > m)
      die("group of " + std::to_string(k) + " axes in a rank-" +
          std::to_string(m) + " mesh");
    for (int64_t j = 0; j < k; ++j) {
      const int64_t ax = d[i++];
      if (ax < 0 || ax >= m)
        die("mesh axis " + std::to_string(ax) + " out of range");
      out.axes.push_back(int(ax));
      out.groupSize *= out.mesh[ax];
    }
    const int64_t r = d[i++];
    if (r < 0 || r > TSR_MAX_RANK)
      die("tensor rank " + std::to_string(r) + " out of range");
    out.shape.assign(d + i, d + i + r);
    out.elementSize = dtypeSize(tsr_dtype(out.dtype));
    if (out.kind != TSR_COLL_PROCESS_INDEX && !out.elementSize)
      die("element type " + std::to_string(out.dtype) + " is unknown");
    return out;
  }
  size_t bytes() const { return size_t(product(shape)) * elementSize; }
};

#ifdef TSR_HAVE_MPI
std::mutex commMutex;
std::map<std::vector<int64_t>, MPI_Comm> comms;

void check(int rc, const char *what) {
  if (rc == MPI_SUCCESS)
    return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  die(std::string(what) + ": " + std::string(text, size_t(len)));
}

/// The communicator of a group: the devices that agree on every mesh axis
/// outside `axes`, ranked by their index over `axes`.
MPI_Comm groupComm(const Desc &d) {
  const int64_t devices = product(d.mesh);
  if (devices != size0)
    die("the program is partitioned for " + std::to_string(devices) +
        " devices but it runs on " + std::to_string(size0) + " processes");
  std::vector<int64_t> key = d.mesh;
  key.push_back(-1);
  key.insert(key.end(), d.axes.begin(), d.axes.end());
  std::lock_guard<std::mutex> lock(commMutex);
  auto it = comms.find(key);
  if (it != comms.end())
    return it->second;
  std::vector<int> rest;
  for (int a = 0; a < int(d.mesh.size()); ++a)
    if (std::find(d.axes.begin(), d.axes.end(), a) == d.axes.end())
      rest.push_back(a);
  const std::vector<int64_t> c = coords(d.mesh, rank0);
  MPI_Comm comm;
  check(MPI_Comm_split(deviceComm, int(indexOver(d.mesh, c, rest)),
                       int(indexOver(d.mesh, c, d.axes)), &comm),
        "MPI_Comm_split");
  comms[key] = comm;
  return comm;
}

MPI_Datatype mpiType(int64_t dtype) {
  switch (dtype) {
  case TSR_DTYPE_F32: return MPI_FLOAT;
  case TSR_DTYPE_F64: return MPI_DOUBLE;
  case TSR_DTYPE_I32: return MPI_INT32_T;
  case TSR_DTYPE_I64: return MPI_INT64_T;
  default: die("reduction of element type " + std::to_string(dtype) +
               " (f32, f64, i32, i64 are supported)");
  }
}

MPI_Op mpiOp(int64_t r) {
  switch (r) {
  case TSR_COLL_SUM: return MPI_SUM;
  case TSR_COLL_MAX: return MPI_MAX;
  case TSR_COLL_MIN: return MPI_MIN;
  case TSR_COLL_PROD: return MPI_PROD;
  default: die("reduction " + std::to_string(r) + " is unknown");
  }
}

int count(size_t bytes) {
  if (bytes > size_t(INT32_MAX))
    die("a message of " + std::to_string(bytes) +
        " bytes exceeds MPI's int count");
  return int(bytes);
}
#endif

/// Shape with dim `d` replaced by `v`.
std::vector<int64_t> with(std::vector<int64_t> s, int64_t d, int64_t v) {
  s[size_t(d)] = v;
  return s;
}

void checkDim(const Desc &d, int64_t dim, const char *what) {
  if (dim < 0 || dim >= int64_t(d.shape.size()))
    die(std::string(what) + " dim " + std::to_string(dim) +
        " is outside the rank-" + std::to_string(d.shape.size()) + " tensor");
  if (d.shape[size_t(dim)] % d.groupSize &&
      (d.kind == TSR_COLL_ALL_SLICE || d.kind == TSR_COLL_ALL_TO_ALL ||
       d.kind == TSR_COLL_REDUCE_SCATTER))
    die(std::string(what) + " dim " + std::to_string(dim) + " (" +
        std::to_string(d.shape[size_t(dim)]) + ") does not split over " +
        std::to_string(d.groupSize) + " devices");
}

void run(const Desc &d, const uint8_t *in, uint8_t *out) {
  const size_t rank = d.shape.size(), es = d.elementSize;
  const int64_t n = d.groupSize;
  const std::vector<int64_t> zero(rank, 0);
  const int64_t me = indexOver(d.mesh, coords(d.mesh, rank0), d.axes);
  switch (d.kind) {
  case TSR_COLL_ALL_SLICE: {
    checkDim(d, d.a, "all_slice");
    const int64_t part = d.shape[size_t(d.a)] / n;
    const std::vector<int64_t> outShape = with(d.shape, d.a, part);
    copyRegion(in, d.shape.data(), with(zero, d.a, me * part).data(), out,
               outShape.data(), zero.data(), outShape.data(), rank, es);
    return;
  }
  default:
    break;
  }
#ifndef TSR_HAVE_MPI
  (void)in;
  (void)out;
  die("this runtime was built without MPI");
#else
  MPI_Comm comm = groupComm(d);
  switch (d.kind) {
  case TSR_COLL_ALL_REDUCE:
    check(MPI_Allreduce(in, out, count(size_t(product(d.shape))),
                        mpiType(d.dtype), mpiOp(d.reduction), comm),
          "MPI_Allreduce");
    return;
  case TSR_COLL_REDUCE_SCATTER: {
    checkDim(d, d.a, "reduce_scatter");
    // Member j's part of dim a, packed in member order, then reduced.
    const int64_t part = d.shape[size_t(d.a)] / n;
    const std::vector<int64_t> chunk = with(d.shape, d.a, part);
    const size_t elems = size_t(product(chunk)), bytes = elems * es;
    std::vector<uint8_t> send(bytes * size_t(n));
    for (int64_t j = 0; j < n; ++j)
      copyRegion(in, d.shape.data(), with(zero, d.a, j * part).data(),
                 send.data() + size_t(j) * bytes, chunk.data(), zero.data(),
                 chunk.data(), rank, es);
    check(MPI_Reduce_scatter_block(send.data(), out, count(elems),
                                   mpiType(d.dtype), mpiOp(d.reduction), comm),
          "MPI_Reduce_scatter_block");
    return;
  }
  case TSR_COLL_ALL_GATHER: {
    checkDim(d, d.a, "all_gather");
    const size_t bytes = d.bytes();
    std::vector<uint8_t> all(bytes * size_t(n));
    check(MPI_Allgather(in, count(bytes), MPI_BYTE, all.data(), count(bytes),
                        MPI_BYTE, comm),
          "MPI_Allgather");
    const int64_t part = d.shape[size_t(d.a)];
    const std::vector<int64_t> outShape = with(d.shape, d.a, part * n);
    for (int64_t j = 0; j < n; ++j)
      copyRegion(all.data() + size_t(j) * bytes, d.shape.data(), zero.data(),
                 out, outShape.data(), with(zero, d.a, j * part).data(),
                 d.shape.data(), rank, es);
    return;
  }
  case TSR_COLL_ALL_TO_ALL: {
    checkDim(d, d.a, "all_to_all split");
    checkDim(d, d.b, "all_to_all concat");
    const int64_t part = d.shape[size_t(d.a)] / n;
    const std::vector<int64_t> chunk = with(d.shape, d.a, part);
    const size_t bytes = size_t(product(chunk)) * es;
    std::vector<uint8_t> send(bytes * size_t(n)), recv(bytes * size_t(n));
    for (int64_t j = 0; j < n; ++j)
      copyRegion(in, d.shape.data(), with(zero, d.a, j * part).data(),
                 send.data() + size_t(j) * bytes, chunk.data(), zero.data(),
                 chunk.data(), rank, es);
    check(MPI_Alltoall(send.data(), count(bytes), MPI_BYTE, recv.data(),
                       count(bytes), MPI_BYTE, comm),
          "MPI_Alltoall");
    const int64_t c = chunk[size_t(d.b)];
    const std::vector<int64_t> outShape = with(chunk, d.b, c * n);
    for (int64_t j = 0; j < n; ++j)
      copyRegion(recv.data() + size_t(j) * bytes, chunk.data(), zero.data(),
                 out, outShape.data(), with(zero, d.b, j * c).data(),
                 chunk.data(), rank, es);
    return;
  }
  case TSR_COLL_SHIFT: {
    if (d.axes.size() != 1)
      die("shift over " + std::to_string(d.axes.size()) + " axes");
    const size_t bytes = d.bytes();
    auto member = [&](int64_t j) -> int {
      if (d.b)
        return int(((j % n) + n) % n);
      return j >= 0 && j < n ? int(j) : MPI_PROC_NULL;
    };
    const int to = member(me + d.a), from = member(me - d.a);
    if (from == MPI_PROC_NULL)
      std::memset(out, 0, bytes);
    check(MPI_Sendrecv(in, count(bytes), MPI_BYTE, to, 7001, out,
                       count(bytes), MPI_BYTE, from, 7001, comm,
                       MPI_STATUS_IGNORE),
          "MPI_Sendrecv");
    return;
  }
  default:
    die("collective kind " + std::to_string(d.kind) + " is unknown");
  }
#endif
}

} // namespace

bool init(Error *err) {
  std::lock_guard<std::mutex> lock(initMutex);
  if (initialized)
    return true;
#ifndef TSR_HAVE_MPI
  err->code = TSR_ERR_UNSUPPORTED_TARGET;
  err->message = "this artifact is partitioned over a device mesh, and this "
                 "runtime was built without MPI";
  return false;
#else
  int up = 0;
  MPI_Initialized(&up);
  if (!up) {
    int provided = 0;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) !=
        MPI_SUCCESS) {
      err->code = TSR_ERR_INTERNAL;
      err->message = "MPI_Init_thread failed";
      return false;
    }
    if (provided < MPI_THREAD_SERIALIZED) {
      err->code = TSR_ERR_INTERNAL;
      err->message = "this MPI cannot serve calls from several threads "
                     "(MPI_THREAD_SERIALIZED)";
      return false;
    }
    std::atexit([] {
      int done = 0;
      MPI_Finalized(&done);
      if (!done)
        MPI_Finalize();
    });
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank0);
  MPI_Comm_size(MPI_COMM_WORLD, &size0);
  worldRank0 = rank0;
  worldSize0 = size0;
  initialized = true;
  return true;
#endif
}

int deviceRank() { return rank0; }
int devices() { return size0; }
int worldRank() { return worldRank0; }
int worldSize() { return worldSize0; }

std::mutex &runMutex() {
  static std::mutex m;
  return m;
}

void resetDeviceGroup() {
#ifdef TSR_HAVE_MPI
  int up = 0, down = 0;
  MPI_Initialized(&up);
  MPI_Finalized(&down);
  std::lock_guard<std::mutex> lock(commMutex);
  if (up && !down) {
    for (auto &[key, c] : comms)
      MPI_Comm_free(&c);
    if (deviceComm != MPI_COMM_WORLD)
      MPI_Comm_free(&deviceComm);
  }
  comms.clear();
  deviceComm = MPI_COMM_WORLD;
  rank0 = worldRank0;
  size0 = worldSize0;
#endif
}

bool setDeviceGroup(int color, Error *err) {
#ifndef TSR_HAVE_MPI
  (void)color;
  err->code = TSR_ERR_UNSUPPORTED_TARGET;
  err->message = "this runtime was built without MPI";
  return false;
#else
  MPI_Comm comm;
  if (MPI_Comm_split(MPI_COMM_WORLD, color, worldRank0, &comm) != MPI_SUCCESS) {
    err->code = TSR_ERR_INTERNAL;
    err->message = "MPI_Comm_split failed";
    return false;
  }
  resetDeviceGroup();
  std::lock_guard<std::mutex> lock(commMutex);
  deviceComm = comm;
  MPI_Comm_rank(comm, &rank0);
  MPI_Comm_size(comm, &size0);
  return true;
#endif
}

void copyRegion(const uint8_t *src, const int64_t *srcShape,
                const int64_t *srcOff, uint8_t *dst, const int64_t *dstShape,
                const int64_t *dstOff, const int64_t *extent, size_t rank,
                size_t elementSize) {
  if (rank == 0) {
    std::memcpy(dst, src, elementSize);
    return;
  }
  // Row-major strides in bytes.
  std::vector<size_t> ss(rank), ds(rank);
  size_t s = elementSize, t = elementSize;
  for (size_t i = rank; i-- > 0;) {
    ss[i] = s;
    ds[i] = t;
    s *= size_t(srcShape[i]);
    t *= size_t(dstShape[i]);
  }
  const size_t row = size_t(extent[rank - 1]) * elementSize;
  std::vector<int64_t> idx(rank, 0);
  for (size_t i = 0; i < rank; ++i)
    if (extent[i] == 0)
      return;
  while (true) {
    size_t so = 0, dof = 0;
    for (size_t i = 0; i < rank; ++i) {
      so += size_t(srcOff[i] + (i + 1 < rank ? idx[i] : 0)) * ss[i];
      dof += size_t(dstOff[i] + (i + 1 < rank ? idx[i] : 0)) * ds[i];
    }
    std::memcpy(dst + dof, src + so, row);
    // Next row: odometer over all dims but the last.
    size_t i = rank - 1;
    while (i-- > 0) {
      if (++idx[i] < extent[i])
        break;
      idx[i] = 0;
    }
    if (i == size_t(-1))
      return;
  }
}

std::vector<int64_t> shardOffsets(const std::vector<int64_t> &meshShape,
                                  int rank, const TensorSpec &spec) {
  std::vector<int64_t> off(spec.shape.size(), 0);
  if (spec.split.empty())
    return off;
  const std::vector<int64_t> c = coords(meshShape, rank);
  for (size_t d = 0; d < off.size(); ++d)
    off[d] = indexOver(meshShape, c, spec.split[d]) * spec.localShape[d];
  return off;
}

bool gatherShards(const std::vector<int64_t> &meshShape, const TensorSpec &spec,
                  const uint8_t *local, uint8_t *global, Error *err) {
  bool whole = true;
  for (const std::vector<int> &axes : spec.split)
    whole = whole && axes.empty();
  if (whole) { // every device computed all of it
    std::memcpy(global, local, spec.byteSize);
    return true;
  }
#ifndef TSR_HAVE_MPI
  (void)meshShape;
  (void)global;
  err->code = TSR_ERR_UNSUPPORTED_TARGET;
  err->message = "this runtime was built without MPI";
  return false;
#else
  const size_t es = dtypeSize(spec.dtype), rank = spec.shape.size();
  const std::vector<int64_t> zero(rank, 0);
  const size_t bytes = spec.localBytes;
  if (bytes > size_t(INT32_MAX)) {
    err->code = TSR_ERR_INTERNAL;
    err->message = "output '" + spec.name + "': a shard of " +
                   std::to_string(bytes) + " bytes exceeds MPI's int count";
    return false;
  }
  std::vector<uint8_t> all(bytes * size_t(size0));
  if (MPI_Allgather(local, int(bytes), MPI_BYTE, all.data(), int(bytes),
                    MPI_BYTE, deviceComm) != MPI_SUCCESS) {
    err->code = TSR_ERR_INTERNAL;
    err->message = "output '" + spec.name + "': MPI_Allgather failed";
    return false;
  }
  if (bytes == 0)
    return true;
  for (int r = 0; r < size0; ++r) {
    const std::vector<int64_t> off = shardOffsets(meshShape, r, spec);
    copyRegion(all.data() + size_t(r) * bytes, spec.localShape.data(),
               zero.data(), global, spec.shape.data(), off.data(),
               spec.localShape.data(), rank, es);
  }
  return true;
#endif
}

} // namespace tessera::runtime::dist

using namespace tessera::runtime;

extern "C" __attribute__((visibility("default"))) void
tsr_coll_run(int64_t desc, int64_t in, int64_t out) {
  const dist::Desc d =
      dist::Desc::read(reinterpret_cast<const int64_t *>(desc));
  dist::run(d, reinterpret_cast<const uint8_t *>(in),
            reinterpret_cast<uint8_t *>(out));
}

extern "C" __attribute__((visibility("default"))) int64_t
tsr_coll_process_index(int64_t desc) {
  const dist::Desc d =
      dist::Desc::read(reinterpret_cast<const int64_t *>(desc));
  if (d.kind != TSR_COLL_PROCESS_INDEX)
    dist::die("tsr_coll_process_index with a descriptor of kind " +
              std::to_string(d.kind));
  return dist::indexOver(d.mesh, dist::coords(d.mesh, dist::rank0), d.axes);
}
