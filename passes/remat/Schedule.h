//===- passes/remat/Schedule.h - Rematerialization problem and methods ----===//
//
// The rematerialization problem (Checkmate, Moccasin) on a plain graph, with
// no MLIR inside so that the solvers, the baselines and bench/remat share one
// model with the pass:
//
//   - a Graph is a DAG in a fixed topological order; node v has a duration
//     (compute cost) and an output size in bytes; `output` nodes must stay in
//     memory until the end;
//   - a Schedule is a sequence of steps; step k computes one node, whose
//     output stays in memory during steps [k, end). A step may only run when
//     every predecessor has a copy in memory (computed at an earlier step and
//     retained past this one). Memory at step k is the sum of the sizes of
//     the copies alive at k; the peak is the maximum over the steps;
//   - the methods: no-remat (each node once, freed after its last use),
//     Chen et al.'s sqrt(n) checkpointing, a greedy eviction heuristic,
//     Moccasin's constraint program (Z3) and Checkmate's MILP (CBC).
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_PASSES_REMAT_SCHEDULE_H
#define TESSERA_PASSES_REMAT_SCHEDULE_H

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tessera::remat {

struct Node {
  std::string name;
  double cost = 0;   // duration (any unit; the pass uses seconds)
  int64_t bytes = 0; // output size
  std::vector<int> preds, succs;
  bool output = false; // kept in memory until the end of the schedule
};

struct Graph {
  std::string name;
  std::vector<Node> nodes; // in topological order: preds have lower indices

  size_t size() const { return nodes.size(); }
  /// Fills `succs` from `preds` and checks the order; returns an error
  /// message, or "" when the graph is well formed.
  std::string finalize();
  /// Reads a networkx node-link JSON graph (the Moccasin/Checkmate format:
  /// nodes with `cost_cpu` and `cost_ram`, edges as `links`). Nodes are
  /// renumbered in a topological order (ties by id). Returns "" or an error.
  static std::string readNodeLink(const std::string &path, Graph &out);
  double totalCost() const;
};

/// A random layered DAG in the style of Gagrani et al. (Neural Topological
/// Ordering, App. A), as used by Moccasin: layers of random width, edges to
/// the previous layer, sparse skip connections to earlier ones, random costs
/// (1-100) and sizes (1-100 MiB). Deterministic for a seed.
Graph randomLayered(int n, unsigned seed);

struct Step {
  int node = 0;
  int end = 0; // exclusive: the output is in memory during [index, end)
};

struct Schedule {
  std::vector<Step> steps;
};

struct Evaluation {
  bool valid = false;
  std::string error;   // why the schedule is invalid
  int64_t peak = 0;    // bytes
  double cost = 0;     // sum of durations of all steps
  int recomputes = 0;  // steps beyond the first computation of each node
  std::vector<int64_t> memory; // bytes alive at each step
};

/// Checks the schedule (every node computed, inputs in memory at every step,
/// outputs alive at the end) and measures its memory and compute.
Evaluation evaluate(const Graph &g, const Schedule &s);

/// The peak no schedule can go below, whatever it recomputes: at node v's
/// first computation, v's output, all of v's inputs and every output computed
/// before v are in memory. `where` receives the node that sets the bound.
int64_t peakLowerBound(const Graph &g, int *where = nullptr);

/// Each node once, in order, freed after its last use.
Schedule noRemat(const Graph &g);

/// Chen et al. (2016): checkpoints every ceil(sqrt(n)) nodes of the order;
/// other values are dropped at the end of their segment and recomputed from
/// the checkpoints when needed later. Budget-oblivious.
Schedule chenSqrtN(const Graph &g);

/// Greedy under a budget: compute in order; when the next output does not fit,
/// evict the resident value with the best score (Belady-like next use,
/// weighted by size and recompute cost; four scores, dead values freed at
/// once or kept until memory is needed; the best of the eight is kept);
/// evicted values are recomputed on demand. With `seconds` > 0, restarts
/// then run until that time is spent, each with the score of every node
/// scaled by a random factor (seeded: the sequence is fixed, how much of it
/// runs depends on the time); the
/// cheapest schedule is kept. When no variant fits, up to `repairRounds`
/// rounds (at least four, more while `seconds` last) run them again with the
/// inputs that the failed computation found missing made ten times less
/// likely to be evicted; restarts keep learning that way until one fits.
/// Returns false when none fits the budget.
bool greedy(const Graph &g, int64_t budget, Schedule &out, double seconds = 0,
            int repairRounds = 16);

/// Lifetime splitting (Split.cpp): from the no-remat lifetimes, while a
/// step is over the budget, cut the lifetime across it that removes the most
/// over-budget memory per recomputed cost into a first part and a
/// recomputation (at the next use, or earlier where the inputs are still in
/// memory), with at most `copies` computations per node. Returns false when
/// no split helps before the budget is met. `bias` (empty, or one factor
/// per node) scales the split scores: greedy() runs it as more variants,
/// and in its restarts with random factors.
bool splitLifetimes(const Graph &g, int64_t budget, int copies, Schedule &out,
                    const std::vector<double> &bias = {});

/// Sets every step's end to just after its last reader (the newest copy of
/// each input is the one read; outputs to the end): never more memory.
void tightenEnds(const Graph &g, Schedule &s);

/// Drops recomputations (most expensive first) that the schedule no longer
/// needs: consumers read the copy before, and the result must stay valid
/// and within `budget`.
void pruneRecomputes(const Graph &g, int64_t budget, Schedule &s);

/// Share of an exact method's time limit spent on its greedy warm start.
constexpr double kWarmStartShare = 0.25;

enum class Method { NoRemat, Chen, Greedy, GreedyRestarts, Moccasin, Checkmate };
const char *methodName(Method m);
bool parseMethod(const std::string &name, Method &m);

struct SolveOptions {
  int64_t budget = 0;
  double timeLimit = 30;        // seconds for the whole solve
  int copies = 2;               // Moccasin's C: computations per node
  int maxWindow = 120;          // nodes solved at once by Z3 (decomposition)
  std::string cbcPath = "cbc";  // Checkmate's MILP solver
  bool warmStart = true;        // start the exact methods from greedy
  /// Called with progress lines (may be empty).
  std::function<void(const std::string &)> log;
};

struct SolveResult {
  Method method = Method::NoRemat;
  bool found = false;   // a schedule within the budget
  bool optimal = false; // proven optimal (exact methods)
  Schedule schedule;
  Evaluation eval;
  double seconds = 0;   // wall time of the solve
  double bound = 0;     // best lower bound on cost (exact methods), or 0
  std::string note;     // e.g. "time limit", "graph too large"
};

/// Runs one method. NoRemat and Chen ignore the budget (their result reports
/// whether it fits); the others honour it.
SolveResult solve(const Graph &g, Method m, const SolveOptions &opts);

/// Moccasin's constraint program on Z3 (Moccasin.cpp).
SolveResult solveMoccasin(const Graph &g, const SolveOptions &opts);
/// Checkmate's MILP through the CBC command-line solver (Checkmate.cpp).
SolveResult solveCheckmate(const Graph &g, const SolveOptions &opts);

} // namespace tessera::remat

#endif // TESSERA_PASSES_REMAT_SCHEDULE_H
