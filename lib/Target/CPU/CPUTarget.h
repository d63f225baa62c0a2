//===- CPUTarget.h - host code generation -----------------------*- C++ -*-===//
#ifndef TESSERA_LIB_TARGET_CPU_CPUTARGET_H
#define TESSERA_LIB_TARGET_CPU_CPUTARGET_H

#include <string>
#include <vector>

namespace mlir {
class ModuleOp;
}

namespace tessera::cpu {

struct CodegenOptions {
  /// "native" (the host CPU) or an LLVM CPU name such as "x86-64-v3".
  std::string cpu = "native";
  int optLevel = 3;
};

/// Translates a module in the LLVM dialect to LLVM IR, optimises it and
/// emits a relocatable object for the host. On failure returns false and
/// sets `error`.
bool emitObject(mlir::ModuleOp module, const CodegenOptions &options,
                std::vector<char> &object, std::string &resolvedCpu,
                std::string &error);

/// Links a relocatable object into a shared object with ld.lld.
bool linkSharedObject(const std::vector<char> &object,
                      std::vector<char> &sharedObject, std::string &error);

} // namespace tessera::cpu

#endif
