//===- passes/remat/Split.cpp - Lifetime splitting heuristic --------------===//
//
// Moccasin's view of a schedule (each node has up to C computations, each
// with a retention interval over the base order) searched greedily: start
// from the no-remat lifetimes and, while some base step is over the budget,
// split one lifetime at that step. A split of u's copy [s, e] around the
// step b* cuts it into [s, a] (a: u's last use before b*) and a
// recomputation [r, e] (r: u's next use after b*, or an earlier step where
// all of u's inputs are in memory). Inputs that are not in memory at r have
// their nearest earlier copy kept until r. Each split is scored by how much
// over-budget memory (summed over the steps) it removes per unit of
// recomputed cost; the best one is applied. Memory at base step b is the
// sum of the copies whose interval contains b: a recomputation placed just
// before b holds no more than that, so the model is conservative, and the
// final schedule is checked by evaluate().
//
// The on-demand greedy recomputes a value at its consumer, where the value's
// own inputs may all be gone (a wide node late in a random layered graph
// then needs most of the graph rebuilt at once); splitting keeps the
// recomputation where its inputs still are.
//
//===----------------------------------------------------------------------===//

#include "Schedule.h"

#include <algorithm>
#include <map>

namespace tessera::remat {
namespace {

struct Copy {
  int start, end; // base steps, inclusive
};

class Splitter {
public:
  Splitter(const Graph &g, int64_t budget, int maxCopies,
           const std::vector<double> &bias)
      : g(g), n(static_cast<int>(g.size())), budget(budget),
        maxCopies(maxCopies), bias(bias), copies(n), uses(n), mem(n, 0) {
    for (int u = 0; u < n; ++u) {
      const Node &node = g.nodes[u];
      uses[u] = node.succs; // sorted: succs are filled in index order
      std::sort(uses[u].begin(), uses[u].end());
      if (node.output)
        uses[u].push_back(n - 1);
      int end = u;
      if (!uses[u].empty())
        end = std::max(end, uses[u].back());
      copies[u].push_back({u, end});
      for (int b = u; b <= end; ++b)
        mem[b] += node.bytes;
    }
  }

  bool run() {
    for (int iter = 0; iter < n * maxCopies + 8; ++iter) {
      int worst = static_cast<int>(std::max_element(mem.begin(), mem.end()) -
                                   mem.begin());
      if (mem[worst] <= budget)
        return true;
      if (!splitOnce(worst))
        return false;
    }
    return *std::max_element(mem.begin(), mem.end()) <= budget;
  }

  Schedule schedule() const {
    // Recomputations run just before the base step their copy starts at, in
    // index order (inputs first); then the base step. Copies are disjoint,
    // so the copy a step reads is its input's newest: tightenEnds() keeps
    // each until its last reader.
    std::vector<std::vector<int>> before(n);
    for (int u = 0; u < n; ++u)
      for (size_t k = 1; k < copies[u].size(); ++k)
        before[copies[u][k].start].push_back(u);
    Schedule s;
    for (int b = 0; b < n; ++b) {
      std::sort(before[b].begin(), before[b].end());
      for (int u : before[b])
        s.steps.push_back({u, -1});
      s.steps.push_back({b, -1});
    }
    tightenEnds(g, s);
    return s;
  }

private:
  /// The copy of u whose interval contains step b, or -1.
  int copyAt(int u, int b) const {
    for (size_t c = 0; c < copies[u].size(); ++c)
      if (copies[u][c].start <= b && b <= copies[u][c].end)
        return static_cast<int>(c);
    return -1;
  }

  struct Candidate {
    int u = -1, copy = -1, a = 0, r = 0;
    std::vector<std::pair<int, int>> extend; // (pred, copy) kept until r
    double score = 0;
    int64_t gain = 0;
  };

  /// Over-budget memory removed by a change given as byte deltas on ranges.
  int64_t gainOf(const std::vector<std::tuple<int, int, int64_t>> &ranges) {
    int lo = n, hi = -1;
    for (auto [a, b, d] : ranges)
      if (a <= b) {
        lo = std::min(lo, a);
        hi = std::max(hi, b);
      }
    if (hi < lo)
      return 0;
    scratch.assign(hi - lo + 2, 0);
    for (auto [a, b, d] : ranges)
      if (a <= b) {
        scratch[a - lo] += d;
        scratch[b - lo + 1] -= d;
      }
    int64_t gain = 0, delta = 0;
    for (int b = lo; b <= hi; ++b) {
      delta += scratch[b - lo];
      int64_t before = std::max<int64_t>(0, mem[b] - budget);
      int64_t after = std::max<int64_t>(0, mem[b] + delta - budget);
      gain += before - after;
    }
    return gain;
  }

  /// Builds the split of u's copy c around step w recomputed at r, or
  /// returns false when it is not possible.
  bool makeCandidate(int u, int c, int a, int r, Candidate &out) {
    out = Candidate();
    out.u = u;
    out.copy = c;
    out.a = a;
    out.r = r;
    std::vector<std::tuple<int, int, int64_t>> ranges;
    ranges.push_back({a + 1, r - 1, -g.nodes[u].bytes});
    for (int p : g.nodes[u].preds) {
      if (copyAt(p, r) >= 0)
        continue;
      int best = -1;
      for (size_t k = 0; k < copies[p].size(); ++k)
        if (copies[p][k].end < r &&
            (best < 0 || copies[p][k].end > copies[p][best].end))
          best = static_cast<int>(k);
      if (best < 0)
        return false;
      out.extend.push_back({p, best});
      ranges.push_back({copies[p][best].end + 1, r, g.nodes[p].bytes});
    }
    out.gain = gainOf(ranges);
    out.score = double(out.gain) / (g.nodes[u].cost + 1e-9);
    if (!bias.empty())
      out.score *= bias[u];
    return out.gain > 0;
  }

  bool splitOnce(int w) {
    Candidate best;
    bool have = false;
    auto consider = [&](Candidate &cand) {
      if (!have || cand.score > best.score ||
          (cand.score == best.score && cand.gain > best.gain)) {
        best = cand;
        have = true;
      }
    };
    for (int u = 0; u < n; ++u) {
      if (static_cast<int>(copies[u].size()) >= maxCopies || !g.nodes[u].bytes)
        continue;
      int c = copyAt(u, w);
      if (c < 0 || copies[u][c].start == w)
        continue;
      const Copy cp = copies[u][c];
      // Uses of this copy around w.
      auto it = std::lower_bound(uses[u].begin(), uses[u].end(), w);
      if (it != uses[u].end() && *it == w)
        continue; // read at w
      if (it == uses[u].end() || *it > cp.end)
        continue; // no later use in this copy
      int next = *it;
      int a = cp.start;
      if (it != uses[u].begin() && *(it - 1) >= cp.start)
        a = *(it - 1);
      Candidate cand;
      // Recompute at the next use ...
      if (makeCandidate(u, c, a, next, cand))
        consider(cand);
      // ... or at the latest step after w where every input is in memory.
      for (int r = next - 1; r > w; --r) {
        bool all = true;
        for (int p : g.nodes[u].preds)
          if (copyAt(p, r) < 0) {
            all = false;
            break;
          }
        if (all) {
          if (makeCandidate(u, c, a, r, cand))
            consider(cand);
          break;
        }
      }
    }
    if (!have)
      return false;
    apply(best);
    return true;
  }

  void apply(const Candidate &cd) {
    const Node &node = g.nodes[cd.u];
    Copy &cp = copies[cd.u][cd.copy];
    const int oldEnd = cp.end;
    for (int b = cd.a + 1; b <= cd.r - 1; ++b)
      mem[b] -= node.bytes;
    cp.end = cd.a;
    copies[cd.u].push_back({cd.r, oldEnd});
    std::sort(copies[cd.u].begin() + 1, copies[cd.u].end(),
              [](const Copy &x, const Copy &y) { return x.start < y.start; });
    for (auto [p, k] : cd.extend) {
      Copy &pc = copies[p][k];
      for (int b = pc.end + 1; b <= cd.r; ++b)
        mem[b] += g.nodes[p].bytes;
      pc.end = cd.r;
    }
    // The recomputation reads its inputs at r.
    for (int p : node.preds)
      uses[p].insert(std::upper_bound(uses[p].begin(), uses[p].end(), cd.r),
                     cd.r);
  }

  const Graph &g;
  const int n;
  const int64_t budget;
  const int maxCopies;
  const std::vector<double> &bias; // per-node factor on the score, or empty
  std::vector<std::vector<Copy>> copies; // copy 0: the base computation
  std::vector<std::vector<int>> uses;    // sorted steps that read each node
  std::vector<int64_t> mem;              // bytes held at each base step
  std::vector<int64_t> scratch;
};

} // namespace

bool splitLifetimes(const Graph &g, int64_t budget, int copies, Schedule &out,
                    const std::vector<double> &bias) {
  if (g.size() == 0)
    return false;
  Splitter s(g, budget, std::max(copies, 2), bias);
  if (!s.run())
    return false;
  Schedule sched = s.schedule();
  Evaluation ev = evaluate(g, sched);
  if (!ev.valid || ev.peak > budget)
    return false;
  out = std::move(sched);
  return true;
}

} // namespace tessera::remat
