//===- passes/shard/CrossMesh.cpp - cross-mesh resharding plans -----------===//

#include "passes/shard/CrossMesh.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

namespace tessera::xmesh {

int64_t Tensor::bytes() const {
  return std::accumulate(shape.begin(), shape.end(), elemBytes,
                         std::multiplies<int64_t>());
}

bool Spec::parse(const std::string &text, Spec &out, std::string &err) {
  out.dims.clear();
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string part = text.substr(pos, comma == std::string::npos
                                            ? std::string::npos
                                            : comma - pos);
    std::vector<int> axes;
    if (part == "R") {
    } else if (part.size() >= 2 && part[0] == 'S') {
      for (size_t i = 1; i < part.size(); ++i) {
        if (part[i] != '0' && part[i] != '1') {
          err = "bad mesh axis in '" + part + "' (S0, S1, S01 or R)";
          return false;
        }
        int a = part[i] - '0';
        if (std::count(axes.begin(), axes.end(), a)) {
          err = "axis used twice in '" + part + "'";
          return false;
        }
        axes.push_back(a);
      }
    } else {
      err = "bad dim spec '" + part + "' (S0, S1, S01 or R)";
      return false;
    }
    for (const auto &d : out.dims)
      for (int a : axes)
        if (std::count(d.begin(), d.end(), a)) {
          err = "mesh axis " + std::to_string(a) + " splits two dims";
          return false;
        }
    out.dims.push_back(axes);
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
  return true;
}

std::string Spec::str() const {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) {
    s += i ? "," : "";
    if (dims[i].empty()) {
      s += "R";
      continue;
    }
    s += "S";
    for (int a : dims[i])
      s += std::to_string(a);
  }
  return s;
}

namespace {

using Range = std::vector<std::pair<int64_t, int64_t>>;

/// Each device's tile of `t` under `spec` on `m`, in device order.
bool tiles(const Tensor &t, const Mesh &m, const Spec &spec,
           std::vector<std::pair<int, Range>> &out, std::string &err) {
  if (spec.dims.size() != t.shape.size()) {
    err = "spec " + spec.str() + " has " + std::to_string(spec.dims.size()) +
          " dims, the tensor " + std::to_string(t.shape.size());
    return false;
  }
  const int size[2] = {m.hosts, m.perHost};
  for (int h = 0; h < m.hosts; ++h)
    for (int d = 0; d < m.perHost; ++d) {
      const int coord[2] = {h, d};
      Range r;
      for (size_t i = 0; i < t.shape.size(); ++i) {
        int64_t idx = 0, count = 1;
        for (int a : spec.dims[i]) {
          idx = idx * size[a] + coord[a];
          count *= size[a];
        }
        if (t.shape[i] % count) {
          err = "dim " + std::to_string(i) + " (" + std::to_string(t.shape[i]) +
                ") does not split evenly into " + std::to_string(count);
          return false;
        }
        int64_t chunk = t.shape[i] / count;
        r.push_back({idx * chunk, (idx + 1) * chunk});
      }
      out.push_back({m.device(h, d), r});
    }
  return true;
}

struct Sim {
  const Network &net;
  std::map<std::pair<int, int>, double> free; // (kind, host) -> time
  std::map<int, double> load;                 // sender host -> bytes
  explicit Sim(const Network &net) : net(net) {}
  int host(int dev) const { return dev / net.perHost; }

  /// Resources and duration of a transfer from `s` to `rs` (a ring
  /// broadcast when there are several receivers).
  void shape(int s, const std::vector<int> &rs, int64_t bytes,
             std::vector<std::pair<int, int>> &res, double &dur,
             int64_t &interBytes) const {
    std::vector<int> hosts;
    std::map<int, int> perHost;
    for (int r : rs) {
      ++perHost[host(r)];
      if (host(r) != host(s) &&
          std::find(hosts.begin(), hosts.end(), host(r)) == hosts.end())
        hosts.push_back(host(r));
    }
    res.clear();
    interBytes = 0;
    double bw = net.intraBw;
    int hops = 1;
    if (!hosts.empty()) {
      // Ring: sender host -> hosts[0] -> hosts[1] -> ...
      res.push_back({0, host(s)}); // send side of the sender's NIC
      for (size_t i = 0; i < hosts.size(); ++i) {
        res.push_back({1, hosts[i]}); // receive side
        if (i + 1 < hosts.size())
          res.push_back({0, hosts[i]}); // forwards to the next host
      }
      bw = std::min(net.interBw, net.intraBw);
      hops = static_cast<int>(hosts.size());
      interBytes = bytes * static_cast<int64_t>(hosts.size());
    }
    for (auto [h, n] : perHost)
      if (n > 1 || h == host(s))
        res.push_back({2, h}); // fan-out inside the host
    dur = net.alpha * hops + double(bytes) / bw;
  }

  double earliest(const std::vector<std::pair<int, int>> &res) {
    double t = 0;
    for (auto &r : res)
      t = std::max(t, free[r]);
    return t;
  }

  Transfer run(int s, const std::vector<int> &rs, int64_t bytes, Plan &plan) {
    std::vector<std::pair<int, int>> res;
    double dur;
    int64_t inter;
    shape(s, rs, bytes, res, dur, inter);
    Transfer tr{s, rs, bytes, earliest(res), 0};
    tr.end = tr.start + dur;
    for (auto &r : res)
      free[r] = tr.end;
    load[host(s)] += double(bytes);
    plan.interHostBytes += inter;
    plan.seconds = std::max(plan.seconds, tr.end);
    plan.transfers.push_back(tr);
    return tr;
  }
};

} // namespace

std::vector<Task> tasks(const Tensor &t, const Mesh &src, const Spec &srcSpec,
                        const Mesh &dst, const Spec &dstSpec,
                        std::string &err) {
  std::vector<std::pair<int, Range>> st, dt;
  if (!tiles(t, src, srcSpec, st, err) || !tiles(t, dst, dstSpec, dt, err))
    return {};
  // Replicas: devices holding the same tile.
  std::map<Range, std::vector<int>> srcTiles, dstTiles;
  for (auto &[d, r] : st)
    srcTiles[r].push_back(d);
  for (auto &[d, r] : dt)
    dstTiles[r].push_back(d);
  std::vector<Task> out;
  for (auto &[dr, receivers] : dstTiles)
    for (auto &[sr, senders] : srcTiles) {
      Task task;
      int64_t elems = 1;
      for (size_t i = 0; i < dr.size(); ++i) {
        int64_t lo = std::max(dr[i].first, sr[i].first);
        int64_t hi = std::min(dr[i].second, sr[i].second);
        if (hi <= lo) {
          elems = 0;
          break;
        }
        task.range.push_back({lo, hi});
        elems *= hi - lo;
      }
      if (!elems)
        continue;
      task.bytes = elems * t.elemBytes;
      task.senders = senders;
      task.receivers = receivers;
      out.push_back(task);
    }
  return out;
}

Plan planSendRecv(const std::vector<Task> &tasks, const Network &net) {
  Plan plan;
  plan.method = "send/recv";
  Sim sim(net);
  for (const Task &t : tasks)
    for (int r : t.receivers) {
      // Least-loaded sender, one on the receiver's host first.
      int best = t.senders[0];
      double bestKey = 1e300;
      for (int s : t.senders) {
        double key = sim.load[sim.host(s)] +
                     (sim.host(s) == sim.host(r) ? -1e200 : 0.0);
        if (key < bestKey) {
          bestKey = key;
          best = s;
        }
      }
      sim.run(best, {r}, t.bytes, plan);
    }
  return plan;
}

Plan planBroadcast(const std::vector<Task> &tasks, const Network &net,
                   Balance balance) {
  Plan plan;
  plan.method = balance == Balance::None   ? "broadcast"
                : balance == Balance::Size ? "broadcast, size-balanced"
                                           : "broadcast, order-balanced";
  Sim sim(net);
  std::vector<size_t> order(tasks.size());
  std::iota(order.begin(), order.end(), 0);
  if (balance == Balance::Order)
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return tasks[a].bytes > tasks[b].bytes;
    });
  for (size_t i : order) {
    const Task &t = tasks[i];
    int best = t.senders[0];
    if (balance == Balance::Size) {
      double bestLoad = 1e300;
      for (int s : t.senders)
        if (sim.load[sim.host(s)] < bestLoad) {
          bestLoad = sim.load[sim.host(s)];
          best = s;
        }
    } else if (balance == Balance::Order) {
      // The sender whose broadcast would finish first.
      double bestEnd = 1e300;
      for (int s : t.senders) {
        std::vector<std::pair<int, int>> res;
        double dur;
        int64_t inter;
        sim.shape(s, t.receivers, t.bytes, res, dur, inter);
        double end = sim.earliest(res) + dur;
        if (end < bestEnd) {
          bestEnd = end;
          best = s;
        }
      }
    }
    sim.run(best, t.receivers, t.bytes, plan);
  }
  return plan;
}

double lowerBound(const std::vector<Task> &tasks, const Network &net) {
  // Each destination host receives, through its one NIC, every piece it
  // needs that none of its own devices holds.
  std::map<int, double> in;
  for (const Task &t : tasks) {
    std::set<int> senderHosts, receiverHosts;
    for (int s : t.senders)
      senderHosts.insert(s / net.perHost);
    for (int r : t.receivers)
      receiverHosts.insert(r / net.perHost);
    for (int h : receiverHosts)
      if (!senderHosts.count(h))
        in[h] += double(t.bytes);
  }
  double bound = 0;
  for (auto &[h, bytes] : in)
    bound = std::max(bound, bytes / net.interBw);
  return bound;
}

} // namespace tessera::xmesh
