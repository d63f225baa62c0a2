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

#endif
