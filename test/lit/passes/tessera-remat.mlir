// Rematerialization under a budget: values kept for late consumers are
// recomputed instead, the schedule is optimal (Moccasin on Z3), and
// consumers read the recomputed copies.
// RUN: tessera-opt %s --tessera-remat='budget=70% report=true' 2>%t.err | FileCheck %s
// RUN: FileCheck %s --check-prefix=REPORT < %t.err
// RUN: tessera-opt %s --tessera-remat='budget=70% method=greedy' | FileCheck %s --check-prefix=GREEDY
// RUN: tessera-opt %s --tessera-remat='budget=70% method=greedy-restarts time-limit=0.2' | FileCheck %s --check-prefix=RESTARTS
// RUN: tessera-opt %s --tessera-remat='budget=100%' | FileCheck %s --check-prefix=FITS
// RUN: tessera-opt %s --tessera-remat='dump-graph=%t.json' > /dev/null
// RUN: FileCheck %s --check-prefix=GRAPH < %t.json

// REPORT: remat: @train: 7 nodes, no-remat peak 81920 B, budget 57344 B, moccasin: peak 49152 B, {{[0-9]+}} recomputations, compute x{{[0-9.]+}}, solve {{.*}}, optimal

// CHECK-LABEL: func.func @train
// CHECK-SAME: tessera.remat_summary = {budget = 57344 : i64, method = "moccasin", no_remat_peak = 81920 : i64
// CHECK-SAME: peak = 49152 : i64
// CHECK:      %[[A:.*]] = tessera.relu %arg0 : tensor<64x64xf32>
// CHECK:      %[[B:.*]] = tessera.exp %[[A]]
// CHECK:      %[[C:.*]] = tessera.tanh %[[B]]
// CHECK:      %[[D:.*]] = tessera.sigmoid %[[C]]
// CHECK:      %[[E:.*]] = tessera.mul %[[D]], %[[C]]
// CHECK:      tessera.relu %arg0 {tessera.remat = 1 : i64}
// CHECK:      tessera.exp {{.*}}{tessera.remat = 1 : i64}
// CHECK:      tessera.relu %arg0 {tessera.remat = 2 : i64}
// CHECK:      return

// GREEDY: tessera.remat_summary = {{{.*}}method = "greedy"
// GREEDY: tessera.remat = 1

// Restarts keep the cheapest schedule found: here the overhead that Moccasin
// proves optimal in the first RUN line.
// RESTARTS: tessera.remat_summary = {budget = 57344 : i64, method = "greedy-restarts", no_remat_peak = 81920 : i64, overhead = 1.35294117647{{[0-9]*}} : f64
// RESTARTS: tessera.remat = 1

// FITS: tessera.remat_summary = {{{.*}}method = "no-remat"{{.*}}recomputes = 0
// FITS-NOT: tessera.remat =

// GRAPH: "name": "train"
// GRAPH: "cost_ram": 16384
func.func @train(%x: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %a = tessera.relu %x : tensor<64x64xf32>
  %b = tessera.exp %a : tensor<64x64xf32>
  %c = tessera.tanh %b : tensor<64x64xf32>
  %d = tessera.sigmoid %c : tensor<64x64xf32>
  %e = tessera.mul %d, %c : tensor<64x64xf32>, tensor<64x64xf32> -> tensor<64x64xf32>
  %f = tessera.mul %e, %b : tensor<64x64xf32>, tensor<64x64xf32> -> tensor<64x64xf32>
  %g = tessera.mul %f, %a : tensor<64x64xf32>, tensor<64x64xf32> -> tensor<64x64xf32>
  return %g : tensor<64x64xf32>
}
