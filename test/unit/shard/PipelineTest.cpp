//===- test/unit/shard/PipelineTest.cpp - 1F1B and eager 1F1B -------------===//

#include "passes/shard/Pipeline.h"

#include <gtest/gtest.h>

using namespace tessera::pipeline;

namespace {

Costs uniform(int stages, double f, double b, double send) {
  Costs c;
  c.fwd.assign(size_t(stages), f);
  c.bwd.assign(size_t(stages), b);
  c.sendFwd.assign(size_t(stages - 1), send);
  c.sendBwd.assign(size_t(stages - 1), send);
  return c;
}

Timeline run(int stages, int micro, Kind k, const Costs &c) {
  std::string err;
  auto s = schedule(stages, micro, k, err);
  Timeline t;
  EXPECT_TRUE(simulate(s, c, t, err)) << err;
  return t;
}

} // namespace

TEST(Pipeline, EveryStageRunsEachPassOnceForwardFirst) {
  for (Kind k : {Kind::OneFOneB, Kind::EagerOneFOneB})
    for (int S : {1, 2, 4, 5})
      for (int B : {1, 3, 8}) {
        std::string err;
        auto s = schedule(S, B, k, err);
        ASSERT_EQ(s.size(), size_t(S));
        for (const auto &order : s) {
          ASSERT_EQ(order.size(), size_t(2 * B));
          std::vector<int> seenF(size_t(B), 0), seenB(size_t(B), 0);
          for (const Pass &p : order) {
            if (p.forward)
              ++seenF[size_t(p.micro)];
            else {
              EXPECT_EQ(seenF[size_t(p.micro)], 1) << "B before F";
              ++seenB[size_t(p.micro)];
            }
          }
          for (int j = 0; j < B; ++j)
            EXPECT_TRUE(seenF[size_t(j)] == 1 && seenB[size_t(j)] == 1);
        }
      }
  std::string err;
  EXPECT_TRUE(schedule(0, 4, Kind::OneFOneB, err).empty());
  EXPECT_NE(err.find("at least one stage"), std::string::npos);
}

TEST(Pipeline, OneFOneBWithoutCommunicationTakesTheTextbookTime) {
  // Uniform stages, free transfers: (B + S - 1) (f + b).
  for (int S : {2, 4})
    for (int B : {4, 8}) {
      Timeline t = run(S, B, Kind::OneFOneB, uniform(S, 1.0, 2.0, 0.0));
      EXPECT_DOUBLE_EQ(t.makespan, (B + S - 1) * 3.0) << S << " " << B;
    }
}

TEST(Pipeline, ActivationsHeldAreTheScheduleDepth) {
  const int S = 4, B = 8;
  Timeline a = run(S, B, Kind::OneFOneB, uniform(S, 1, 2, 0.5));
  Timeline e = run(S, B, Kind::EagerOneFOneB, uniform(S, 1, 2, 0.5));
  for (int i = 0; i < S; ++i) {
    EXPECT_EQ(a.peakActivations[size_t(i)], std::min(B, S - i)) << i;
    EXPECT_EQ(e.peakActivations[size_t(i)], std::min(B, 2 * (S - i) - 1)) << i;
  }
}

TEST(Pipeline, EagerOneFOneBHidesTransfersThatOneFOneBExposes) {
  // Transfers as long as a forward: 1F1B waits for each activation between
  // a backward and the next forward; eager 1F1B has it there already.
  const int S = 4, B = 16;
  const Costs c = uniform(S, 1.0, 2.0, 1.0);
  Timeline a = run(S, B, Kind::OneFOneB, c);
  Timeline e = run(S, B, Kind::EagerOneFOneB, c);
  EXPECT_LT(e.makespan, a.makespan * 0.95) << e.makespan << " vs " << a.makespan;
  // Nothing beats compute plus the first micro-batch's trip down and back.
  const double bound = B * 3.0 + (S - 1) * (1.0 + 1.0) + (S - 1) * (2.0 + 1.0);
  EXPECT_GE(e.makespan, bound - 1e-9);
  // Free transfers: eager gains nothing.
  EXPECT_DOUBLE_EQ(run(S, B, Kind::EagerOneFOneB, uniform(S, 1, 2, 0)).makespan,
                   run(S, B, Kind::OneFOneB, uniform(S, 1, 2, 0)).makespan);
}

TEST(Pipeline, BadSchedulesAndCostsAreReported) {
  std::string err;
  Timeline t;
  // Stage 1 wants micro-batch 1 first while stage 0 runs it last: fine;
  // but a backward before its forward is an error.
  std::vector<std::vector<Pass>> bad = {{{true, 0}, {false, 0}},
                                        {{false, 0}, {true, 0}}};
  EXPECT_FALSE(simulate(bad, uniform(2, 1, 1, 0), t, err));
  EXPECT_NE(err.find("deadlocks"), std::string::npos) << err;
  auto s = schedule(3, 2, Kind::OneFOneB, err);
  EXPECT_FALSE(simulate(s, uniform(2, 1, 1, 0), t, err));
  EXPECT_NE(err.find("per stage"), std::string::npos) << err;
}
