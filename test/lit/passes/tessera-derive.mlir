// tessera-derive: options, report, verification failures, errors. The
// showcase derivations (compiled and run against the originals) are in
// derive/.

// The cuda cost model (cuBLAS GEMMs, generated conv kernels) derives the
// conv into a matmul; the cpu model (every op is generated loop code) keeps it.
// RUN: tessera-opt %s --split-input-file --tessera-derive='target=cuda' | FileCheck %s --check-prefix=CUDA
// RUN: tessera-opt %s --split-input-file --tessera-derive='target=cpu' | FileCheck %s --check-prefix=CPU
// `ops` restricts which op kinds are considered.
// RUN: tessera-opt %s --split-input-file --tessera-derive='target=cuda ops=matmul' | FileCheck %s --check-prefix=CPU
// A candidate that fails verification is dropped with a remark, never applied.
// RUN: tessera-opt %s --split-input-file --tessera-derive='target=cuda test-corrupt-candidates=true report=%t.bad.json' 2>%t.err | FileCheck %s --check-prefix=CPU
// RUN: FileCheck %s --check-prefix=DROP < %t.err
// RUN: FileCheck %s --check-prefix=DROPJSON < %t.bad.json
// The report: what was tried and chosen per op.
// RUN: tessera-opt %s --split-input-file --tessera-derive='target=cuda max-depth=4 report=%t.json' -o /dev/null
// RUN: FileCheck %s --check-prefix=REPORT < %t.json
// Errors.
// RUN: not tessera-opt %s --split-input-file --tessera-derive='target=tpu' 2>&1 | FileCheck %s --check-prefix=BADTARGET
// RUN: not tessera-opt %s --split-input-file --tessera-derive='report=%t.missing/dir/r.json' 2>&1 | FileCheck %s --check-prefix=BADREPORT

// CUDA-LABEL: func.func @conv
// CUDA: tessera.matmul
// CUDA: texpr.scope
// CUDA-NOT: tessera.conv
// CPU-LABEL: func.func @conv
// CPU: tessera.conv
// CPU-NOT: tessera.matmul
// DROP: remark: tessera-derive: dropped a derivation that failed verification: numeric mismatch
// DROPJSON: "dropped": {{[1-9]}}
// DROPJSON: "failure": "numeric mismatch
// DROPJSON: "verified": false
// DROPJSON: "status": "kept"
// REPORT: "committed": 1
// REPORT: "cached": false
// REPORT: "deduplicated":
// REPORT: "explored":
// REPORT: "expression": "L<d0:0:1,d1:0:64,d2:0:56,d3:0:56>Sum<d4:0:64,d5:0:3,d6:0:3>{ (%0[d0, d4, d2 + d5 - 1, d3 + d6 - 1] * %1[d1, d4, d5, d6]) }"
// REPORT: "original_stages": [
// REPORT-NEXT: "conv"
// REPORT: "search_seconds":
// REPORT: "status": "derived"
// REPORT: "max_depth": 4
// BADTARGET: error: tessera-derive: unknown target 'tpu' (have cpu, cuda)
// BADREPORT: error: tessera-derive: cannot write report
func.func @conv(%x: tensor<1x64x56x56xf32>, %w: tensor<64x64x3x3xf32>) -> tensor<1x64x56x56xf32> {
  %0 = tessera.conv %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, groups = 1 : i64} : (tensor<1x64x56x56xf32>, tensor<64x64x3x3xf32>) -> tensor<1x64x56x56xf32>
  return %0 : tensor<1x64x56x56xf32>
}
