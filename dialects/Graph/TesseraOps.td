//===- TesseraOps.td - tessera graph ops --------------------*- tablegen -*-===//
#ifndef TESSERA_GRAPH_OPS_TD
#define TESSERA_GRAPH_OPS_TD

include "dialects/Graph/TesseraDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

def Tessera_Tensor : RankedTensorOf<[AnyFloat, AnySignlessInteger, I1]>;
def Tessera_FloatTensor : RankedTensorOf<[AnyFloat]>;

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

def Tessera_ConstantOp : Tessera_Op<"constant", [ConstantLike, Pure,
    AllTypesMatch<["value", "result"]>]> {
  let summary = "A constant tensor (weights are dense_resource blobs)";
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Tessera_Tensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise unary
//===----------------------------------------------------------------------===//

class Tessera_UnaryOp<string mnemonic, string desc, list<Trait> traits = []>
    : Tessera_Op<mnemonic, !listconcat([Pure, SameOperandsAndResultType], traits)> {
  let summary = "Elementwise " # desc;
  let arguments = (ins Tessera_Tensor:$input);
  let results = (outs Tessera_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def Tessera_NegOp : Tessera_UnaryOp<"neg", "negation">;
def Tessera_AbsOp : Tessera_UnaryOp<"abs", "absolute value">;
def Tessera_SqrtOp : Tessera_UnaryOp<"sqrt", "square root">;
def Tessera_RsqrtOp : Tessera_UnaryOp<"rsqrt", "reciprocal square root">;
def Tessera_ExpOp : Tessera_UnaryOp<"exp", "exponential">;
def Tessera_LogOp : Tessera_UnaryOp<"log", "natural logarithm">;
def Tessera_ReluOp : Tessera_UnaryOp<"relu", "max(x, 0)">;
def Tessera_SigmoidOp : Tessera_UnaryOp<"sigmoid", "logistic sigmoid">;
def Tessera_TanhOp : Tessera_UnaryOp<"tanh", "hyperbolic tangent">;
def Tessera_ErfOp : Tessera_UnaryOp<"erf", "error function">;
def Tessera_GeluOp : Tessera_UnaryOp<"gelu", "GELU, x * Phi(x) (exact, erf form)">;
def Tessera_SiluOp : Tessera_UnaryOp<"silu", "SiLU, x * sigmoid(x)">;
def Tessera_HardSwishOp : Tessera_UnaryOp<"hard_swish", "x * relu6(x + 3) / 6">;
def Tessera_FloorOp : Tessera_UnaryOp<"floor", "floor">;
def Tessera_CeilOp : Tessera_UnaryOp<"ceil", "ceiling">;
def Tessera_ReciprocalOp : Tessera_UnaryOp<"reciprocal", "1 / x">;
def Tessera_SinOp : Tessera_UnaryOp<"sin", "sine">;
def Tessera_CosOp : Tessera_UnaryOp<"cos", "cosine">;
def Tessera_NotOp : Tessera_UnaryOp<"not", "logical not (i1)">;

def Tessera_LeakyReluOp : Tessera_UnaryOp<"leaky_relu", "x >= 0 ? x : alpha * x"> {
  let arguments = (ins Tessera_Tensor:$input, F64Attr:$alpha);
}
def Tessera_HardSigmoidOp : Tessera_UnaryOp<"hard_sigmoid",
                                            "max(0, min(1, alpha * x + beta))"> {
  let arguments = (ins Tessera_Tensor:$input, F64Attr:$alpha, F64Attr:$beta);
}
def Tessera_ClipOp : Tessera_UnaryOp<"clip", "min(max(x, min), max)"> {
  let arguments = (ins Tessera_Tensor:$input, F64Attr:$min, F64Attr:$max);
}

def Tessera_CastOp : Tessera_Op<"cast", [Pure, SameOperandsAndResultShape]> {
  let summary = "Elementwise conversion to the result element type";
  let arguments = (ins Tessera_Tensor:$input);
  let results = (outs Tessera_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise binary with numpy broadcasting
//===----------------------------------------------------------------------===//

class Tessera_BinaryOp<string mnemonic, string desc>
    : Tessera_Op<mnemonic, [Pure]> {
  let summary = "Elementwise " # desc # " with numpy broadcasting";
  let arguments = (ins Tessera_Tensor:$lhs, Tessera_Tensor:$rhs);
  let results = (outs Tessera_Tensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
  let hasVerifier = 1;
}

/// Arithmetic binary ops fold constants and identities (x+0, x*1, ...).
class Tessera_ArithBinaryOp<string mnemonic, string desc>
    : Tessera_BinaryOp<mnemonic, desc> {
  let hasFolder = 1;
}

def Tessera_AddOp : Tessera_ArithBinaryOp<"add", "addition">;
def Tessera_SubOp : Tessera_ArithBinaryOp<"sub", "subtraction">;
def Tessera_MulOp : Tessera_ArithBinaryOp<"mul", "multiplication">;
def Tessera_DivOp : Tessera_ArithBinaryOp<"div", "division">;
def Tessera_PowOp : Tessera_BinaryOp<"pow", "power">;
def Tessera_MaxOp : Tessera_BinaryOp<"max", "maximum">;
def Tessera_MinOp : Tessera_BinaryOp<"min", "minimum">;
def Tessera_AndOp : Tessera_BinaryOp<"and", "logical and (i1)">;
def Tessera_OrOp : Tessera_BinaryOp<"or", "logical or (i1)">;
def Tessera_EqOp : Tessera_BinaryOp<"eq", "equality comparison (i1 result)">;
def Tessera_LtOp : Tessera_BinaryOp<"lt", "less-than comparison (i1 result)">;
def Tessera_LeOp : Tessera_BinaryOp<"le", "less-or-equal comparison (i1 result)">;
def Tessera_GtOp : Tessera_BinaryOp<"gt", "greater-than comparison (i1 result)">;
def Tessera_GeOp : Tessera_BinaryOp<"ge", "greater-or-equal comparison (i1 result)">;

def Tessera_WhereOp : Tessera_Op<"where", [Pure]> {
  let summary = "cond ? lhs : rhs, elementwise with numpy broadcasting";
  let arguments = (ins RankedTensorOf<[I1]>:$cond, Tessera_Tensor:$lhs,
                       Tessera_Tensor:$rhs);
  let results = (outs Tessera_Tensor:$result);
  let assemblyFormat = "$cond `,` $lhs `,` $rhs attr-dict `:` type($cond) `,` "
                       "type($lhs) `,` type($rhs) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Contractions and windows
//===----------------------------------------------------------------------===//

def Tessera_MatmulOp : Tessera_Op<"matmul", [Pure]> {
  let summary = "Matrix product with numpy batch broadcasting (rank >= 2)";
  let description = [{
    `[..., M, K] x [..., K, N] -> [..., M, N]`; batch dimensions broadcast.
    Rank-1 operands are reshaped by the importer.
  }];
  let arguments = (ins Tessera_FloatTensor:$lhs, Tessera_FloatTensor:$rhs);
  let results = (outs Tessera_FloatTensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
  let hasVerifier = 1;
}

def Tessera_ConvOp : Tessera_Op<"conv", [Pure]> {
  let summary = "2-D grouped convolution, NCHW input, [F, C/groups, KH, KW] weight";
  let description = [{
    `pads` is `[top, left, bottom, right]`. The optional bias has shape [F].
  }];
  let arguments = (ins Tessera_FloatTensor:$input, Tessera_FloatTensor:$weight,
                       Optional<Tessera_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$dilations,
                       DenseI64ArrayAttr:$pads, I64Attr:$groups);
  let results = (outs Tessera_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight (`,` $bias^)? attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def Tessera_G2bmmOp : Tessera_Op<"g2bmm", [Pure]> {
  let summary = "General to band batched matmul (Longformer sliding-window scores)";
  let description = [{
    `[B, M, K] x [B, N, K] -> [B, M, 2W+1]`:
    `O[b, m, w] = sum_k A[b, m, k] * B[b, m + dilation * (w - W), k]`, with
    rows of B outside `[0, N)` reading zero.
  }];
  let arguments = (ins Tessera_FloatTensor:$lhs, Tessera_FloatTensor:$rhs,
                       I64Attr:$width, I64Attr:$dilation);
  let results = (outs Tessera_FloatTensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
  let hasVerifier = 1;
}

def Tessera_GbmmOp : Tessera_Op<"gbmm", [Pure]> {
  let summary = "General band batched matmul (Longformer sliding-window weighted sum)";
  let description = [{
    `[B, M, 2W+1] x [B, N, K] -> [B, M, K]`:
    `O[b, m, k] = sum_w A[b, m, w] * V[b, m + dilation * (w - W), k]`, with
    rows of V outside `[0, N)` reading zero.
  }];
  let arguments = (ins Tessera_FloatTensor:$lhs, Tessera_FloatTensor:$rhs,
                       I64Attr:$width, I64Attr:$dilation);
  let results = (outs Tessera_FloatTensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
  let hasVerifier = 1;
}

def Tessera_ConvTransposeOp : Tessera_Op<"conv_transpose", [Pure]> {
  let summary = "2-D transposed convolution, NCHW, [C, F/groups, KH, KW] weight";
  let description = [{
    Output size per spatial dim:
    `stride * (in - 1) + output_padding + (k - 1) * dilation + 1 - pad_begin - pad_end`.
  }];
  let arguments = (ins Tessera_FloatTensor:$input, Tessera_FloatTensor:$weight,
                       Optional<Tessera_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$dilations,
                       DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$output_padding,
                       I64Attr:$groups);
  let results = (outs Tessera_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight (`,` $bias^)? attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

class Tessera_PoolOp<string mnemonic, string desc> : Tessera_Op<mnemonic, [Pure]> {
  let summary = "2-D " # desc # " pooling over NCHW; pads [top, left, bottom, right]";
  let results = (outs Tessera_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}
def Tessera_MaxPoolOp : Tessera_PoolOp<"max_pool", "max"> {
  let arguments = (ins Tessera_FloatTensor:$input, DenseI64ArrayAttr:$kernel,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$dilations,
                       DenseI64ArrayAttr:$pads);
}
def Tessera_AvgPoolOp : Tessera_PoolOp<"avg_pool", "average"> {
  let arguments = (ins Tessera_FloatTensor:$input, DenseI64ArrayAttr:$kernel,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       BoolAttr:$count_include_pad);
}

//===----------------------------------------------------------------------===//
// Normalisations
//===----------------------------------------------------------------------===//

def Tessera_BatchNormOp : Tessera_Op<"batch_norm", [Pure]> {
  let summary = "Inference batch normalisation over dim 1";
  let arguments = (ins Tessera_FloatTensor:$input, Tessera_FloatTensor:$scale,
                       Tessera_FloatTensor:$bias, Tessera_FloatTensor:$mean,
                       Tessera_FloatTensor:$variance, F64Attr:$epsilon);
  let results = (outs Tessera_FloatTensor:$result);
  let assemblyFormat = "$input `,` $scale `,` $bias `,` $mean `,` $variance "
                       "attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Tessera_LayerNormOp : Tessera_Op<"layer_norm", [Pure, AttrSizedOperandSegments]> {
  let summary = "Layer normalisation over dims [axis, rank)";
  let arguments = (ins Tessera_FloatTensor:$input,
                       Optional<Tessera_FloatTensor>:$scale,
                       Optional<Tessera_FloatTensor>:$bias,
                       I64Attr:$axis, F64Attr:$epsilon);
  let results = (outs Tessera_FloatTensor:$result);
  let assemblyFormat = "$input (`scale` $scale^)? (`bias` $bias^)? attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def Tessera_SoftmaxOp : Tessera_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "Softmax along one axis";
  let arguments = (ins Tessera_FloatTensor:$input, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "false">:$log);
  let results = (outs Tessera_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

class Tessera_ReduceOp<string mnemonic, string desc> : Tessera_Op<mnemonic, [Pure]> {
  let summary = desc # " reduction over `axes` (sorted, unique, non-negative)";
  let arguments = (ins Tessera_Tensor:$input, DenseI64ArrayAttr:$axes,
                       BoolAttr:$keepdims);
  let results = (outs Tessera_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}
def Tessera_ReduceSumOp : Tessera_ReduceOp<"reduce_sum", "Sum">;
def Tessera_ReduceMeanOp : Tessera_ReduceOp<"reduce_mean", "Mean">;
def Tessera_ReduceMaxOp : Tessera_ReduceOp<"reduce_max", "Max">;
def Tessera_ReduceMinOp : Tessera_ReduceOp<"reduce_min", "Min">;
def Tessera_ReduceProdOp : Tessera_ReduceOp<"reduce_prod", "Product">;

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def Tessera_ReshapeOp : Tessera_Op<"reshape", [Pure]> {
  let summary = "Reshape to the (static) result shape, row-major order";
  let arguments = (ins Tessera_Tensor:$input);
  let results = (outs Tessera_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Tessera_TransposeOp : Tessera_Op<"transpose", [Pure]> {
  let summary = "Permute dimensions: result dim i is input dim perm[i]";
  let arguments = (ins Tessera_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Tessera_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Tessera_BroadcastOp : Tessera_Op<"broadcast", [Pure]> {
  let summary = "Numpy-broadcast the input to the result shape (ONNX Expand)";
  let arguments = (ins Tessera_Tensor:$input);
  let results = (outs Tessera_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Tessera_ConcatOp : Tessera_Op<"concat", [Pure]> {
  let summary = "Concatenate along `axis`";
  let arguments = (ins Variadic<Tessera_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Tessera_Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, $result)";
  let hasVerifier = 1;
}

def Tessera_SliceOp : Tessera_Op<"slice", [Pure]> {
  let summary = "Strided slice: per dim, a start index and a non-zero step";
  let description = [{
    Result element `i` along dim `d` is input element `starts[d] + i * steps[d]`.
    A negative step walks the dim backwards from `starts[d]` (ONNX Slice with
    negative steps); every visited index must lie inside the input.
  }];
  let arguments = (ins Tessera_Tensor:$input, DenseI64ArrayAttr:$starts,
                       DenseI64ArrayAttr:$steps);
  let results = (outs Tessera_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Tessera_GatherOp : Tessera_Op<"gather", [Pure]> {
  let summary = "Gather slices along `axis` at integer indices (ONNX Gather)";
  let arguments = (ins Tessera_Tensor:$input, RankedTensorOf<[I32, I64]>:$indices,
                       I64Attr:$axis);
  let results = (outs Tessera_Tensor:$result);
  let assemblyFormat = "$input `,` $indices attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def Tessera_PadOp : Tessera_Op<"pad", [Pure]> {
  let summary = "Constant padding: `low` and `high` per dim (non-negative)";
  let arguments = (ins Tessera_Tensor:$input, DenseI64ArrayAttr:$low,
                       DenseI64ArrayAttr:$high, F64Attr:$value);
  let results = (outs Tessera_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

#endif
