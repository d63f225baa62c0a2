//===- CPUTarget.cpp - LLVM dialect -> object -> shared object ------------===//
#include "lib/Target/CPU/CPUTarget.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

#include <memory>

namespace tessera::cpu {

namespace {
struct TempFile {
  llvm::SmallString<128> path;
  ~TempFile() {
    if (!path.empty())
      llvm::sys::fs::remove(path);
  }
};
} // namespace

bool emitObject(mlir::ModuleOp module, const CodegenOptions &options,
                std::vector<char> &object, std::string &resolvedCpu,
                std::string &error) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  mlir::registerBuiltinDialectTranslation(*module->getContext());
  mlir::registerLLVMDialectTranslation(*module->getContext());

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, llvmContext, "tessera");
  if (!llvmModule) {
    error = "translation of the LLVM dialect to LLVM IR failed";
    return false;
  }

  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string lookupError;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, lookupError);
  if (!target) {
    error = "no LLVM target for " + triple.str() + ": " + lookupError;
    return false;
  }
  std::string cpu = options.cpu;
  std::string features;
  if (cpu == "native") {
    cpu = llvm::sys::getHostCPUName().str();
    llvm::SubtargetFeatures f;
    for (auto &kv : llvm::sys::getHostCPUFeatures())
      f.AddFeature(kv.first(), kv.second);
    features = f.getString();
  }
  resolvedCpu = cpu;
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features, targetOptions, llvm::Reloc::PIC_, std::nullopt,
      options.optLevel >= 3   ? llvm::CodeGenOptLevel::Aggressive
      : options.optLevel == 0 ? llvm::CodeGenOptLevel::None
                              : llvm::CodeGenOptLevel::Default));
  if (!tm) {
    error = "cannot create a target machine for CPU '" + cpu + "'";
    return false;
  }
  llvmModule->setDataLayout(tm->createDataLayout());
  llvmModule->setTargetTriple(triple);

  // Optimise with the standard pipeline.
  {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PipelineTuningOptions pto;
    pto.LoopVectorization = options.optLevel >= 2;
    pto.SLPVectorization = options.optLevel >= 2;
    llvm::PassBuilder pb(tm.get(), pto);
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::OptimizationLevel level = options.optLevel >= 3 ? llvm::OptimizationLevel::O3
                                    : options.optLevel == 2 ? llvm::OptimizationLevel::O2
                                    : options.optLevel == 1 ? llvm::OptimizationLevel::O1
                                                            : llvm::OptimizationLevel::O0;
    llvm::ModulePassManager mpm = level == llvm::OptimizationLevel::O0
                                      ? pb.buildO0DefaultPipeline(level)
                                      : pb.buildPerModuleDefaultPipeline(level);
    mpm.run(*llvmModule, mam);
  }

  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager codegen;
  if (tm->addPassesToEmitFile(codegen, os, nullptr,
                              llvm::CodeGenFileType::ObjectFile)) {
    error = "the target cannot emit object files";
    return false;
  }
  codegen.run(*llvmModule);
  object.assign(buffer.begin(), buffer.end());
  return true;
}

bool linkSharedObject(const std::vector<char> &object,
                      std::vector<char> &sharedObject, std::string &error) {
  std::string lld = TESSERA_LLD_PATH;
  if (!llvm::sys::fs::can_execute(lld)) {
    auto found = llvm::sys::findProgramByName("ld.lld-22");
    if (!found)
      found = llvm::sys::findProgramByName("ld.lld");
    if (!found) {
      error = "ld.lld not found (install lld-22)";
      return false;
    }
    lld = *found;
  }
  TempFile obj, so;
  int fd;
  if (llvm::sys::fs::createTemporaryFile("tessera", "o", fd, obj.path)) {
    error = "cannot create a temporary object file";
    return false;
  }
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os.write(object.data(), object.size());
  }
  if (llvm::sys::fs::createTemporaryFile("tessera", "so", so.path)) {
    error = "cannot create a temporary shared-object file";
    return false;
  }
  std::vector<llvm::StringRef> args{lld,
                                    "-shared",
                                    "--no-undefined-version",
                                    "-O1",
                                    "-o",
                                    so.path.str(),
                                    obj.path.str(),
                                    "-L/lib/x86_64-linux-gnu",
                                    "-L/usr/lib/x86_64-linux-gnu",
                                    "-L/lib64",
                                    "-L/usr/lib64",
                                    "--as-needed",
                                    "-lm"};
  std::string msg;
  llvm::SmallString<128> errFile;
  llvm::sys::fs::createTemporaryFile("tessera-lld", "txt", errFile);
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, errFile.str(),
                                                errFile.str()};
  int rc = llvm::sys::ExecuteAndWait(lld, args, std::nullopt, redirects, 0, 0,
                                     &msg);
  auto out = llvm::MemoryBuffer::getFile(errFile);
  std::string lldOutput = out ? (*out)->getBuffer().str() : "";
  llvm::sys::fs::remove(errFile);
  if (rc != 0) {
    error = "linking the shared object with " + lld + " failed (exit " +
            std::to_string(rc) + "): " + msg + lldOutput;
    return false;
  }
  auto buf = llvm::MemoryBuffer::getFile(so.path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf) {
    error = "cannot read the linked shared object";
    return false;
  }
  sharedObject.assign((*buf)->getBufferStart(), (*buf)->getBufferEnd());
  return true;
}

} // namespace tessera::cpu
