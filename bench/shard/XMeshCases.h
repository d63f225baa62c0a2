//===- bench/shard/XMeshCases.h - the microbenchmark cases -----*- C++ -*-===//
//
// The microbenchmark families of Zhuang et al. (MLSys'23): 1-to-m (1 GiB from
// one device to meshes of 1-8 devices, fully replicated) and n-to-m (2 GiB
// int32 (1024, 1024, 512) between (2,4) meshes, and (2,4)->(3,4),
// (1,4)->(2,4)). The paper's exact n-to-m shardings are not available here:
// these cases are ours, in its families. `scale` divides the tensors (the
// MPI run on one machine moves less).
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_BENCH_SHARD_XMESHCASES_H
#define TESSERA_BENCH_SHARD_XMESHCASES_H

#include "passes/shard/CrossMesh.h"

#include <string>
#include <vector>

namespace tessera::xmesh {

struct Case {
  std::string name;
  Tensor tensor;
  int srcHosts, srcPer;
  std::string srcSpec;
  int dstHosts, dstPer;
  std::string dstSpec;
};

inline std::vector<Case> microbenchmarks(int64_t scale = 1) {
  std::vector<Case> cases;
  Tensor gib{{(int64_t(1) << 28) / scale}, 4};
  for (auto [h, d] : std::vector<std::pair<int, int>>{
           {1, 1}, {1, 2}, {1, 3}, {1, 4}, {2, 2}, {3, 2}, {4, 2}})
    cases.push_back({"1-to-m (" + std::to_string(h) + "," + std::to_string(d) +
                         ")",
                     gib, 1, 1, "R", h, d, "R"});
  Tensor big{{1024, 1024, 512 / scale}, 4};
  cases.push_back({"n-to-m 1: same layout", big, 2, 4, "S0,S1,R", 2, 4, "S0,S1,R"});
  cases.push_back({"n-to-m 2: dim 0 -> dim 1", big, 2, 4, "S01,R,R", 2, 4, "R,S01,R"});
  cases.push_back({"n-to-m 3: split -> replicated", big, 2, 4, "S0,R,R", 2, 4, "R,R,R"});
  cases.push_back({"n-to-m 4: replicated -> split", big, 2, 4, "R,R,R", 2, 4, "S0,S1,R"});
  cases.push_back({"n-to-m 5: hosts -> devices", big, 2, 4, "S1,R,R", 2, 4, "S0,R,R"});
  cases.push_back({"n-to-m 6: (2,4) -> (3,4)", Tensor{{3072, 1024, 170 / scale}, 4}, 2, 4,
                   "S0,R,R", 3, 4, "S0,R,R"});
  cases.push_back({"n-to-m 7: (1,4) -> (2,4) replicated", big, 1, 4, "S1,R,R", 2, 4,
                   "R,R,R"});
  cases.push_back({"n-to-m 8: (1,4) -> (2,4) split", big, 1, 4, "S1,R,R", 2, 4,
                   "S1,S0,R"});

  return cases;
}

} // namespace tessera::xmesh

#endif
