//===- passes/memory/Plan.h - offsets in one arena ------------*- C++ -*-===//
//
// Liveness-based buffer planning with offset reuse, shared by the CPU
// planner (tessera-plan-memory) and the CUDA launch plan: buffers with a
// size and a live step range [first, last] get offsets in one arena so that
// buffers live at the same step never overlap. Greedy by size (largest
// first, lowest fitting offset), the heuristic TFLite and XLA use.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_PASSES_MEMORY_PLAN_H
#define TESSERA_PASSES_MEMORY_PLAN_H

#include <cstdint>
#include <vector>

namespace tessera::memory {

struct PlannedBuffer {
  int64_t bytes = 0;
  int64_t first = 0, last = 0; ///< live steps, inclusive
  int64_t offset = -1;         ///< set by planOffsets
};

inline int64_t alignUp(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

/// Assigns offsets (multiples of `align`); returns the arena size: the end
/// of the highest buffer (the plan's peak, without trailing padding).
int64_t planOffsets(std::vector<PlannedBuffer> &buffers, int64_t align);

/// Largest sum of (aligned) sizes live at one step: no plan can be smaller.
int64_t livePeak(const std::vector<PlannedBuffer> &buffers, int64_t align);

} // namespace tessera::memory

#endif
