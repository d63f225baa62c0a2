//===- Passes.td - CPU target passes -----------------------*- tablegen -*-===//
#ifndef TESSERA_TARGET_CPU_PASSES_TD
#define TESSERA_TARGET_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def TesseraCPUPackedEntry : Pass<"tessera-cpu-packed-entry", "mlir::ModuleOp"> {
  let summary = "Add the packed `void entry(void **args)` wrapper";
  let description = [{
    Runs on the LLVM dialect after `convert-func-to-llvm` with the bare-pointer
    memref calling convention. Creates `llvm.func @<entry>(%args: !llvm.ptr)`
    that loads `args[i]` for every parameter of `@<func>` and calls it; this
    is the ABI the runtime calls (see include/tessera/Artifact.h).

    ```mlir
    llvm.func @tessera_entry(%args: !llvm.ptr) {
      %p0 = llvm.getelementptr %args[0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
      %a0 = llvm.load %p0 : !llvm.ptr -> !llvm.ptr
      ...
      llvm.call @main(%a0, ...) : (!llvm.ptr, ...) -> ()
      llvm.return
    }
    ```
  }];
  let options = [
    Option<"funcName", "func", "std::string", /*default=*/"\"main\"",
           "The function to wrap">,
    Option<"entryName", "entry", "std::string", /*default=*/"\"tessera_entry\"",
           "The name of the packed entry point">
  ];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

def TesseraMemrefCopyToLinalg
    : Pass<"tessera-memref-copy-to-linalg", "mlir::func::FuncOp"> {
  let summary = "Rewrite memref.copy as linalg.copy so that it lowers to loops";
  let description = [{
    `memref.copy` between strided views lowers to a call of the `memrefCopy`
    runtime helper, which generated code must not depend on. This pass turns
    every `memref.copy` into `linalg.copy`, which `convert-linalg-to-loops`
    expands into plain loops (identity-layout copies become memcpy later).

    ```mlir
    memref.copy %a, %b : memref<4xf32, strided<[2]>> to memref<4xf32>
    // becomes
    linalg.copy ins(%a : memref<4xf32, strided<[2]>>) outs(%b : memref<4xf32>)
    ```
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

#endif
