// Buffers that are never live at once share arena bytes; allocs become
// views of one arena argument and their deallocs go.
// RUN: tessera-opt %s --tessera-plan-memory='report=%t.txt' | FileCheck %s
// RUN: FileCheck %s --check-prefix=REPORT < %t.txt

// REPORT: memory plan of @main: arena 2048 bytes (the peak), live peak 2048 bytes, 3 buffers planned, 0 not planned
// REPORT: step  live_bytes  arena_in_use  op

// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[ARENA:[a-z0-9]+]]: memref<2048xi8> {tessera.arena})
// CHECK-SAME: tessera.memory_plan = {arena_bytes = 2048 : i64, buffers = 3 : i64, live_peak = 2048 : i64, unplanned = 0 : i64}
// CHECK:      %[[C0:.*]] = arith.constant 0 : index
// CHECK:      memref.view %[[ARENA]][%[[C0]]][] : memref<2048xi8> to memref<256xf32>
// CHECK:      %[[C1K:.*]] = arith.constant 1024 : index
// CHECK:      memref.view %[[ARENA]][%[[C1K]]][] : memref<2048xi8> to memref<256xf32>
// The third buffer reuses the first one's bytes: %a is dead by then.
// CHECK:      %[[C0B:.*]] = arith.constant 0 : index
// CHECK:      memref.view %[[ARENA]][%[[C0B]]][] : memref<2048xi8> to memref<256xf32>
// CHECK-NOT:  memref.dealloc
// CHECK:      return
func.func @main(%in: memref<256xf32>, %out: memref<256xf32>) {
  %a = memref.alloc() : memref<256xf32>
  memref.copy %in, %a : memref<256xf32> to memref<256xf32>
  %b = memref.alloc() : memref<256xf32>
  memref.copy %a, %b : memref<256xf32> to memref<256xf32>
  %c = memref.alloc() : memref<256xf32>
  memref.copy %b, %c : memref<256xf32> to memref<256xf32>
  memref.copy %c, %out : memref<256xf32> to memref<256xf32>
  memref.dealloc %a : memref<256xf32>
  memref.dealloc %b : memref<256xf32>
  memref.dealloc %c : memref<256xf32>
  return
}
