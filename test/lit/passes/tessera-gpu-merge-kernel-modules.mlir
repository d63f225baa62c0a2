// RUN: tessera-opt %s --tessera-gpu-merge-kernel-modules | FileCheck %s

// CHECK: gpu.module @tessera_kernels
// CHECK: gpu.func @k0
// CHECK: gpu.func @k1
// CHECK-NOT: gpu.module
// CHECK: gpu.launch_func @tessera_kernels::@k0
// CHECK: gpu.launch_func @tessera_kernels::@k1
module attributes {gpu.container_module} {
  gpu.module @main_kernel {
    gpu.func @main_kernel(%a: memref<4xf32>) kernel { gpu.return }
  }
  gpu.module @main_kernel_0 {
    gpu.func @main_kernel(%a: memref<4xf32>) kernel { gpu.return }
  }
  func.func @main(%a: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @main_kernel::@main_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4xf32>)
    gpu.launch_func @main_kernel_0::@main_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4xf32>)
    return
  }
}
