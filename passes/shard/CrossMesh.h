//===- passes/shard/CrossMesh.h - cross-mesh resharding plans -*- C++ -*-===//
//
// Moving a tensor between two disjoint device meshes (pipeline stages) with
// different shardings (Zhuang et al., MLSys'23, the cross-mesh resharding of
// Alpa). Plain C++, no MLIR: the planner, the baselines and the alpha-beta
// network model that bench/shard and the tests share.
//
//   - a Mesh is hosts x devices-per-host; devices are numbered globally
//     (host-major), so two meshes on different hosts never share a device;
//   - a Spec says, per tensor dim, which mesh axes split it (0: hosts,
//     1: devices within a host; none: replicated along the unused axes);
//   - tasks(): every destination tile is cut along the source tiles it
//     overlaps; each piece is a task with its bytes, the source devices
//     holding it (candidate senders) and the destination devices needing it;
//   - planSendRecv(): one point-to-point transfer per (task, receiver),
//     from the least-loaded candidate sender (the baseline);
//   - planBroadcast(): one pipelined (ring) broadcast per task from one
//     sender to all its receivers, senders chosen and tasks ordered to
//     balance the load (none, by size, or by simulated finish time).
//
// The network model: each host has one NIC (send and receive sides are
// separate resources, bandwidth `interBw`, latency `alpha` per transfer hop)
// and an intra-host link (`intraBw`). A transfer starts when every resource
// it uses is free; a ring broadcast keeps one copy per link, so it costs
// about one copy's time on each host it crosses, while send/recv pays one
// copy per receiver on the sender's NIC.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_PASSES_SHARD_CROSSMESH_H
#define TESSERA_PASSES_SHARD_CROSSMESH_H

#include <cstdint>
#include <string>
#include <vector>

namespace tessera::xmesh {

struct Mesh {
  int hosts = 1, perHost = 1;
  int firstHost = 0;   // global host index of the mesh's first host
  int hostDevices = 0; // devices per physical host (0: perHost)
  int devices() const { return hosts * perHost; }
  /// Global device id of (host, local device): host-major over physical
  /// hosts of `hostDevices` devices.
  int device(int h, int d) const {
    return (firstHost + h) * (hostDevices ? hostDevices : perHost) + d;
  }
};

struct Spec {
  std::vector<std::vector<int>> dims; // per tensor dim: mesh axes (0, 1)
  /// Parses "S0,R,S1" / "S01,R": per dim R (replicated) or S<axes>.
  static bool parse(const std::string &text, Spec &out, std::string &err);
  std::string str() const;
};

struct Tensor {
  std::vector<int64_t> shape;
  int64_t elemBytes = 4;
  int64_t bytes() const;
};

struct Task {
  std::vector<std::pair<int64_t, int64_t>> range; // [lo, hi) per dim
  int64_t bytes = 0;
  std::vector<int> senders;   // source devices holding the piece
  std::vector<int> receivers; // destination devices needing it
};

/// The pieces to move; an error (shapes not divisible, bad axes) leaves
/// `err` set and returns nothing.
std::vector<Task> tasks(const Tensor &t, const Mesh &src, const Spec &srcSpec,
                        const Mesh &dst, const Spec &dstSpec, std::string &err);

struct Network {
  double alpha = 20e-6;    // seconds per transfer hop
  double interBw = 1.25e9; // bytes/s per host NIC, each direction (10 Gb/s)
  double intraBw = 50e9;   // bytes/s within a host
  int perHost = 4;         // devices per host (global numbering)
};

struct Transfer {
  int sender = 0;
  std::vector<int> receivers;
  int64_t bytes = 0;
  double start = 0, end = 0;
};

struct Plan {
  std::string method;
  std::vector<Transfer> transfers;
  double seconds = 0;          // when the last transfer ends
  int64_t interHostBytes = 0;  // bytes crossing host NICs (sent side)
};

enum class Balance { None, Size, Order };

Plan planSendRecv(const std::vector<Task> &tasks, const Network &net);
Plan planBroadcast(const std::vector<Task> &tasks, const Network &net,
                   Balance balance);

/// Lower bound on any plan's time: every destination host must receive,
/// through its one NIC, each piece it needs that none of its devices holds.
double lowerBound(const std::vector<Task> &tasks, const Network &net);

} // namespace tessera::xmesh

#endif
