//===- test/unit/runtime/DistTest.cpp - Shards of partitioned models ------===//
//
// The block copies and shard offsets the runtime scatters inputs and
// gathers outputs with (the collectives themselves run under mpirun in
// test/e2e/shard_e2e.py and the tessera-compile-mesh lit test).
//
//===----------------------------------------------------------------------===//

#include "ArtifactParser.h"
#include "Dist.h"

#include <gtest/gtest.h>

#include <numeric>

using namespace tessera::runtime;

TEST(Dist, CopyRegionMovesABlockBetweenShapes) {
  // src 3x4x5 with values = linear index; copy the 2x2x3 block at (1,1,2)
  // to (0,1,0) of a 2x3x3 destination.
  std::vector<int32_t> src(60);
  std::iota(src.begin(), src.end(), 0);
  std::vector<int32_t> dst(18, -1);
  const int64_t srcShape[] = {3, 4, 5}, srcOff[] = {1, 1, 2};
  const int64_t dstShape[] = {2, 3, 3}, dstOff[] = {0, 1, 0};
  const int64_t extent[] = {2, 2, 3};
  dist::copyRegion(reinterpret_cast<const uint8_t *>(src.data()), srcShape,
                   srcOff, reinterpret_cast<uint8_t *>(dst.data()), dstShape,
                   dstOff, extent, 3, sizeof(int32_t));
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 3; ++k) {
        const int32_t got = dst[size_t((i * 3 + j) * 3 + k)];
        if (j == 0) {
          EXPECT_EQ(got, -1) << i << "," << j << "," << k;
          continue;
        }
        // (i, j, k) of dst is (1 + i, 1 + j - 1, 2 + k) of src.
        EXPECT_EQ(got, (1 + i) * 20 + (j) * 5 + (2 + k)) << i << "," << j << "," << k;
      }
}

TEST(Dist, CopyRegionOfAScalarAndOfNothing) {
  double a = 2.5, b = 0;
  dist::copyRegion(reinterpret_cast<const uint8_t *>(&a), nullptr, nullptr,
                   reinterpret_cast<uint8_t *>(&b), nullptr, nullptr, nullptr,
                   0, sizeof(double));
  EXPECT_EQ(b, 2.5);
  const int64_t shape[] = {4}, zero[] = {0}, none[] = {0};
  float x[4] = {1, 2, 3, 4}, y[4] = {0, 0, 0, 0};
  dist::copyRegion(reinterpret_cast<const uint8_t *>(x), shape, zero,
                   reinterpret_cast<uint8_t *>(y), shape, zero, none, 1, 4);
  EXPECT_EQ(y[0], 0.0f);
}

TEST(Dist, ShardOffsetsFollowTheMeshRowMajorAndMajorFirstAxes) {
  // Mesh data=2, model=3; rank = data * 3 + model. A 4x6 tensor split
  // [{data}, {model}] has 2x2 shards; a 6x6 one split [{model, data}, {}]
  // (dim 0 over all 6 devices, model major) has 1-row shards.
  const std::vector<int64_t> mesh{2, 3};
  TensorSpec t;
  t.shape = {4, 6};
  t.split = {{0}, {1}};
  t.localShape = {2, 2};
  EXPECT_EQ(dist::shardOffsets(mesh, 0, t), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(dist::shardOffsets(mesh, 2, t), (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(dist::shardOffsets(mesh, 4, t), (std::vector<int64_t>{2, 2}));
  TensorSpec u;
  u.shape = {6, 6};
  u.split = {{1, 0}, {}};
  u.localShape = {1, 6};
  // rank 1 = (data 0, model 1): index over (model, data) = 1 * 2 + 0 = 2.
  EXPECT_EQ(dist::shardOffsets(mesh, 1, u), (std::vector<int64_t>{2, 0}));
  // rank 3 = (data 1, model 0): 0 * 2 + 1 = 1.
  EXPECT_EQ(dist::shardOffsets(mesh, 3, u), (std::vector<int64_t>{1, 0}));
  // A whole tensor starts at 0 everywhere.
  TensorSpec w;
  w.shape = {6};
  EXPECT_EQ(dist::shardOffsets(mesh, 5, w), (std::vector<int64_t>{0}));
}
