// RUN: tessera-opt %s --tessera-cpu-packed-entry -split-input-file -verify-diagnostics | FileCheck %s

// Tessera's annotations are dropped so that LLVM translation does not warn.
// CHECK: llvm.func @main(%arg0: !llvm.ptr, %arg1: !llvm.ptr)
// CHECK-LABEL: llvm.func @tessera_entry(%arg0: !llvm.ptr)
// CHECK: %[[P0:.*]] = llvm.getelementptr %arg0[0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[A0:.*]] = llvm.load %[[P0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[P1:.*]] = llvm.getelementptr %arg0[1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[A1:.*]] = llvm.load %[[P1]] : !llvm.ptr -> !llvm.ptr
// CHECK: llvm.call @main(%[[A0]], %[[A1]])
// CHECK: llvm.return
module {
  llvm.func @main(%a: !llvm.ptr {tessera.name = "x"}, %b: !llvm.ptr) {
    llvm.return
  }
}

// -----

// expected-error @+1 {{parameter 0 has type 'i64'; expected a bare pointer}}
llvm.func @main(%a: i64) {
  llvm.return
}
