//===- Passes.td - derivation (OLLIE) ----------------------*- tablegen -*-===//
#ifndef TESSERA_DERIVE_PASSES_TD
#define TESSERA_DERIVE_PASSES_TD

include "mlir/Pass/PassBase.td"

def TesseraDerive : Pass<"tessera-derive", "mlir::ModuleOp"> {
  let summary = "OLLIE derivation: rewrite operators as tensor-algebra "
                "expressions, search derivations, commit verified winners";
  let description = [{
    Each conv, conv_transpose, matmul, g2bmm and gbmm op is turned into its
    `texpr` expression. A depth-bounded explorative search applies the
    derivation rules (summation splitting, variable substitution and merge,
    traversal merging, boundary tightening and relaxing, variable split),
    deduplicating states by a renaming-invariant fingerprint; every state is
    costed by guided matching of its stages to library operators (matmul,
    conv, g2bmm, gbmm) with the rest as eOperators, under an analytical
    roofline of `target`. The cheapest candidate that beats the original by
    `min-gain` is verified -- numerically at sampled output points on seeded
    random inputs and, for each rule's index algebra, with Z3 -- and then
    committed as tessera ops plus `texpr.scope` eOperators. A candidate that
    fails verification is dropped with a remark and the next one is tried.

    Before (cost model cuda):
    ```mlir
    %0 = tessera.conv %x, %w {pads = array<i64: 1, 1, 1, 1>, ...}
    ```
    After:
    ```mlir
    %t = tessera.matmul ...          // Sum_c X[n,c,h,w] * W[f,c,r,s]
    %0 = texpr.scope(%t) {...}       // Sum_{r,s} T[n, f, h+r, w+s, r, s]
    ```
  }];
  let options = [
    Option<"maxDepth", "max-depth", "unsigned", "6",
           "Maximum number of explorative rule applications on a path">,
    Option<"timeBudget", "time-budget", "double", "30.0",
           "Search time budget in seconds for the whole module">,
    Option<"target", "target", "std::string", "\"cuda\"",
           "Cost model: cuda (cuBLAS GEMMs, generated kernels) or cpu">,
    Option<"report", "report", "std::string", "\"\"",
           "Write a JSON report of what was tried and chosen per op here">,
    Option<"minGain", "min-gain", "double", "0.05",
           "Commit only when the modelled cost drops by this fraction">,
    Option<"seed", "seed", "uint64_t", "1",
           "Seed of the random inputs used for numeric verification">,
    ListOption<"ops", "ops", "std::string",
               "Op kinds to derive (default conv, conv_transpose, matmul, "
               "g2bmm, gbmm)">,
    Option<"testCorrupt", "test-corrupt-candidates", "bool", "false",
           "Testing only: perturb every candidate (one index off by one) "
           "before verification, to exercise the drop path">,
  ];
  let dependentDialects = ["tessera::texpr::TExprDialect",
                           "tessera::TesseraDialect"];
}

def TesseraDeriveRule : Pass<"tessera-derive-rule", "mlir::func::FuncOp"> {
  let summary = "Apply one derivation rule to every texpr.scope (for tests)";
  let description = [{
    Reads each root `texpr.scope` (with the scopes feeding it as nested
    stages), applies `rule` to the stage at `path` (source indices from the
    root, comma separated; empty = root), applies eager traversal merging,
    checks the rule's Z3 obligations and writes the result back. Rules:
    `summation-split` (args: summation iterator positions moved out),
    `substitute` (args: a, b, sign), `merge` (args: a, b), `inline` (args:
    source index), `tighten`, `relax` (args: summation position, lo, hi),
    `split` (args: summation position, factor), `dilation-to-batch` (args:
    traversal iterator, dilation), `match` (guided matching:
    stages that match a library op become that op). A rule that does not
    apply leaves the scope unchanged and emits a remark.
  }];
  let options = [
    Option<"rule", "rule", "std::string", "\"\"", "Rule name">,
    ListOption<"args", "args", "int64_t", "Rule arguments">,
    ListOption<"path", "path", "unsigned", "Path of the stage to rewrite">,
  ];
  let dependentDialects = ["tessera::texpr::TExprDialect",
                           "tessera::TesseraDialect"];
}

#endif
