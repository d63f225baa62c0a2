//===- Passes.td - sharding (GSPMD) ------------------------*- tablegen -*-===//
#ifndef TESSERA_SHARD_PASSES_TD
#define TESSERA_SHARD_PASSES_TD

include "mlir/Pass/PassBase.td"

def TesseraShardPropagate : Pass<"tessera-shard-propagate", "mlir::ModuleOp"> {
  let summary = "Propagate tensor shardings over a device mesh (GSPMD)";
  let description = [{
    The mesh is an upstream `shard.grid` (named axes from its
    `tessera.axis_names` string array, else `axis0`, `axis1`, ...). User
    shardings come from `shard.shard %x to %s` annotations (`%s` a
    `shard.sharding` on that grid) and from `tessera.sharding` string
    attributes on function arguments: in square brackets, per tensor dim
    the mesh axes it is split along in braces, major first (`{data}` then
    `{}` for a matrix split by rows along `data`), and from the same
    strings in a `tessera.user_sharding` attribute on an op (its first
    result; `tessera-compile --shard-spec` marks named weights so). They are
    fixed.

    Every tessera op has a sharding rule from a registry: its operand and
    result dims map to factors (batch, rows, columns, contraction, ...)
    that are parallel, reductions (a sharded contraction leaves a partial
    sum on the result) or must stay whole (a softmax axis, a concat axis).
    Forward and backward sweeps run to a fixpoint: each op gathers the mesh
    axes its factors have on the tensors already sharded, resolves
    disagreements by the communication cost model (the candidate that
    leaves the fewest bytes to reshard wins; user shardings first), and
    refines its unsharded tensors (dims already sharded never change, so it
    terminates).

    Every op gets `tessera.sharding` (one string per result, with
    `partial{axes}` for partial sums), `tessera.factor_axes` (the mesh axes
    of each factor of its rule, which the partitioner reuses so that both
    passes agree) and, where an operand's sharding is not what the op's rule
    asks for, `tessera.reshard` (per operand, "" when it needs none).
    `report` writes the table (- for stdout).
  }];
  let options = [
    Option<"report", "report", "std::string", "\"\"",
           "Write the sharding report here ('-' = stdout)">,
  ];
  let dependentDialects = ["mlir::shard::ShardDialect"];
}

def TesseraShardPartition : Pass<"tessera-shard-partition", "mlir::ModuleOp"> {
  let summary = "Turn a sharded program into one SPMD program with explicit "
                "collectives";
  let description = [{
    Runs after `tessera-shard-propagate`. Every value becomes its local
    shard (sharded dims divided by their mesh axes' sizes; uneven splits are
    an error), function arguments and results included. Where an operand's
    sharding is not what its op's rule asks for, the reshard is made
    explicit with upstream collectives: a partial sum becomes
    `shard.all_reduce` (before any use: a bias added to a partial sum
    would be added once per device), a split the op cannot use becomes
    `shard.all_gather`, a split it wants on a whole tensor `shard.all_slice`
    (no communication), and a split moving between dims a gather then a
    slice. Function results leave complete (partial sums reduced) and keep
    the sharding in their `tessera.sharding` attribute. A `reduce_mean` over
    a split dim is scaled so that its partial sum is the global mean.
    Sharded constants stay whole and are sliced where used. The function
    gets `tessera.spmd = "@mesh"`.

    Spatial splits of `conv` and `max_pool` exchange halos: each device
    sends the rows the next device's windows need (`shard.shift` by +1 and
    -1 along the mesh axis, selected against the padding value on the edge
    devices, `shard.process_multi_index`) and the op runs unpadded on its
    slice with the halos concatenated. Other spatial splits (avg_pool) are
    an error naming the op.
  }];
  let dependentDialects = ["mlir::shard::ShardDialect",
                           "mlir::arith::ArithDialect"];
}

def TesseraPipelineSplit
    : Pass<"tessera-pipeline-split", "mlir::ModuleOp"> {
  let summary = "Keep one pipeline stage of @main";
  let description = [{
    Cuts @main's ops, in program order, into `stages` contiguous parts of
    about equal estimated time (the remat cost model for `target`), each
    cut moved within a tenth of a stage's time to where the fewest bytes
    cross it, and keeps part `stage` as @main: it takes the model inputs it
    uses and the values earlier stages make (boundary tensors, named after
    the model result they are or `stage<k>.<n>`) and returns what later
    stages and the model need. Constants are cloned into each stage using
    them. Every stage computes the same cuts, so names agree across the
    stages; @main gets `tessera.pipeline_stage`, `tessera.pipeline_stages`,
    `tessera.pipeline_cuts` and the estimated `tessera.pipeline_stage_seconds`.
  }];
  let options = [
    Option<"stages", "stages", "int64_t", "2", "Number of stages">,
    Option<"stage", "stage", "int64_t", "0", "The stage to keep (0-based)">,
    Option<"target", "target", "std::string", "\"cpu\"",
           "Cost model: cpu or cuda">,
  ];
  let dependentDialects = ["mlir::func::FuncDialect"];
}

def TesseraLowerCollectives
    : Pass<"tessera-lower-collectives", "mlir::ModuleOp"> {
  let summary = "Lower shard collectives to Tessera runtime calls (MPI)";
  let description = [{
    Runs on a partitioned program before bufferization. Each
    `shard.all_reduce`, `all_gather`, `all_slice`, `all_to_all` and `shift`
    (and `reduce_scatter`) becomes a call to a private wrapper
    `@__tsr_coll_N(input buffer, output
    buffer)` (from `bufferization.to_buffer` of its operand and a fresh
    64-byte aligned `memref.alloc`, the result a restrict `to_tensor` of it)
    that passes the two addresses and a constant descriptor global
    (`@__tsr_coll_desc_N`, layout in `tessera/Collectives.h`: kind, element
    type, reduction, axes, grid shape, input shape) to the runtime's
    `tsr_coll_run`. `shard.process_multi_index` becomes one
    `tsr_coll_process_index` call per axis. The runtime runs them with MPI,
    one process per device. Upstream `convert-shard-to-mpi` is not used: it
    covers all-reduce and halo updates only, and the MPI dialect has no
    all-gather or all-to-all.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::bufferization::BufferizationDialect",
                           "mlir::func::FuncDialect",
                           "mlir::memref::MemRefDialect"];
}

#endif
