//===- bench/shard/XMeshBench.cpp - cross-mesh resharding microbenchmarks -===//
//
// The microbenchmark families of Zhuang et al. (MLSys'23), in the alpha-beta
// network model of passes/shard/CrossMesh.h: 1-to-m (1 GiB from one device
// to meshes of 1-8 devices, replicated) and n-to-m (2 GiB between 2x4 and
// 1x4/3x4 meshes under different shardings). Per case: send/recv, broadcast
// without balancing, balanced by size and by simulated finish time, and the
// lower bound; the ratio is send/recv time over the best broadcast's.
//
//===----------------------------------------------------------------------===//

#include "bench/shard/XMeshCases.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace tessera::xmesh;


int main(int argc, char **argv) {
  Network net;
  net.perHost = 4;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&](const char *p) -> const char * {
      return a.rfind(p, 0) == 0 ? a.c_str() + std::strlen(p) : nullptr;
    };
    if (const char *v = val("--inter-gbps="))
      net.interBw = std::atof(v) * 1e9 / 8;
    else if (const char *v = val("--intra-gbps="))
      net.intraBw = std::atof(v) * 1e9 / 8;
    else if (const char *v = val("--alpha-us="))
      net.alpha = std::atof(v) * 1e-6;
    else {
      std::fprintf(stderr,
                   "usage: tessera-xmesh-bench [--inter-gbps=10] "
                   "[--intra-gbps=400] [--alpha-us=20]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  std::vector<Case> cases = microbenchmarks();
  std::printf("network: %.1f Gb/s per host NIC each way, %.0f Gb/s within a "
              "host, %.0f us per hop, %d devices per host\n",
              net.interBw * 8 / 1e9, net.intraBw * 8 / 1e9, net.alpha * 1e6,
              net.perHost);
  std::printf("| case | GiB | send/recv s | broadcast s | + size balance s | "
              "+ order balance s | lower bound s | send/recv / best broadcast |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
  for (const Case &c : cases) {
    Mesh src{c.srcHosts, c.srcPer, 0, net.perHost};
    Mesh dst{c.dstHosts, c.dstPer, c.srcHosts, net.perHost};
    Spec ss, ds;
    std::string err;
    if (!Spec::parse(c.srcSpec, ss, err) || !Spec::parse(c.dstSpec, ds, err)) {
      std::fprintf(stderr, "%s: %s\n", c.name.c_str(), err.c_str());
      return 1;
    }
    std::vector<Task> ts = tasks(c.tensor, src, ss, dst, ds, err);
    if (!err.empty()) {
      std::fprintf(stderr, "%s: %s\n", c.name.c_str(), err.c_str());
      return 1;
    }
    Plan p2p = planSendRecv(ts, net);
    Plan b0 = planBroadcast(ts, net, Balance::None);
    Plan b1 = planBroadcast(ts, net, Balance::Size);
    Plan b2 = planBroadcast(ts, net, Balance::Order);
    double best = std::min({b0.seconds, b1.seconds, b2.seconds});
    std::printf("| %s: %s -> %s | %.2f | %.3f | %.3f | %.3f | %.3f | %.3f | %.2f |\n",
                c.name.c_str(), c.srcSpec.c_str(), c.dstSpec.c_str(),
                double(c.tensor.bytes()) / (1 << 30), p2p.seconds, b0.seconds,
                b1.seconds, b2.seconds, lowerBound(ts, net), p2p.seconds / best);
  }
  return 0;
}
