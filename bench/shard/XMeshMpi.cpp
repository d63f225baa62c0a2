//===- bench/shard/XMeshMpi.cpp - cross-mesh plans over MPI ---------------===//
//
// Runs the plans of passes/shard/CrossMesh.h for real: one MPI rank per
// device of the source and destination meshes (`mpirun --oversubscribe`,
// loopback on one machine), the tensors divided by --scale. send/recv is one
// MPI_Isend/Irecv pair per (piece, receiver); the broadcast plan is one
// MPI_Bcast per piece on a communicator of its sender and receivers, created
// ahead of time, in the plan's order. Every receiver checks the bytes it got
// (a pattern of the global element index). Prints, per case, the median
// over --reps runs of the slowest rank's time for both plans and the ratio.
//
//   mpirun --oversubscribe -np N tessera-xmesh-mpi [--scale=64] [--reps=5]
//                                                   [--case=SUBSTRING]
// N must be at least the largest case's device count (20).
//
//===----------------------------------------------------------------------===//

#include "bench/shard/XMeshCases.h"

#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

using namespace tessera::xmesh;

namespace {

/// The int32 pattern of element `flat` of the tensor.
int32_t pattern(int64_t flat) { return static_cast<int32_t>(flat * 2654435761u); }

int64_t flatIndex(const std::vector<int64_t> &shape,
                  const std::vector<int64_t> &idx) {
  int64_t f = 0;
  for (size_t i = 0; i < shape.size(); ++i)
    f = f * shape[i] + idx[i];
  return f;
}

/// Fills (or checks) a piece's buffer in row-major order of its range.
bool walk(const std::vector<int64_t> &shape, const Task &t, int32_t *buf,
          bool fill) {
  std::vector<int64_t> idx;
  for (auto &r : t.range)
    idx.push_back(r.first);
  int64_t n = t.bytes / 4;
  for (int64_t k = 0; k < n; ++k) {
    int32_t v = pattern(flatIndex(shape, idx));
    if (fill)
      buf[k] = v;
    else if (buf[k] != v)
      return false;
    for (int d = static_cast<int>(idx.size()) - 1; d >= 0; --d) {
      if (++idx[d] < t.range[d].second)
        break;
      idx[d] = t.range[d].first;
    }
  }
  return true;
}

} // namespace

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int64_t scale = 64;
  int reps = 5;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--scale=", 0) == 0)
      scale = std::atoll(a.c_str() + 8);
    else if (a.rfind("--reps=", 0) == 0)
      reps = std::atoi(a.c_str() + 7);
    else if (a.rfind("--case=", 0) == 0)
      only = a.substr(7);
    else {
      if (!rank)
        std::fprintf(stderr, "usage: mpirun -np N tessera-xmesh-mpi "
                             "[--scale=64] [--reps=5] [--case=TEXT]\n");
      MPI_Finalize();
      return 2;
    }
  }
  Network net;
  net.perHost = 4;
  int failures = 0;
  if (!rank)
    std::printf("| case | tensor MiB | send/recv s | broadcast s "
                "| send/recv / broadcast |\n| --- | --- | --- | --- | --- |\n");
  for (const Case &c : microbenchmarks(scale)) {
    if (!only.empty() && c.name.find(only) == std::string::npos)
      continue;
    Mesh src{c.srcHosts, c.srcPer, 0, net.perHost};
    Mesh dst{c.dstHosts, c.dstPer, c.srcHosts, net.perHost};
    Spec ss, ds;
    std::string err;
    Spec::parse(c.srcSpec, ss, err);
    Spec::parse(c.dstSpec, ds, err);
    std::vector<Task> ts = tasks(c.tensor, src, ss, dst, ds, err);
    // Ranks for the devices in use, in device order.
    std::map<int, int> rankOf;
    for (const Task &t : ts) {
      for (int d : t.senders)
        rankOf[d] = 0;
      for (int d : t.receivers)
        rankOf[d] = 0;
    }
    int next = 0;
    for (auto &[d, r] : rankOf)
      r = next++;
    if (next > size) {
      if (!rank)
        std::printf("| %s | skipped: needs %d ranks, have %d |\n",
                    c.name.c_str(), next, size);
      continue;
    }
    Plan p2p = planSendRecv(ts, net);
    Plan bc = planBroadcast(ts, net, Balance::Order);
    // Each transfer's piece: the task it came from (same bytes, sender in
    // its senders, same receivers for broadcasts).
    auto taskOf = [&](const Transfer &tr) -> const Task * {
      for (const Task &t : ts)
        if (t.bytes == tr.bytes &&
            std::count(t.senders.begin(), t.senders.end(), tr.sender) &&
            std::count(t.receivers.begin(), t.receivers.end(), tr.receivers[0]))
          return &t;
      return nullptr;
    };
    // Communicators for the broadcasts, created ahead of time.
    std::vector<MPI_Comm> comms;
    std::vector<int> root;
    for (const Transfer &tr : bc.transfers) {
      bool member = rankOf[tr.sender] == rank;
      for (int r : tr.receivers)
        member |= rankOf[r] == rank;
      MPI_Comm comm;
      MPI_Comm_split(MPI_COMM_WORLD, member ? 0 : MPI_UNDEFINED,
                     rankOf[tr.sender] == rank ? 0 : 1 + rank, &comm);
      comms.push_back(comm);
      root.push_back(0);
    }
    int64_t maxBytes = 0;
    for (const Task &t : ts)
      maxBytes = std::max(maxBytes, t.bytes);
    std::vector<std::vector<int32_t>> bufs;
    auto run = [&](bool broadcast) {
      const Plan &plan = broadcast ? bc : p2p;
      bufs.assign(plan.transfers.size(), {});
      for (size_t i = 0; i < plan.transfers.size(); ++i) {
        const Transfer &tr = plan.transfers[i];
        bool mine = rankOf[tr.sender] == rank;
        for (int r : tr.receivers)
          mine |= rankOf[r] == rank;
        if (mine) {
          bufs[i].assign(tr.bytes / 4, 0);
          if (rankOf[tr.sender] == rank)
            walk(c.tensor.shape, *taskOf(tr), bufs[i].data(), true);
        }
      }
      MPI_Barrier(MPI_COMM_WORLD);
      double t0 = MPI_Wtime();
      if (broadcast) {
        for (size_t i = 0; i < plan.transfers.size(); ++i)
          if (comms[i] != MPI_COMM_NULL)
            MPI_Bcast(bufs[i].data(), static_cast<int>(plan.transfers[i].bytes / 4),
                      MPI_INT32_T, root[i], comms[i]);
      } else {
        std::vector<MPI_Request> reqs;
        for (size_t i = 0; i < plan.transfers.size(); ++i) {
          const Transfer &tr = plan.transfers[i];
          int to = rankOf[tr.receivers[0]], from = rankOf[tr.sender];
          if (from == to)
            continue; // already there
          MPI_Request req;
          if (from == rank) {
            MPI_Isend(bufs[i].data(), static_cast<int>(tr.bytes / 4), MPI_INT32_T,
                      to, static_cast<int>(i), MPI_COMM_WORLD, &req);
            reqs.push_back(req);
          } else if (to == rank) {
            MPI_Irecv(bufs[i].data(), static_cast<int>(tr.bytes / 4), MPI_INT32_T,
                      from, static_cast<int>(i), MPI_COMM_WORLD, &req);
            reqs.push_back(req);
          }
        }
        MPI_Waitall(static_cast<int>(reqs.size()), reqs.data(),
                    MPI_STATUSES_IGNORE);
      }
      double local = MPI_Wtime() - t0, slowest = 0;
      MPI_Allreduce(&local, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
      // Every receiver checks what it got.
      int bad = 0;
      for (size_t i = 0; i < plan.transfers.size(); ++i) {
        const Transfer &tr = plan.transfers[i];
        for (int r : tr.receivers)
          if (rankOf[r] == rank && !walk(c.tensor.shape, *taskOf(tr),
                                         bufs[i].data(), false))
            ++bad;
      }
      int allBad = 0;
      MPI_Allreduce(&bad, &allBad, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
      failures += allBad;
      return slowest;
    };
    std::vector<double> tp, tb;
    for (int r = 0; r < reps; ++r) {
      tp.push_back(run(false));
      tb.push_back(run(true));
    }
    std::sort(tp.begin(), tp.end());
    std::sort(tb.begin(), tb.end());
    for (MPI_Comm &comm : comms)
      if (comm != MPI_COMM_NULL)
        MPI_Comm_free(&comm);
    if (!rank)
      std::printf("| %s: %s -> %s | %.1f | %.4f | %.4f | %.2f |\n", c.name.c_str(),
                  c.srcSpec.c_str(), c.dstSpec.c_str(),
                  double(c.tensor.bytes()) / (1 << 20), tp[reps / 2], tb[reps / 2],
                  tp[reps / 2] / tb[reps / 2]);
    (void)maxBytes;
  }
  if (!rank && failures)
    std::printf("FAILED: %d pieces arrived wrong\n", failures);
  MPI_Finalize();
  return failures ? 1 : 0;
}
