//===- Passes.td - memory planning -------------------------*- tablegen -*-===//
#ifndef TESSERA_MEMORY_PASSES_TD
#define TESSERA_MEMORY_PASSES_TD

include "mlir/Pass/PassBase.td"

def TesseraPlanMemory : Pass<"tessera-plan-memory", "mlir::ModuleOp"> {
  let summary = "Place every intermediate buffer at a planned offset in one "
                "arena, reusing memory between buffers that are never live "
                "at once";
  let description = [{
    Runs on bufferized functions. Each top-level `memref.alloc` with a
    static shape is live from its op to the last op that uses it or any of
    its views (subview, reshape, cast); ops are steps in block order, so a
    rematerialized schedule is planned as scheduled. Offsets come from a
    greedy-by-size placement (64-byte aligned). The function gets one more
    argument, `memref<N x i8> {tessera.arena}`, allocs become `memref.view`s
    of it and their deallocs go; the runtime passes an arena of N bytes.
    `tessera.memory_plan = {arena_bytes, live_peak, buffers, unplanned}` is
    set on the function. `report` writes the peak and a per-step timeline
    (`-` for stdout), `plot` an SVG of the plan (buffers as boxes over steps
    and offsets, with the live bytes).

    Before:
    ```mlir
    %a = memref.alloc() : memref<256xf32>
    ...
    memref.dealloc %a : memref<256xf32>
    ```
    After:
    ```mlir
    func.func @main(..., %arena: memref<2048xi8> {tessera.arena})
    %a = memref.view %arena[%c1024][] : memref<2048xi8> to memref<256xf32>
    ```
  }];
  let options = [
    Option<"report", "report", "std::string", "\"\"",
           "Write the memory report here ('-' = stdout)">,
    Option<"plot", "plot", "std::string", "\"\"",
           "Write an SVG plot of the plan here">,
  ];
  let dependentDialects = ["mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect"];
}

#endif
