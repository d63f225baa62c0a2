//===- Passes.td - PTX target passes -----------------------*- tablegen -*-===//
#ifndef TESSERA_TARGET_PTX_PASSES_TD
#define TESSERA_TARGET_PTX_PASSES_TD

include "mlir/Pass/PassBase.td"

def TesseraGPUMapToKernels
    : Pass<"tessera-gpu-map-to-kernels", "mlir::func::FuncOp"> {
  let summary = "Turn every linalg op on buffers into a gpu.launch kernel or a "
                "cuBLAS library call";
  let description = [{
    Runs after bufferization. For each linalg op of the function:

    * a GEMM-shaped contraction (one m, n and k loop, row-major operands,
      batch dims shared or broadcast as a whole) that the cost model prices
      cheaper on cuBLAS than as a generated kernel keeps its `linalg.generic`
      and gets `library_call = "tessera_cublas_gemm"`; the runtime runs it as a
      (strided-batched) GEMM;
    * every other op is generalized, its loops interchanged so that all
      parallel loops come first, lowered to an `scf.parallel` nest with
      sequential `scf.for` reduction loops inside, and wrapped in a
      `gpu.launch` with one thread per point of the parallel iteration space
      (a linear 1-D grid of `block-size` threads, delinearised in the kernel).
      Elementwise chains and their reductions were already fused into single
      `linalg.generic`s on tensors, so each becomes a single kernel.

    Views (`memref.subview`, `expand_shape`, `collapse_shape`, casts) and
    constants used by a kernel are cloned into it, so that the kernel's
    arguments are whole, contiguous buffers (the runtime passes bare device
    pointers). Run `gpu-kernel-outlining` next.

    The cost model: a generated kernel computes about `naive-gflops` GFLOP/s
    on a contraction; cuBLAS runs at about `library-gflops` GFLOP/s plus a
    fixed `library-overhead-us`. Both are estimates to calibrate against
    `bench/gpu` measurements.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block of generated kernels">,
    Option<"naiveGflops", "naive-gflops", "double", /*default=*/"200.0",
           "Estimated GFLOP/s of a generated contraction kernel">,
    Option<"libraryGflops", "library-gflops", "double", /*default=*/"20000.0",
           "Estimated GFLOP/s of cuBLAS on a large GEMM">,
    Option<"libraryOverheadUs", "library-overhead-us", "double",
           /*default=*/"6.0", "Estimated fixed cost of one cuBLAS call (us)">,
    Option<"useLibrary", "use-library", "bool", /*default=*/"true",
           "Allow cuBLAS library calls at all">
  ];
  let dependentDialects = ["mlir::gpu::GPUDialect", "mlir::scf::SCFDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect"];
}

def TesseraGPUMergeKernelModules
    : Pass<"tessera-gpu-merge-kernel-modules", "mlir::ModuleOp"> {
  let summary = "Gather the outlined kernels into one gpu.module";
  let description = [{
    `gpu-kernel-outlining` makes one `gpu.module` per launch. This pass moves
    every kernel into a single `gpu.module @tessera_kernels` (one PTX module
    per model), names them `k<N>` in launch order and updates the
    `gpu.launch_func` ops.
  }];
  let options = [
    Option<"moduleName", "module-name", "std::string",
           /*default=*/"\"tessera_kernels\"", "Name of the merged gpu.module">
  ];
  let dependentDialects = ["mlir::gpu::GPUDialect"];
}

#endif
