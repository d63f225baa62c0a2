// RUN: tessera-opt %s --pass-pipeline='builtin.module(tessera-cpu-pipeline{min-weight-elements=4})' | FileCheck %s
// The pipeline's memory-report and memory-plot options reach the planner.
// RUN: tessera-opt %s --pass-pipeline='builtin.module(tessera-cpu-pipeline{min-weight-elements=4 memory-report=%t.txt memory-plot=%t.svg})' -o /dev/null
// RUN: FileCheck %s --check-prefix=REPORT < %t.txt
// RUN: FileCheck %s --check-prefix=PLOT < %t.svg
// REPORT: memory plan of @main: arena {{[0-9]+}} bytes (the peak)
// REPORT: step  live_bytes  arena_in_use  op
// PLOT: <svg

// The whole CPU pipeline ends in the LLVM dialect with the packed entry point;
// inputs, weights and outputs become bare pointers in that order.
// CHECK: llvm.func @main(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK-NOT: llvm.call @memrefCopy
// CHECK: llvm.func @tessera_entry(%[[ARGS:.*]]: !llvm.ptr)
// CHECK: llvm.getelementptr %[[ARGS]][2]
// CHECK: llvm.call @main
func.func @main(%x: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %w = tessera.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %0 = tessera.matmul %x, %w : tensor<2x4xf32>, tensor<4x2xf32> -> tensor<2x2xf32>
  %1 = tessera.softmax %0 {axis = 1 : i64} : tensor<2x2xf32>
  return %1 : tensor<2x2xf32>
}
