//===- Passes.td - rematerialization (Moccasin) ------------*- tablegen -*-===//
#ifndef TESSERA_REMAT_PASSES_TD
#define TESSERA_REMAT_PASSES_TD

include "mlir/Pass/PassBase.td"

def TesseraRemat : Pass<"tessera-remat", "mlir::ModuleOp"> {
  let summary = "Recompute values so that a function fits a memory budget "
                "at the least extra compute (Moccasin on Z3)";
  let description = [{
    Each function body is read as a graph in its op order: one node per op,
    with the byte size of its results (constants count zero: weights are
    not part of the budget) and its duration under the compiler's roofline
    cost model (`cost-model`, the one derivation uses). Function results
    stay alive to the end. The memory model: an op runs when its operands
    are alive; a value is alive from its op until its retention ends; the
    peak is the largest sum of alive values.

    When the no-remat peak exceeds `budget`, `method` chooses which values to
    recompute and when: `moccasin` (default; constraint programming on Z3,
    warm-started from `greedy-restarts` for a quarter of `time-limit`,
    decomposed into windows on large graphs, anytime under `time-limit`),
    `greedy`, `greedy-restarts` (greedy, then randomized restarts for
    `time-limit`), `chen-sqrt-n` or `checkmate-milp` (CBC). The schedule is materialised in the IR:
    recomputations are clones of the original ops marked
    `tessera.remat = <copy>`, consumers read the copy alive at their
    position, and ops are reordered to the schedule. A budget below the
    lower bound (the largest "output plus inputs" of any op) is an error
    stating that bound.

    Before (`budget=60%`):
    ```mlir
    %a = tessera.relu %x        // kept until the backward op reads it
    ...
    %g = tessera.mul %a, %d
    ```
    After:
    ```mlir
    %a = tessera.relu %x        // freed early
    ...
    %a2 = tessera.relu %x {tessera.remat = 1 : i64}
    %g = tessera.mul %a2, %d
    ```
  }];
  let options = [
    Option<"budget", "budget", "std::string", "\"\"",
           "Memory budget: bytes (suffix K, M, G for KiB, MiB, GiB) or a "
           "percentage of the no-remat peak (e.g. 80%)">,
    Option<"method", "method", "std::string", "\"moccasin\"",
           "moccasin, greedy, greedy-restarts, chen-sqrt-n or "
           "checkmate-milp">,
    Option<"timeLimit", "time-limit", "double", "30.0",
           "Solver time limit in seconds per function">,
    Option<"copies", "copies", "unsigned", "2",
           "Moccasin's computations per node (C)">,
    Option<"costModel", "cost-model", "std::string", "\"cpu\"",
           "Roofline used for op durations: cpu or cuda">,
    Option<"report", "report", "bool", "false",
           "Print the graph size, peaks, solve time and overhead">,
    Option<"dumpGraph", "dump-graph", "std::string", "\"\"",
           "Write each function's graph as node-link JSON (FILE, or "
           "FILE.<func>.json with several functions) for bench/remat">,
  ];
  let dependentDialects = ["tessera::TesseraDialect"];
}

#endif
