//===- test/unit/shard/CrossMeshTest.cpp - cross-mesh resharding ----------===//

#include "passes/shard/CrossMesh.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace tessera::xmesh;

namespace {

Spec spec(const std::string &s) {
  Spec out;
  std::string err;
  EXPECT_TRUE(Spec::parse(s, out, err)) << err;
  return out;
}

Network fourPerHost() {
  Network n;
  n.perHost = 4;
  n.alpha = 0;
  n.interBw = 1e9;
  n.intraBw = 1e12;
  return n;
}

} // namespace

TEST(CrossMesh, SpecsParseAndReject) {
  Spec s;
  std::string err;
  EXPECT_TRUE(Spec::parse("S0,R,S1", s, err));
  EXPECT_EQ(s.str(), "S0,R,S1");
  EXPECT_FALSE(Spec::parse("S0,S0", s, err));
  EXPECT_NE(err.find("splits two dims"), std::string::npos);
  EXPECT_FALSE(Spec::parse("S2", s, err));
  EXPECT_FALSE(Spec::parse("X", s, err));
}

TEST(CrossMesh, TasksCoverTheTensorOncePerReceiver) {
  // (2,4) split by rows over hosts -> (2,2) split by columns over devices.
  Tensor t{{8, 8}, 4};
  Mesh src{2, 4, 0, 4}, dst{2, 2, 2, 4};
  std::string err;
  std::vector<Task> ts = tasks(t, src, spec("S0,R"), dst, spec("R,S1"), err);
  ASSERT_TRUE(err.empty()) << err;
  // Every destination device receives exactly its half of the columns.
  std::map<int, int64_t> got;
  for (const Task &task : ts) {
    EXPECT_FALSE(task.senders.empty());
    for (int r : task.receivers)
      got[r] += task.bytes;
    // Senders hold the rows of the piece: all four devices of one host.
    EXPECT_EQ(task.senders.size(), 4u);
  }
  ASSERT_EQ(got.size(), 4u);
  for (auto [dev, bytes] : got)
    EXPECT_EQ(bytes, 8 * 4 * 4) << "device " << dev;
  // Uneven splits are errors.
  ts = tasks(Tensor{{6}, 4}, src, spec("S01"), dst, spec("R"), err);
  EXPECT_TRUE(ts.empty());
  EXPECT_NE(err.find("does not split evenly"), std::string::npos);
}

TEST(CrossMesh, BroadcastBeatsSendRecvOnReplicatedDestinations) {
  // One device to 4 hosts x 2 devices, replicated: send/recv pushes 8
  // copies through the sender's NIC, a ring broadcast one per link.
  Network net = fourPerHost();
  Tensor t{{1 << 20}, 4};
  std::string err;
  std::vector<Task> ts =
      tasks(t, Mesh{1, 1, 0, 4}, spec("R"), Mesh{4, 2, 1, 4}, spec("R"), err);
  ASSERT_EQ(ts.size(), 1u);
  Plan p2p = planSendRecv(ts, net), b = planBroadcast(ts, net, Balance::None);
  EXPECT_NEAR(p2p.seconds, 8 * double(t.bytes()) / net.interBw, 1e-9);
  EXPECT_NEAR(b.seconds, double(t.bytes()) / net.interBw, 1e-9);
  EXPECT_NEAR(lowerBound(ts, net), b.seconds, 1e-9);
}

TEST(CrossMesh, BalancingSpreadsSendersOverReplicas) {
  // The source is replicated on two hosts; the destination needs four
  // different pieces: without balancing every piece leaves the first
  // host; balanced, both hosts send.
  Network net = fourPerHost();
  Tensor t{{4, 1 << 18}, 4};
  std::string err;
  std::vector<Task> ts = tasks(t, Mesh{2, 1, 0, 4}, spec("R,R"),
                               Mesh{4, 1, 2, 4}, spec("S0,R"), err);
  ASSERT_EQ(ts.size(), 4u);
  Plan none = planBroadcast(ts, net, Balance::None);
  Plan size = planBroadcast(ts, net, Balance::Size);
  Plan order = planBroadcast(ts, net, Balance::Order);
  std::set<int> hosts;
  for (const Transfer &tr : size.transfers)
    hosts.insert(tr.sender / net.perHost);
  EXPECT_EQ(hosts.size(), 2u);
  EXPECT_LT(size.seconds, none.seconds);
  EXPECT_LE(order.seconds, size.seconds);
  EXPECT_NEAR(none.seconds, 4 * double(t.bytes() / 4) / net.interBw, 1e-9);
  EXPECT_NEAR(order.seconds, 2 * double(t.bytes() / 4) / net.interBw, 1e-9);
}
