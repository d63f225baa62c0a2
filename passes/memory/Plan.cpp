//===- passes/memory/Plan.cpp - offsets in one arena ----------------------===//
#include "passes/memory/Plan.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace tessera::memory {

int64_t planOffsets(std::vector<PlannedBuffer> &buffers, int64_t align) {
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return buffers[x].bytes > buffers[y].bytes;
  });
  std::vector<size_t> placed;
  int64_t arena = 0;
  for (size_t i : order) {
    PlannedBuffer &b = buffers[i];
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (size_t j : placed) {
      const PlannedBuffer &o = buffers[j];
      if (o.last < b.first || b.last < o.first)
        continue;
      busy.push_back({o.offset, o.offset + alignUp(o.bytes, align)});
    }
    std::sort(busy.begin(), busy.end());
    int64_t off = 0;
    for (auto [lo, hi] : busy) {
      if (off + b.bytes <= lo)
        break;
      off = std::max(off, hi);
    }
    b.offset = off;
    arena = std::max(arena, off + b.bytes);
    placed.push_back(i);
  }
  return arena;
}

int64_t livePeak(const std::vector<PlannedBuffer> &buffers, int64_t align) {
  std::map<int64_t, int64_t> delta;
  for (const PlannedBuffer &b : buffers) {
    delta[b.first] += alignUp(b.bytes, align);
    delta[b.last + 1] -= alignUp(b.bytes, align);
  }
  int64_t live = 0, peak = 0;
  for (auto &[step, d] : delta) {
    live += d;
    peak = std::max(peak, live);
  }
  return peak;
}

} // namespace tessera::memory
