//===- Passes.td - tessera to texpr ------------------------*- tablegen -*-===//
#ifndef TESSERA_CONVERSION_GRAPHTOTEXPR_PASSES_TD
#define TESSERA_CONVERSION_GRAPHTOTEXPR_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTesseraToTExpr : Pass<"convert-tessera-to-texpr", "mlir::func::FuncOp"> {
  let summary = "Rewrite tessera ops as tensor-algebra expressions (texpr.scope)";
  let description = [{
    Each supported op becomes its OLLIE expression: matmul (batch
    broadcasting), conv (strides, dilations, groups, padding as zero reads),
    conv-transpose (dilation 1; the stride becomes a div/mod output stage:
    `O[n,f,h,w] = T[n,f,(h+p) floordiv s,(h+p) mod s,...]` with
    `T = Sum_{c,j} I[n,c,q-j,...] * W[c,f,s*j+m,...]`), average pooling
    (count_include_pad or no padding) and max pooling, g2bmm/gbmm,
    elementwise relu/tanh/sigmoid/exp/neg and add/sub/mul/div/max with
    broadcasting. A bias becomes an outer stage. Other ops are left alone;
    `ops` restricts the rewrite to the named op kinds.

    Before: `%0 = tessera.matmul %a, %b : tensor<4x3xf32>, tensor<3x5xf32> -> tensor<4x5xf32>`
    After: `%0 = texpr.scope(%a, %b) {loops = array<i64: 0, 4, 0, 5>, sums = array<i64: 0, 3>} ...`
  }];
  let options = [
    ListOption<"ops", "ops", "std::string",
               "Op names (without the dialect) to convert; all when empty">,
  ];
  let dependentDialects = ["tessera::texpr::TExprDialect"];
}

#endif
