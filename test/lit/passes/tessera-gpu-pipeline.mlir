// RUN: tessera-opt %s --tessera-gpu-pipeline | FileCheck %s
// RUN: tessera-opt %s --tessera-gpu-pipeline='chip=sm_80' | FileCheck %s --check-prefix=SM80

// The whole CUDA pipeline: a kernel for relu(x + b), one PTX module.
// CHECK: func.func @main
// CHECK: gpu.launch_func @tessera_kernels::@k0 blocks in (%c1, %c1, %c1) threads in (%c6, %c1, %c1)
// CHECK: gpu.binary @tessera_kernels
// CHECK-SAME: chip = "sm_90"
// CHECK-SAME: .target sm_90
// CHECK-SAME: .entry k0
// SM80: .target sm_80
func.func @main(%x: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  %0 = tessera.add %x, %b : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %1 = tessera.relu %0 : tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}
