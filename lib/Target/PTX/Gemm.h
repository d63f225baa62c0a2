//===- Gemm.h - GEMM-shaped contractions for library calls ------*- C++ -*-===//
#ifndef TESSERA_LIB_TARGET_PTX_GEMM_H
#define TESSERA_LIB_TARGET_PTX_GEMM_H

#include "mlir/Support/LLVM.h"
#include <cstdint>
#include <optional>

namespace mlir::linalg {
class GenericOp;
}

namespace tessera::ptx {

/// The library_call name of a contraction the runtime runs on cuBLAS.
inline constexpr const char *kCublasGemm = "tessera_cublas_gemm";

/// Row-major C[b] (+)= A[b] * B[b] with A: M x K, B: K x N, C: M x N. An
/// operand with `...Batched == false` is the same matrix for every batch.
struct GemmShape {
  int64_t batch = 1, m = 0, n = 0, k = 0;
  bool lhsBatched = false, rhsBatched = false;
  /// A and B: "f32", "bf16" or "f16"; C and the accumulation are f32.
  const char *inputDtype = "f32";
  double flops() const { return 2.0 * batch * m * n * k; }
};

/// Matches a linalg.generic computing out += lhs * rhs whose loops are batch
/// dims, one m, one n and one k dim, with operands laid out so that a strided
/// batched GEMM computes it (see GemmShape). Operands must be static.
std::optional<GemmShape> matchGemm(mlir::linalg::GenericOp op);

} // namespace tessera::ptx

#endif
