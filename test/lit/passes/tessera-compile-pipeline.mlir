// tessera-compile --pipeline-stages: a stage artifact per mesh and
// pipeline.json; run under mpirun against the hand-computed output.
// RUN: rm -rf %t && tessera-compile -q %s --pipeline-stages=2 --stage-mesh=model=2 --stage-mesh=none --shard-spec=%S/Inputs/pipeline-spec.json -o %t
// RUN: FileCheck %s --check-prefix=JSON < %t/pipeline.json
// RUN: %python -c "import numpy; numpy.save('%t/x.npy', numpy.ones((16, 16), numpy.float32))"
// RUN: env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe --bind-to none -np 3 tessera-run %t/pipeline.json --input x=%t/x.npy --micro-batches 2 | FileCheck %s --check-prefix=OUT
// RUN: env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe --bind-to none -np 3 tessera-run %t/pipeline.json --input x=%t/x.npy --micro-batches 2 --transfer send-recv | FileCheck %s --check-prefix=OUT
// RUN: not tessera-run %t/pipeline.json --input x=%t/x.npy 2>&1 | FileCheck %s --check-prefix=NP
// A stage that cannot load fails every process (none waits for it).
// RUN: rm -rf %t.broken && cp -r %t %t.broken && rm %t.broken/stage1.tsr
// RUN: not timeout 120 env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe --bind-to none -np 3 tessera-run %t.broken/pipeline.json --input x=%t/x.npy 2>&1 | FileCheck %s --check-prefix=BROKEN
// RUN: not tessera-compile -q %s --pipeline-stages=2 --train -o %t.bad 2>&1 | FileCheck %s --check-prefix=TRAIN
// RUN: not tessera-compile -q %s --pipeline-stages=2 --mesh=model=2 -o %t.bad 2>&1 | FileCheck %s --check-prefix=MESH
// RUN: not tessera-compile -q %s --pipeline-stages=2 --stage-mesh=none --stage-mesh=model=2 --shard-spec=%S/Inputs/pipeline-spec.json -o %t.bad 2>&1 | FileCheck %s --check-prefix=SPEC
// RUN: not tessera-compile -q %s --stage-mesh=model=2 -o %t.bad 2>&1 | FileCheck %s --check-prefix=NOSTAGES

// JSON: "format": "tessera-pipeline-v1"
// JSON: "stages": [
// JSON: "artifact": "stage0.tsr",
// JSON: "devices": 2,
// JSON: "mesh": "model=2",
// JSON: "artifact": "stage1.tsr",
// JSON: "devices": 1,
// Each row of y: relu(x . w1) . w2 with x = ones, w1 = 0.5, w2 = 0.25:
// 16 * 0.25 * (16 * 0.5) = 32, for both micro-batches.
// OUT: output 'y': shape [16,16] f32
// OUT: min 32  max 32  mean 32
// OUT: pipeline: 2 stages, 2 micro-batches
// NP: error: {{.*}}pipeline.json': the pipeline's 2 stages need 3 processes, MPI_COMM_WORLD has 1: launch it with mpirun -np 3
// BROKEN-DAG: stage1.tsr': cannot open
// BROKEN-DAG: another process could not load its stage
// TRAIN: error: --pipeline-stages: pipelined training steps are not built
// MESH: error: --pipeline-stages: give each stage its mesh with --stage-mesh, not --mesh
// SPEC: error: --shard-spec: no sharded stage has an input or weight named 'w1'
// NOSTAGES: error: --stage-mesh needs --pipeline-stages
func.func @main(%x: tensor<8x16xf32> {tessera.name = "x"}) -> (tensor<8x16xf32> {tessera.name = "y"}) {
  %w1 = tessera.constant dense<0.5> : tensor<16x16xf32> loc("w1")
  %w2 = tessera.constant dense<0.25> : tensor<16x16xf32> loc("w2")
  %h = tessera.matmul %x, %w1 : tensor<8x16xf32>, tensor<16x16xf32> -> tensor<8x16xf32>
  %a = tessera.relu %h : tensor<8x16xf32>
  %y = tessera.matmul %a, %w2 : tensor<8x16xf32>, tensor<16x16xf32> -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}
