//===- bench/shard/XMeshBench.cpp - cross-mesh resharding microbenchmarks -===//
//
// The microbenchmark families of Zhuang et al. (MLSys'23), in the alpha-beta
// network model of passes/shard/CrossMesh.h: 1-to-m (1 GiB from one device
// to meshes of 1-8 devices, replicated) and n-to-m (2 GiB between 2x4 and
// 1x4/3x4 meshes under different shardings). Per case: send/recv, broadcast
// without balancing, balanced by size and by simulated finish time, and the
// lower bound; the ratio is send/recv time over the best broadcast's.
//
// Then a pipelined training step: S stages on meshes of one host of 4
// devices each, B micro-batches of a GPT-3-like layer block (hidden 4096,
// sequence 2048, micro-batch 8, fp16; the activation, replicated on the
// sending stage after its all-reduce, is needed whole by every device of
// the next stage), the stage boundary crossed with the send/recv or the
// broadcast plan, under 1F1B and eager 1F1B (passes/shard/Pipeline.h).
// Compute per micro-batch and stage: 24 b s h^2 flops per layer, 8 layers
// per stage, on 4 devices at --device-tflops (forward; backward twice).
//
//===----------------------------------------------------------------------===//

#include "bench/shard/XMeshCases.h"
#include "passes/shard/Pipeline.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace tessera::xmesh;


namespace {

int pipelineTable(const Network &net, int stages, int micro, double tflops) {
  using namespace tessera::pipeline;
  const double b = 8, seq = 2048, h = 4096, layers = 8;
  const double fwd = 24 * b * seq * h * h * layers / (4 * tflops * 1e12);
  Tensor act{{8, 2048, 4096}, 2};
  std::string err;
  Spec rep;
  Spec::parse("R,R,R", rep, err);
  std::vector<double> sendSR, sendBC;
  for (int i = 0; i + 1 < stages; ++i) {
    Mesh src{1, 4, i, net.perHost}, dst{1, 4, i + 1, net.perHost};
    std::vector<Task> ts = tasks(act, src, rep, dst, rep, err);
    if (!err.empty()) {
      std::fprintf(stderr, "pipeline boundary %d: %s\n", i, err.c_str());
      return 1;
    }
    sendSR.push_back(planSendRecv(ts, net).seconds);
    sendBC.push_back(planBroadcast(ts, net, Balance::Order).seconds);
  }
  std::printf("\npipelined training step: %d stages (1 host x 4 devices each), %d "
              "micro-batches; per stage and micro-batch forward %.3f s, backward "
              "%.3f s (%.0f TFLOP/s per device); activation %.0f MiB per "
              "boundary: send/recv %.3f s, broadcast %.3f s\n",
              stages, micro, fwd, 2 * fwd, tflops,
              double(act.bytes()) / (1 << 20), sendSR.empty() ? 0 : sendSR[0],
              sendBC.empty() ? 0 : sendBC[0]);
  std::printf("| transfer | schedule | step s | vs best | stage-0 busy | "
              "activations held on stage 0 |\n| --- | --- | --- | --- | --- | --- |\n");
  struct Row {
    const char *transfer;
    Kind kind;
    Timeline t;
  };
  std::vector<Row> rows;
  for (auto [name, send] : {std::pair{"send/recv", &sendSR},
                            std::pair{"broadcast", &sendBC}})
    for (Kind k : {Kind::OneFOneB, Kind::EagerOneFOneB}) {
      Costs c;
      c.fwd.assign(size_t(stages), fwd);
      c.bwd.assign(size_t(stages), 2 * fwd);
      c.sendFwd = *send;
      c.sendBwd = *send; // the gradient has the activation's shape
      Row r{name, k, {}};
      if (!simulate(schedule(stages, micro, k, err), c, r.t, err)) {
        std::fprintf(stderr, "pipeline: %s\n", err.c_str());
        return 1;
      }
      rows.push_back(r);
    }
  double best = rows[0].t.makespan;
  for (const Row &r : rows)
    best = std::min(best, r.t.makespan);
  for (const Row &r : rows)
    std::printf("| %s | %s | %.3f | %.2f | %.0f%% | %d |\n", r.transfer,
                kindName(r.kind), r.t.makespan, r.t.makespan / best,
                100 * r.t.busy[0], r.t.peakActivations[0]);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  Network net;
  net.perHost = 4;
  int stages = 4, micro = 16;
  double tflops = 60;
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
    else if (const char *v = val("--stages="))
      stages = std::atoi(v);
    else if (const char *v = val("--micro-batches="))
      micro = std::atoi(v);
    else if (const char *v = val("--device-tflops="))
      tflops = std::atof(v);
    else {
      std::fprintf(stderr,
                   "usage: tessera-xmesh-bench [--inter-gbps=10] "
                   "[--intra-gbps=400] [--alpha-us=20] [--stages=4] "
                   "[--micro-batches=16] [--device-tflops=60]\n");
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
  return pipelineTable(net, stages, micro, tflops);
}
