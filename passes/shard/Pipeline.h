//===- passes/shard/Pipeline.h - pipeline schedules -----------*- C++ -*-===//
//
// Pipeline-parallel training steps: S stages (each on its own mesh), B
// micro-batches, each stage running a forward and a backward pass per
// micro-batch. A schedule is, per stage, the order of those passes; the
// simulator runs it against per-stage compute times and the time a
// micro-batch's activation (forward) or gradient (backward) takes to cross
// each stage boundary (a cross-mesh resharding, e.g. a planBroadcast time).
//
//   - 1F1B (PipeDream-flush): stage i runs min(B, S - i) forwards, then
//     alternates one backward and one forward, then the remaining
//     backwards; at most S - i activations are live on stage i.
//   - Eager 1F1B (Zhuang et al., MLSys'23): min(B, 2(S - i) - 1) forwards
//     first. Forwards run ahead of their consumers, so an activation's
//     transfer overlaps the receiver's compute instead of sitting between
//     a producer's backward and the consumer's next forward; the price is
//     up to 2(S - i) - 1 live activations.
//
// The simulator: each stage computes one pass at a time, in its order, as
// soon as the pass's input is there; a boundary has one link per direction
// carrying one transfer at a time (in production order), asynchronous to
// compute. Plain C++, no MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_PASSES_SHARD_PIPELINE_H
#define TESSERA_PASSES_SHARD_PIPELINE_H

#include <string>
#include <vector>

namespace tessera::pipeline {

enum class Kind { OneFOneB, EagerOneFOneB };

struct Pass {
  bool forward = true;
  int micro = 0;
};

/// Per stage, the order of its 2B passes; empty with `err` set on bad
/// arguments (stages or micro-batches < 1).
std::vector<std::vector<Pass>> schedule(int stages, int micro, Kind kind,
                                        std::string &err);

struct Costs {
  std::vector<double> fwd, bwd; // per stage, seconds per micro-batch
  /// Per boundary (S - 1 of them, boundary i between stages i and i + 1):
  /// seconds to move one micro-batch's activation forward and its gradient
  /// back.
  std::vector<double> sendFwd, sendBwd;
};

struct Timeline {
  double makespan = 0;
  /// Per stage: the most micro-batches whose forward has run and whose
  /// backward has not (activations held).
  std::vector<int> peakActivations;
  /// Per stage: fraction of the makespan it computes.
  std::vector<double> busy;
  /// Per stage and pass in schedule order: start and end times.
  std::vector<std::vector<std::pair<double, double>>> times;
};

/// Runs `s` against `c`; false with `err` set if the schedule deadlocks or
/// does not run every pass once, or the costs do not fit the stages.
bool simulate(const std::vector<std::vector<Pass>> &s, const Costs &c,
              Timeline &out, std::string &err);

const char *kindName(Kind k);

} // namespace tessera::pipeline

#endif
