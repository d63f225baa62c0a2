//===- TExprOps.td - OLLIE tensor-algebra expressions ------*- tablegen -*-===//
#ifndef TESSERA_TEXPR_OPS_TD
#define TESSERA_TEXPR_OPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def TExpr_Dialect : Dialect {
  let name = "texpr";
  let summary = "Tensor-algebra expressions for derivation-based optimisation";
  let description = [{
    A `texpr.scope` is one OLLIE expression stage

        L_{x0 in [lo0,hi0), ...}  Sum_{s0 in [lo,hi), ...}  f(x, s)

    producing a tensor whose dim `i` has `pad_lo[i] + (hi_i - lo_i) +
    pad_hi[i]` elements: element `pad_lo[i] + (x_i - lo_i)` holds the value
    for iterator `x_i`, the padding holds 0. The summand `f` is the scope's
    region: `texpr.access` reads a tensor at affine indices of the
    iterators (dims `d0..d(L-1)` are the traversal iterators, `dL..` the
    summation iterators; `floordiv`/`mod` allowed), and reads outside the
    tensor's bounds yield the access's `oob` value (0 unless set: zero
    padding). A scope's operand may be the result of another scope: that is
    OLLIE's nested scope, an inner stage subscripted like a tensor.
    Scopes left after derivation are eOperators and lower to one
    `linalg.generic` each (convert-texpr-to-linalg).
  }];
  let cppNamespace = "::tessera::texpr";
}

class TExpr_Op<string mnemonic, list<Trait> traits = []>
    : Op<TExpr_Dialect, mnemonic, traits>;

def TExpr_ScopeOp : TExpr_Op<"scope", [Pure, IsolatedFromAbove]> {
  let summary = "One expression stage: traversal and summation iterators over a summand";
  let description = [{
    `loops` and `sums` hold `[lo, hi)` pairs, one per iterator; `pad` holds
    `[lo, hi]` output padding per traversal iterator (all zero when absent).
    `combiner` is `add` (a sum) or `max` (a maximum, for max pooling). The
    region's block arguments are the operands, in order. `layout` marks a
    layout stage (OLLIE's Rule7 output): a re-laid-out tensor that is
    materialised, never merged back into its reader.

    ```mlir
    // O[m, n] = Sum_k A[m, k] * B[k, n]
    %0 = texpr.scope(%a, %b) {loops = array<i64: 0, 4, 0, 5>, sums = array<i64: 0, 3>}
        : (tensor<4x3xf32>, tensor<3x5xf32>) -> tensor<4x5xf32> {
    ^bb0(%A: tensor<4x3xf32>, %B: tensor<3x5xf32>):
      %x = texpr.access %A[affine_map<(d0, d1, d2) -> (d0, d2)>] : tensor<4x3xf32> -> f32
      %y = texpr.access %B[affine_map<(d0, d1, d2) -> (d2, d1)>] : tensor<3x5xf32> -> f32
      %p = texpr.mul %x, %y : f32
      texpr.yield %p : f32
    }
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs,
                       DenseI64ArrayAttr:$loops, DenseI64ArrayAttr:$sums,
                       OptionalAttr<DenseI64ArrayAttr>:$pad,
                       DefaultValuedStrAttr<StrAttr, "add">:$combiner,
                       UnitAttr:$layout);
  let results = (outs AnyRankedTensor:$result);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "`(` $inputs `)` attr-dict `:` functional-type($inputs, $result) $body";
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [OpBuilder<(ins "mlir::Type":$result, "mlir::ValueRange":$inputs,
      "llvm::ArrayRef<int64_t>":$loops, "llvm::ArrayRef<int64_t>":$sums,
      "llvm::ArrayRef<int64_t>":$pad, "llvm::StringRef":$combiner,
      CArg<"bool", "false">:$layout)>];
  let extraClassDeclaration = [{
    unsigned getNumLoops() { return getLoops().size() / 2; }
    unsigned getNumSums() { return getSums().size() / 2; }
    int64_t getPadLo(unsigned i) { return getPad() ? (*getPad())[2 * i] : 0; }
    int64_t getPadHi(unsigned i) { return getPad() ? (*getPad())[2 * i + 1] : 0; }
  }];
}

def TExpr_YieldOp : TExpr_Op<"yield", [Pure, Terminator, HasParent<"ScopeOp">]> {
  let summary = "The summand's value";
  let arguments = (ins AnyFloat:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

def TExpr_AccessOp : TExpr_Op<"access", [Pure]> {
  let summary = "Read a tensor at affine indices of the scope's iterators";
  let description = [{
    Reads outside `[0, size)` in any dim yield `oob` (default 0).
  }];
  let arguments = (ins AnyRankedTensor:$source, AffineMapAttr:$map,
                       DefaultValuedAttr<F64Attr, "0.0">:$oob);
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "$source `[` $map `]` attr-dict `:` type($source) `->` type($result)";
  let hasVerifier = 1;
}

def TExpr_ConstOp : TExpr_Op<"const", [Pure]> {
  let summary = "A scalar constant";
  let arguments = (ins F64Attr:$value);
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "$value attr-dict `:` type($result)";
}

class TExpr_BinaryOp<string mnemonic, string desc>
    : TExpr_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = desc;
  let arguments = (ins AnyFloat:$lhs, AnyFloat:$rhs);
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}
def TExpr_AddOp : TExpr_BinaryOp<"add", "scalar addition">;
def TExpr_SubOp : TExpr_BinaryOp<"sub", "scalar subtraction">;
def TExpr_MulOp : TExpr_BinaryOp<"mul", "scalar multiplication">;
def TExpr_DivOp : TExpr_BinaryOp<"div", "scalar division">;
def TExpr_MaxOp : TExpr_BinaryOp<"max", "scalar maximum">;

def TExpr_FnOp : TExpr_Op<"fn", [Pure, SameOperandsAndResultType]> {
  let summary = "A unary scalar function: relu, tanh, sigmoid, exp, neg";
  let arguments = (ins AnyFloat:$input, StrAttr:$kind);
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "$kind $input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

#endif
