// A budget below the lower bound is an error naming the minimum peak and
// the op that sets it.
// RUN: tessera-opt %s --tessera-remat='budget=30%' -verify-diagnostics -split-input-file
// RUN: not tessera-opt %s --tessera-remat='budget=12parsecs' 2>&1 | FileCheck %s --check-prefix=PARSE
// RUN: not tessera-opt %s --tessera-remat='budget=50% method=magic' 2>&1 | FileCheck %s --check-prefix=METHOD

// PARSE: cannot read the memory budget '12parsecs'
// METHOD: unknown method 'magic'

// expected-error @+1 {{the memory budget of 14745 bytes for @f is below the minimum achievable peak of 49152 bytes}}
func.func @f(%x: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %a = tessera.relu %x : tensor<64x64xf32>
  %b = tessera.exp %a : tensor<64x64xf32>
  // expected-note @+1 {{needs its output and all its inputs in memory at once}}
  %e = tessera.mul %a, %b : tensor<64x64xf32>, tensor<64x64xf32> -> tensor<64x64xf32>
  return %e : tensor<64x64xf32>
}
