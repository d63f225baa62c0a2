//===- passes/shard/Pipeline.cpp - 1F1B and eager 1F1B schedules ----------===//

#include "passes/shard/Pipeline.h"

#include <algorithm>
#include <limits>

namespace tessera::pipeline {

const char *kindName(Kind k) {
  return k == Kind::OneFOneB ? "1F1B" : "eager-1F1B";
}

std::vector<std::vector<Pass>> schedule(int stages, int micro, Kind kind,
                                        std::string &err) {
  if (stages < 1 || micro < 1) {
    err = "a pipeline needs at least one stage and one micro-batch (got " +
          std::to_string(stages) + " stages, " + std::to_string(micro) +
          " micro-batches)";
    return {};
  }
  std::vector<std::vector<Pass>> s(static_cast<size_t>(stages));
  for (int i = 0; i < stages; ++i) {
    const int depth = stages - i;
    const int warm = std::min(
        micro, kind == Kind::OneFOneB ? depth : 2 * depth - 1);
    std::vector<Pass> &order = s[size_t(i)];
    int f = 0, b = 0;
    while (f < warm)
      order.push_back({true, f++});
    while (b < micro) {
      order.push_back({false, b++});
      if (f < micro)
        order.push_back({true, f++});
    }
  }
  return s;
}

bool simulate(const std::vector<std::vector<Pass>> &s, const Costs &c,
              Timeline &out, std::string &err) {
  const size_t S = s.size();
  if (S == 0 || c.fwd.size() != S || c.bwd.size() != S ||
      c.sendFwd.size() + 1 != S || c.sendBwd.size() + 1 != S) {
    err = "costs must give fwd and bwd per stage and sendFwd and sendBwd per "
          "boundary";
    return false;
  }
  size_t B = 0;
  for (const Pass &p : s[0])
    B = std::max(B, size_t(p.micro) + 1);
  constexpr double kUnknown = -1;
  // done[i][j]: when stage i finished F/B of micro-batch j; in[i][j]: when
  // its activation (from i - 1) / gradient (from i + 1) arrived.
  auto grid = [&] {
    return std::vector<std::vector<double>>(S, std::vector<double>(B, kUnknown));
  };
  auto doneF = grid(), doneB = grid(), inF = grid(), inB = grid();
  std::vector<double> free(S, 0), linkF(S, 0), linkB(S, 0);
  std::vector<size_t> next(S, 0);
  out = Timeline();
  out.times.assign(S, {});
  for (size_t i = 0; i < S; ++i) {
    for (const Pass &p : s[i])
      if (p.micro < 0 || size_t(p.micro) >= B) {
        err = "stage " + std::to_string(i) + ": micro-batch " +
              std::to_string(p.micro) + " out of range";
        return false;
      }
  }
  for (bool progress = true; progress;) {
    progress = false;
    for (size_t i = 0; i < S; ++i) {
      while (next[i] < s[i].size()) {
        const Pass p = s[i][next[i]];
        const size_t j = size_t(p.micro);
        double ready;
        if (p.forward)
          ready = i == 0 ? 0 : inF[i][j];
        else
          ready = i + 1 == S ? doneF[i][j] : inB[i][j];
        if (ready == kUnknown)
          break;
        if ((p.forward ? doneF : doneB)[i][j] != kUnknown) {
          err = "stage " + std::to_string(i) + " runs " +
                (p.forward ? "F" : "B") + std::to_string(j) + " twice";
          return false;
        }
        if (!p.forward && doneF[i][j] == kUnknown) {
          err = "stage " + std::to_string(i) + " runs B" + std::to_string(j) +
                " before F" + std::to_string(j);
          return false;
        }
        const double start = std::max(free[i], ready);
        const double end = start + (p.forward ? c.fwd[i] : c.bwd[i]);
        free[i] = end;
        out.times[i].push_back({start, end});
        if (p.forward) {
          doneF[i][j] = end;
          if (i + 1 < S) { // the activation crosses boundary i
            const double t = std::max(end, linkF[i]) + c.sendFwd[i];
            linkF[i] = t;
            inF[i + 1][j] = t;
          }
        } else {
          doneB[i][j] = end;
          if (i > 0) { // the gradient crosses boundary i - 1
            const double t = std::max(end, linkB[i - 1]) + c.sendBwd[i - 1];
            linkB[i - 1] = t;
            inB[i - 1][j] = t;
          }
        }
        ++next[i];
        progress = true;
      }
    }
  }
  for (size_t i = 0; i < S; ++i) {
    if (next[i] != s[i].size()) {
      const Pass p = s[i][next[i]];
      err = "the schedule deadlocks: stage " + std::to_string(i) +
            " waits for " + (p.forward ? "F" : "B") + std::to_string(p.micro);
      return false;
    }
    for (size_t j = 0; j < B; ++j)
      if (doneF[i][j] == kUnknown || doneB[i][j] == kUnknown) {
        err = "stage " + std::to_string(i) + " never runs micro-batch " +
              std::to_string(j);
        return false;
      }
  }
  out.makespan = 0;
  for (size_t i = 0; i < S; ++i)
    out.makespan = std::max(out.makespan, free[i]);
  for (size_t i = 0; i < S; ++i) {
    // Activations held: +1 at a forward's end, -1 at its backward's end.
    std::vector<std::pair<double, int>> ev;
    double compute = 0;
    for (size_t j = 0; j < B; ++j) {
      ev.push_back({doneF[i][j], +1});
      ev.push_back({doneB[i][j], -1});
    }
    for (auto [a, b] : out.times[i])
      compute += b - a;
    std::sort(ev.begin(), ev.end());
    int live = 0, peak = 0;
    for (auto [t, d] : ev)
      peak = std::max(peak, live += d);
    out.peakActivations.push_back(peak);
    out.busy.push_back(out.makespan > 0 ? compute / out.makespan : 0);
  }
  return true;
}

} // namespace tessera::pipeline
