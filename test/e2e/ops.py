#!/usr/bin/python3
"""Op-level end-to-end cases for Tessera: small hand-built ONNX graphs (onnx.helper, opset 17)
with references computed in float64 by numpy or torch and rounded to the output type.

Every case has a short id (e.g. `conv_grouped_stride2`) and produces the same layout as the
model cases (model.onnx, inputs/, expected/, case.json; see caselib.py). Weights are graph
initializers; activations are graph inputs. Inputs are seeded from the case id, so a case's
data does not depend on which other cases run.

Usage:
    python3 test/e2e/ops.py [--out DIR] [--force] [--list] [PATTERN ...]

PATTERNs are fnmatch globs over case ids (`conv_*`), comma lists allowed; default: all.
Default DIR is build/e2e/ops. Each generated model passes onnx.checker with full (strict)
shape inference against the declared output shapes, which cross-checks the references' shapes.
"""

import argparse
import fnmatch
import os
import sys
import time
import zlib
from collections import OrderedDict

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import caselib  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
F32, F64, I64 = np.float32, np.float64, np.int64
INT64_MAX = np.iinfo(np.int64).max

CASES = OrderedDict()  # id -> (function, params)


def register(cid, fn, *params):
    if cid in CASES:
        raise ValueError("duplicate case id " + cid)
    CASES[cid] = (fn, params)


def case(cid):
    def deco(fn):
        register(cid, lambda _cid: fn())
        return fn
    return deco


class Spec:
    """What a case function returns: nodes, graph inputs, initializers, outputs (with refs)."""

    def __init__(self, nodes, inputs, outputs, inits=None, opset=None):
        self.nodes = nodes
        self.inputs = OrderedDict(inputs)
        self.inits = OrderedDict(inits or {})
        self.outputs = OrderedDict(outputs)
        # Default opset is caselib.OPSET; a newer one (e.g. Gelu, opset 20) is past what
        # Debian's onnx checker knows, so such a model is not run through the checker.
        self.opset = opset


# --------------------------------------------------------------------------- helpers

def N(op, ins, outs, **attrs):
    return helper.make_node(op, list(ins), list(outs), **attrs)


def c32(a):
    """float64 reference -> float32."""
    return np.asarray(a, dtype=F64).astype(F32)


def i64(values):
    return np.asarray(values, dtype=I64)


def f32(values):
    return np.asarray(values, dtype=F32)


class R:
    """Per-case random source."""

    def __init__(self, cid):
        self.rs = np.random.RandomState(zlib.crc32(cid.encode()) & 0x7FFFFFFF)

    def randn(self, *shape, scale=1.0):
        return np.asarray(self.rs.standard_normal(shape) * scale, dtype=F32)

    def uniform(self, shape, lo, hi):
        return np.asarray(self.rs.uniform(lo, hi, size=shape), dtype=F32)

    def nonzero(self, shape, lo=0.25, hi=4.0):
        """|x| in [lo, hi], random sign."""
        mag = self.rs.uniform(lo, hi, size=shape)
        sign = np.where(self.rs.rand(*shape) < 0.5, -1.0, 1.0) if shape else 1.0
        return np.asarray(mag * sign, dtype=F32)

    def ints(self, shape, lo, hi, dtype=I64):
        return np.asarray(self.rs.randint(lo, hi, size=shape), dtype=dtype)


def d(a):
    return np.asarray(a, dtype=F64)


def torch64(a):
    import torch
    return torch.from_numpy(np.asarray(a, dtype=F64))


def tnp(t):
    return t.detach().numpy()


# --------------------------------------------------------------------------- binary ops

_BINARY = {
    "Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide,
    "Pow": np.power, "Max": np.maximum, "Min": np.minimum,
}


def binary_case(cid, op, a_shape, b_shape, a_kind="randn", b_kind="randn", b_const=False,
                b_value=None):
    """Y = op(A, B). *_kind: randn | pos (0.1..3) | nonzero | exp (-2..2). b_const: B is an
    initializer; b_value: a fixed B (scalar constants like Pow's exponent 2)."""
    r = R(cid)

    def gen(kind, shape):
        return {"randn": lambda: r.randn(*shape, scale=2.0),
                "pos": lambda: r.uniform(shape, 0.1, 3.0),
                "nonzero": lambda: r.nonzero(shape),
                "exp": lambda: r.uniform(shape, -2.0, 2.0)}[kind]()

    a = gen(a_kind, a_shape)
    b = f32(b_value) if b_value is not None else gen(b_kind, b_shape)
    y = c32(_BINARY[op](d(a), d(b)))
    if b_const:
        return Spec([N(op, ["a", "b"], ["y"])], {"a": a}, {"y": y}, inits={"b": b})
    return Spec([N(op, ["a", "b"], ["y"])], {"a": a, "b": b}, {"y": y})


for _op, _lc in [("Add", "add"), ("Sub", "sub"), ("Mul", "mul"), ("Max", "max"), ("Min", "min")]:
    register(_lc + "_same_3d", binary_case, _op, (2, 3, 5), (2, 3, 5))
    register(_lc + "_bcast_channel_4d", binary_case, _op, (1, 3, 7, 5), (3, 1, 1))
    register(_lc + "_bcast_both", binary_case, _op, (3, 1, 5), (1, 4, 1))
    register(_lc + "_rank1_to_rank4", binary_case, _op, (2, 3, 4, 5), (5,))
    register(_lc + "_scalar_const", binary_case, _op, (4, 7), (), "randn", "randn", True)
register("add_rank1_odd", binary_case, "Add", (17,), (17,))
register("add_scalar_input", binary_case, "Add", (3, 4), ())
register("sub_scalar_lhs", binary_case, "Sub", (), (3, 5))
register("div_same_3d", binary_case, "Div", (2, 3, 5), (2, 3, 5), "randn", "nonzero")
register("div_bcast_rank1", binary_case, "Div", (4, 9), (9,), "randn", "nonzero")
register("div_bcast_channel_4d", binary_case, "Div", (1, 3, 7, 5), (3, 1, 1), "randn", "nonzero")
register("div_scalar_const", binary_case, "Div", (4, 7), (), "randn", "nonzero", True)
register("div_scalar_lhs", binary_case, "Div", (), (3, 5), "randn", "nonzero")
register("pow_square", binary_case, "Pow", (3, 17), (), "randn", None, True, 2.0)
register("pow_cube_negative_base", binary_case, "Pow", (3, 17), (), "randn", None, True, 3.0)
register("pow_sqrt", binary_case, "Pow", (3, 17), (), "pos", None, True, 0.5)
register("pow_bcast", binary_case, "Pow", (3, 4), (4,), "pos", "exp")
register("pow_same_4d", binary_case, "Pow", (1, 3, 7, 5), (1, 3, 7, 5), "pos", "exp")


@case("max_variadic3")
def _max3():
    r = R("max_variadic3")
    a, b, c = r.randn(3, 4, 5), r.randn(4, 1), r.randn(5)
    return Spec([N("Max", ["a", "b", "c"], ["y"])], {"a": a, "b": b, "c": c},
                {"y": c32(np.maximum(np.maximum(d(a), d(b)), d(c)))})


@case("min_variadic3")
def _min3():
    r = R("min_variadic3")
    a, b, c = r.randn(2, 1, 6), r.randn(3, 1), r.randn(2, 3, 6)
    return Spec([N("Min", ["a", "b", "c"], ["y"])], {"a": a, "b": b, "c": c},
                {"y": c32(np.minimum(np.minimum(d(a), d(b)), d(c)))})


# --------------------------------------------------------------------------- unary ops

def _erf64(x):
    import torch
    return tnp(torch.erf(torch64(x)))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


_UNARY = {
    # op: (reference on float64, input kind, attributes)
    "Neg": (np.negative, "randn", {}),
    "Abs": (np.abs, "randn", {}),
    "Sqrt": (np.sqrt, "pos", {}),
    "Exp": (np.exp, "range5", {}),
    "Log": (np.log, "pos", {}),
    "Relu": (lambda x: np.maximum(x, 0), "randn", {}),
    "Sigmoid": (_sigmoid, "range8", {}),
    "Tanh": (np.tanh, "range5", {}),
    "Erf": (_erf64, "range5", {}),
    "Reciprocal": (lambda x: 1.0 / x, "nonzero", {}),
    "Floor": (np.floor, "range5", {}),
    "Ceil": (np.ceil, "range5", {}),
    "HardSwish": (lambda x: x * np.clip(x / 6.0 + 0.5, 0, 1), "range5", {}),
}


def unary_case(cid, op, shape, attrs=None, ref=None, kind=None):
    r = R(cid)
    uref, ukind, uattrs = _UNARY.get(op, (None, "randn", {}))
    kind = kind or ukind
    attrs = dict(uattrs, **(attrs or {}))
    x = {"randn": lambda: r.randn(*shape, scale=2.0),
         "pos": lambda: r.uniform(shape, 0.05, 10.0),
         "range5": lambda: r.uniform(shape, -5.0, 5.0),
         "range8": lambda: r.uniform(shape, -8.0, 8.0),
         "nonzero": lambda: r.nonzero(shape)}[kind]()
    y = c32((ref or uref)(d(x)))
    return Spec([N(op, ["x"], ["y"], **attrs)], {"x": x}, {"y": y})


for _op in _UNARY:
    _lc = {"HardSwish": "hardswish"}.get(_op, _op.lower())
    register(_lc + "_4d", unary_case, _op, (2, 3, 7, 5))
    register(_lc + "_rank1", unary_case, _op, (17,))
register("relu_scalar", unary_case, "Relu", ())
register("exp_rank2", unary_case, "Exp", (9, 33))

register("leakyrelu_default", unary_case, "LeakyRelu", (2, 3, 7, 5), {},
         lambda x: np.where(x >= 0, x, 0.01 * x))
register("leakyrelu_alpha0p2", unary_case, "LeakyRelu", (3, 17), {"alpha": 0.2},
         lambda x: np.where(x >= 0, x, d(F32(0.2)) * x))
# torch's F.hardsigmoid exports alpha=1/6 (as float32), beta=0.5
register("hardsigmoid_torch", unary_case, "HardSigmoid", (2, 3, 7, 5), {"alpha": 1.0 / 6},
         lambda x: np.clip(d(F32(1.0 / 6)) * x + 0.5, 0, 1), "range5")
register("hardsigmoid_default", unary_case, "HardSigmoid", (3, 17), {},
         lambda x: np.clip(d(F32(0.2)) * x + 0.5, 0, 1), "range5")


def _gelu_nodes(x, y):
    """GELU (exact erf form) exactly as torch 1.13 exports nn.GELU() at opset 17."""
    def const(name, v):
        return N("Constant", [], [name], value=numpy_helper.from_array(f32(v), name))
    return [const("c_sqrt2", 1.4142135381698608), N("Div", [x, "c_sqrt2"], ["g_div"]),
            N("Erf", ["g_div"], ["g_erf"]), const("c_one", 1.0),
            N("Add", ["g_erf", "c_one"], ["g_add"]), N("Mul", [x, "g_add"], ["g_mul"]),
            const("c_half", 0.5), N("Mul", ["g_mul", "c_half"], [y])]


def _gelu_case(cid, shape):
    x = R(cid).randn(*shape, scale=2.0)
    xd = d(x)
    y = c32(0.5 * xd * (1.0 + _erf64(xd / np.sqrt(2.0))))
    return Spec(_gelu_nodes("x", "y"), {"x": x}, {"y": y})


register("gelu_erf_3d", _gelu_case, (1, 64, 257))
register("gelu_erf_rank1", _gelu_case, (17,))


def _gelu_op_case(cid, shape):
    """The single Gelu operator of opset 20 (default approximate='none')."""
    spec = _gelu_case(cid, shape)
    return Spec([N("Gelu", ["x"], ["y"])], spec.inputs, spec.outputs, opset=20)


register("gelu_op20_2d", _gelu_op_case, (5, 33))
register("gelu_op20_rank0", _gelu_op_case, ())


def _silu_case(cid, shape):
    x = R(cid).randn(*shape, scale=3.0)
    return Spec([N("Sigmoid", ["x"], ["s"]), N("Mul", ["x", "s"], ["y"])], {"x": x},
                {"y": c32(d(x) * _sigmoid(d(x)))})


register("silu_4d", _silu_case, (2, 3, 7, 5))
register("silu_rank1", _silu_case, (17,))


def _clip_case(cid, shape, lo, hi):
    x = R(cid).uniform(shape, -9.0, 9.0)
    ins = ["x", "min" if lo is not None else "", "max" if hi is not None else ""]
    while ins[-1] == "":
        ins.pop()
    inits = OrderedDict()
    if lo is not None:
        inits["min"] = f32(lo)
    if hi is not None:
        inits["max"] = f32(hi)
    y = d(x)
    if lo is not None:
        y = np.maximum(y, lo)
    if hi is not None:
        y = np.minimum(y, hi)
    return Spec([N("Clip", ins, ["y"])], {"x": x}, {"y": c32(y)}, inits)


register("clip_relu6", _clip_case, (1, 8, 7, 5), 0.0, 6.0)
register("clip_relu6_rank1", _clip_case, (17,), 0.0, 6.0)
register("clip_min_only", _clip_case, (3, 17), -1.5, None)
register("clip_max_only", _clip_case, (3, 17), None, 2.5)


# --------------------------------------------------------------------------- compare / where

@case("equal_int64_where")
def _eq_i64():
    r = R("equal_int64_where")
    a, b = r.ints((3, 7), 0, 3), r.ints((3, 7), 0, 3)
    x, y = r.randn(3, 7), r.randn(3, 7)
    return Spec([N("Equal", ["a", "b"], ["c"]), N("Where", ["c", "x", "y"], ["out"])],
                {"a": a, "b": b, "x": x, "y": y}, {"out": np.where(a == b, x, y)})


@case("equal_float_where_bcast")
def _eq_f32():
    r = R("equal_float_where_bcast")
    a, b = r.ints((4, 6), -2, 3).astype(F32), r.ints((6,), -2, 3).astype(F32)
    x = r.randn(4, 6)
    return Spec([N("Equal", ["a", "b"], ["c"]), N("Where", ["c", "x", "zero"], ["out"])],
                {"a": a, "b": b, "x": x}, {"out": np.where(a == b, x, F32(0))},
                {"zero": f32(0.0)})


@case("less_where_bcast")
def _less():
    r = R("less_where_bcast")
    a, b = r.randn(3, 4, 5), r.randn(5)
    return Spec([N("Less", ["a", "b"], ["c"]), N("Where", ["c", "a", "b"], ["out"])],
                {"a": a, "b": b}, {"out": np.where(a < b, a, np.broadcast_to(b, a.shape))})


@case("greater_where_scalar")
def _greater():
    r = R("greater_where_scalar")
    x = r.randn(2, 3, 7, 5)
    nodes = [N("Greater", ["x", "zero"], ["c"]), N("Mul", ["x", "slope"], ["xs"]),
             N("Where", ["c", "x", "xs"], ["out"])]
    return Spec(nodes, {"x": x}, {"out": c32(np.where(x > 0, d(x), d(x) * d(F32(0.1))))},
                {"zero": f32(0.0), "slope": f32(0.1)})


@case("where_bcast_3way")
def _where3():
    r = R("where_bcast_3way")
    t, x = r.randn(1, 5), r.randn(3, 1)
    # cond (1,5) from a constant threshold, x (3,1), y scalar -> (3,5)
    nodes = [N("Less", ["t", "thr"], ["c"]), N("Where", ["c", "x", "y"], ["out"])]
    out = np.where(t < F32(0.2), x, F32(-1.0)).astype(F32)
    return Spec(nodes, {"t": t, "x": x}, {"out": out}, {"thr": f32(0.2), "y": f32(-1.0)})


@case("less_bool_output")
def _less_bool():
    r = R("less_bool_output")
    a, b = r.randn(3, 5), r.randn(3, 1)
    return Spec([N("Less", ["a", "b"], ["c"])], {"a": a, "b": b}, {"c": a < b})


@case("greater_int64_bool_output")
def _greater_i64():
    r = R("greater_int64_bool_output")
    a, b = r.ints((2, 6), -5, 5), r.ints((6,), -5, 5)
    return Spec([N("Greater", ["a", "b"], ["c"])], {"a": a, "b": b}, {"c": a > b})


# --------------------------------------------------------------------------- cast

@case("cast_f32_to_i64")
def _cast_fi():
    x = R("cast_f32_to_i64").uniform((3, 7), -100, 100)
    return Spec([N("Cast", ["x"], ["y"], to=TensorProto.INT64)], {"x": x},
                {"y": np.trunc(x).astype(I64)})


@case("cast_i64_to_f32")
def _cast_if():
    x = R("cast_i64_to_f32").ints((2, 3, 5), -1000, 1000)
    return Spec([N("Cast", ["x"], ["y"], to=TensorProto.FLOAT)], {"x": x}, {"y": x.astype(F32)})


@case("cast_roundtrip_f32_i64_f32")
def _cast_rt():
    x = R("cast_roundtrip_f32_i64_f32").uniform((17,), -20, 20)
    nodes = [N("Cast", ["x"], ["i"], to=TensorProto.INT64),
             N("Cast", ["i"], ["y"], to=TensorProto.FLOAT)]
    return Spec(nodes, {"x": x}, {"y": np.trunc(x).astype(F32)})


# --------------------------------------------------------------------------- matmul / gemm

def _matmul_case(cid, a_shape, b_shape, b_const=False):
    r = R(cid)
    a, b = r.randn(*a_shape), r.randn(*b_shape)
    y = c32(np.matmul(d(a), d(b)))
    if b_const:
        return Spec([N("MatMul", ["a", "b"], ["y"])], {"a": a}, {"y": y}, {"b": b})
    return Spec([N("MatMul", ["a", "b"], ["y"])], {"a": a, "b": b}, {"y": y})


register("matmul_2d", _matmul_case, (7, 13), (13, 9))
register("matmul_2d_weight", _matmul_case, (5, 64), (64, 33), True)
register("matmul_2d_large", _matmul_case, (67, 129), (129, 71))
register("matmul_batched", _matmul_case, (3, 7, 13), (3, 13, 9))
register("matmul_bcast_weight_4d", _matmul_case, (2, 3, 7, 13), (13, 9), True)
register("matmul_bcast_batch", _matmul_case, (2, 1, 7, 13), (1, 4, 13, 9))
register("matmul_bcast_batch_rank", _matmul_case, (5, 13), (2, 3, 13, 4))
register("matmul_vec_mat", _matmul_case, (13,), (13, 9))
register("matmul_mat_vec", _matmul_case, (7, 13), (13,))
register("matmul_batched_vec", _matmul_case, (3, 7, 13), (13,))
register("matmul_vec_vec", _matmul_case, (13,), (13,))


def _gemm_case(cid, m, k, n, trans_a=0, trans_b=0, alpha=None, beta=None, c_shape=(None,)):
    r = R(cid)
    a = r.randn(*((k, m) if trans_a else (m, k)))
    b = r.randn(*((n, k) if trans_b else (k, n)))
    attrs = {}
    if trans_a:
        attrs["transA"] = 1
    if trans_b:
        attrs["transB"] = 1
    if alpha is not None:
        attrs["alpha"] = alpha
    if beta is not None:
        attrs["beta"] = beta
    y = d(F32(alpha if alpha is not None else 1.0)) * \
        np.matmul(d(a).T if trans_a else d(a), d(b).T if trans_b else d(b))
    inits = {"b": b}
    ins = ["a", "b"]
    if c_shape != (None,):
        c = r.randn(*c_shape)
        inits["c"] = c
        ins.append("c")
        y = y + d(F32(beta if beta is not None else 1.0)) * d(c)
    return Spec([N("Gemm", ins, ["y"], **attrs)], {"a": a}, {"y": c32(y)}, inits)


register("gemm_basic_bias", _gemm_case, 4, 8, 5, 0, 0, None, None, (5,))
register("gemm_transb_linear", _gemm_case, 3, 64, 17, 0, 1, None, None, (17,))
register("gemm_transa_alpha_beta", _gemm_case, 4, 8, 5, 1, 0, 0.5, 2.0, (4, 5))
register("gemm_transab_col_bias", _gemm_case, 6, 7, 5, 1, 1, 1.5, 0.25, (6, 1))
register("gemm_scalar_c", _gemm_case, 4, 8, 5, 0, 1, None, -1.0, ())
register("gemm_no_c", _gemm_case, 4, 8, 5, 0, 1, 2.0, None, (None,))


# --------------------------------------------------------------------------- conv family

def _conv_case(cid, x_shape, cout, k, stride=1, pads=0, dil=1, group=1, bias=True,
               explicit_kernel_shape=True):
    """pads: int (symmetric) or ONNX list [h_begin, w_begin, h_end, w_end] (2D)."""
    import torch.nn.functional as F
    r = R(cid)
    nsp = len(x_shape) - 2
    ks = (k,) * nsp if isinstance(k, int) else tuple(k)
    st = (stride,) * nsp if isinstance(stride, int) else tuple(stride)
    dl = (dil,) * nsp if isinstance(dil, int) else tuple(dil)
    pd = [pads] * (2 * nsp) if isinstance(pads, int) else list(pads)
    cin = x_shape[1]
    x = r.randn(*x_shape)
    w = r.randn(cout, cin // group, *ks, scale=1.0 / np.sqrt(cin // group * np.prod(ks)))
    b = r.randn(cout) if bias else None
    # torch F.pad takes (last_begin, last_end, prev_begin, prev_end, ...)
    tpad = []
    for i in reversed(range(nsp)):
        tpad += [pd[i], pd[nsp + i]]
    xt = F.pad(torch64(x), tpad)
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nsp]
    y = conv(xt, torch64(w), torch64(b) if bias else None, st, 0, dl, group)
    attrs = dict(strides=list(st), pads=pd, dilations=list(dl), group=group)
    if explicit_kernel_shape:
        attrs["kernel_shape"] = list(ks)
    ins, inits = ["x", "w"], OrderedDict(w=w)
    if bias:
        ins.append("b")
        inits["b"] = b
    return Spec([N("Conv", ins, ["y"], **attrs)], {"x": x}, {"y": c32(tnp(y))}, inits)


register("conv_basic_pad1", _conv_case, (1, 3, 7, 5), 4, 3, 1, 1)
register("conv_no_bias", _conv_case, (2, 3, 7, 5), 5, 3, 1, 1, 1, 1, False)
register("conv_stride2", _conv_case, (2, 3, 9, 11), 8, 3, 2, 1)
register("conv_stride2_no_pad_even", _conv_case, (1, 4, 8, 8), 6, 2, 2, 0)
register("conv_grouped_stride2", _conv_case, (1, 4, 9, 7), 6, 3, 2, 1, 1, 2)
register("conv_grouped4", _conv_case, (2, 8, 6, 6), 12, 3, 1, 1, 1, 4)
register("conv_dilation2", _conv_case, (1, 3, 11, 9), 4, 3, 1, 2, 2)
register("conv_asym_pad", _conv_case, (1, 3, 7, 5), 4, 3, 1, [0, 1, 2, 1])
register("conv_asym_pad_stride2", _conv_case, (1, 2, 8, 8), 3, 3, 2, [0, 0, 1, 1])
register("conv_1x1", _conv_case, (1, 16, 7, 5), 24, 1, 1, 0)
register("conv_1x1_stride2_no_bias", _conv_case, (1, 16, 7, 5), 8, 1, 2, 0, 1, 1, False)
register("conv_depthwise", _conv_case, (1, 8, 7, 5), 8, 3, 1, 1, 1, 8)
register("conv_depthwise_stride2", _conv_case, (2, 12, 9, 9), 12, 3, 2, 1, 1, 12, False)
register("conv_depthwise_multiplier2", _conv_case, (1, 4, 6, 5), 8, 3, 1, 1, 1, 4)
register("conv_rect_kernel_stride", _conv_case, (1, 3, 9, 6), 4, (3, 1), (2, 1), [1, 0, 1, 0])
register("conv_7x7_stride2_pad3", _conv_case, (1, 3, 32, 30), 8, 7, 2, 3)
register("conv_no_kernel_shape_attr", _conv_case, (1, 3, 7, 5), 4, 3, 1, 1, 1, 1, True, False)
register("conv1d_stride2", _conv_case, (2, 3, 17), 5, 3, 2, 1)


def _convt_case(cid, x_shape, cout, k, stride, pads, out_pad=0, group=1, bias=True):
    import torch.nn.functional as F
    r = R(cid)
    cin = x_shape[1]
    x = r.randn(*x_shape)
    w = r.randn(cin, cout // group, k, k, scale=1.0 / np.sqrt(cin * k * k))
    b = r.randn(cout) if bias else None
    y = F.conv_transpose2d(torch64(x), torch64(w), torch64(b) if bias else None, stride, pads,
                           out_pad, group)
    attrs = dict(kernel_shape=[k, k], strides=[stride, stride], pads=[pads] * 4, group=group)
    if out_pad:
        attrs["output_padding"] = [out_pad, out_pad]
    ins, inits = ["x", "w"], OrderedDict(w=w)
    if bias:
        ins.append("b")
        inits["b"] = b
    return Spec([N("ConvTranspose", ins, ["y"], **attrs)], {"x": x}, {"y": c32(tnp(y))}, inits)


register("convtranspose_s2_p1_outpad1", _convt_case, (1, 4, 5, 7), 3, 3, 2, 1, 1)
register("convtranspose_k2s2_no_bias", _convt_case, (2, 6, 4, 3), 4, 2, 2, 0, 0, 1, False)
register("convtranspose_s2_p1", _convt_case, (1, 3, 6, 6), 5, 4, 2, 1)
register("convtranspose_grouped", _convt_case, (1, 4, 5, 5), 6, 3, 2, 1, 1, 2)
register("convtranspose_s1", _convt_case, (1, 3, 5, 4), 2, 3, 1, 1)


# --------------------------------------------------------------------------- pooling

def _pool_case(cid, op, x_shape, k, stride, pads=0, ceil=0, count_include_pad=None):
    """pads: int (symmetric) or ONNX list [h_begin, w_begin, h_end, w_end]."""
    import torch
    import torch.nn.functional as F
    x = R(cid).randn(*x_shape)
    pd = [pads] * 4 if isinstance(pads, int) else list(pads)
    attrs = dict(kernel_shape=[k, k], strides=[stride, stride])
    if any(pd):
        attrs["pads"] = pd
    if ceil:
        attrs["ceil_mode"] = 1
    xt = torch64(x)
    if op == "MaxPool":
        xt = F.pad(xt, [pd[1], pd[3], pd[0], pd[2]], value=-np.inf)
        y = F.max_pool2d(xt, k, stride, 0, ceil_mode=bool(ceil))
    else:
        if count_include_pad is not None:
            attrs["count_include_pad"] = count_include_pad
        assert pd[0] == pd[2] and pd[1] == pd[3]
        y = F.avg_pool2d(xt, k, stride, (pd[0], pd[1]), ceil_mode=bool(ceil),
                         count_include_pad=bool(count_include_pad))
    assert torch.isfinite(y).all()
    return Spec([N(op, ["x"], ["y"], **attrs)], {"x": x}, {"y": c32(tnp(y))})


register("maxpool_k3s2p1", _pool_case, "MaxPool", (1, 8, 13, 11), 3, 2, 1)
register("maxpool_k2s2", _pool_case, "MaxPool", (2, 3, 8, 6), 2, 2)
register("maxpool_k3s1p1_odd", _pool_case, "MaxPool", (1, 3, 7, 5), 3, 1, 1)
register("maxpool_k3s2_ceil", _pool_case, "MaxPool", (1, 3, 8, 6), 3, 2, 0, 1)
register("maxpool_asym_pad", _pool_case, "MaxPool", (1, 2, 7, 5), 2, 2, [0, 0, 1, 1])
register("avgpool_k2s2", _pool_case, "AveragePool", (1, 4, 8, 6), 2, 2)
register("avgpool_k3s2p1_include_pad", _pool_case, "AveragePool", (1, 4, 9, 7), 3, 2, 1, 0, 1)
register("avgpool_k3s2p1_exclude_pad", _pool_case, "AveragePool", (1, 4, 9, 7), 3, 2, 1, 0, 0)
register("avgpool_k3s1p1_default_exclude", _pool_case, "AveragePool", (2, 3, 7, 5), 3, 1, 1)


def _gap_case(cid, shape):
    x = R(cid).randn(*shape)
    return Spec([N("GlobalAveragePool", ["x"], ["y"])], {"x": x},
                {"y": c32(d(x).mean(axis=(2, 3), keepdims=True))})


register("globalavgpool_odd", _gap_case, (2, 5, 7, 3))
register("globalavgpool_7x7", _gap_case, (1, 64, 7, 7))


# --------------------------------------------------------------------------- normalisation

def _bn_case(cid, shape, eps):
    r = R(cid)
    c = shape[1]
    x = r.randn(*shape, scale=2.0)
    scale, bias, mean = r.randn(c), r.randn(c), r.randn(c)
    var = r.uniform((c,), 0.2, 3.0)
    bshape = (1, c) + (1,) * (len(shape) - 2)
    y = (d(x) - d(mean).reshape(bshape)) / np.sqrt(d(var).reshape(bshape) + d(F32(eps)))
    y = y * d(scale).reshape(bshape) + d(bias).reshape(bshape)
    return Spec([N("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["y"],
                   epsilon=eps)],
                {"x": x}, {"y": c32(y)},
                OrderedDict(scale=scale, bias=bias, mean=mean, var=var))


register("batchnorm_4d", _bn_case, (2, 5, 7, 3), 1e-3)
register("batchnorm_2d_input", _bn_case, (4, 6), 1e-5)


def _ln_case(cid, shape, axis, eps, with_bias=True):
    r = R(cid)
    x = r.randn(*shape, scale=2.0) + F32(1.0)
    ax = axis % len(shape)
    nshape = shape[ax:]
    scale = r.randn(*nshape)
    red = tuple(range(ax, len(shape)))
    xd = d(x)
    mean = xd.mean(axis=red, keepdims=True)
    var = ((xd - mean) ** 2).mean(axis=red, keepdims=True)
    y = (xd - mean) / np.sqrt(var + d(F32(eps))) * d(scale)
    ins, inits = ["x", "scale"], OrderedDict(scale=scale)
    if with_bias:
        bias = r.randn(*nshape)
        y = y + d(bias)
        ins.append("bias")
        inits["bias"] = bias
    return Spec([N("LayerNormalization", ins, ["y"], axis=axis, epsilon=eps)], {"x": x},
                {"y": c32(y)}, inits)


register("layernorm_last", _ln_case, (3, 4, 16), -1, 1e-5)
register("layernorm_last_odd", _ln_case, (2, 7, 33), -1, 1e-5)
register("layernorm_axis_m2", _ln_case, (3, 4, 16), -2, 1e-5)
register("layernorm_axis1_4d", _ln_case, (2, 3, 5, 4), 1, 1e-3)
register("layernorm_no_bias", _ln_case, (5, 24), -1, 1e-6, False)


def _softmax_case(cid, shape, axis, scale=3.0):
    x = R(cid).randn(*shape, scale=scale)
    xd = d(x)
    e = np.exp(xd - xd.max(axis=axis, keepdims=True))
    return Spec([N("Softmax", ["x"], ["y"], axis=axis)], {"x": x},
                {"y": c32(e / e.sum(axis=axis, keepdims=True))})


register("softmax_last", _softmax_case, (3, 4, 17), -1)
register("softmax_axis1", _softmax_case, (2, 5, 3), 1)
register("softmax_axis0", _softmax_case, (6, 4), 0)
register("softmax_rank1", _softmax_case, (33,), 0)
register("softmax_large_values", _softmax_case, (4, 8, 128), -1, 40.0)


@case("softmax_default_axis")
def _softmax_default():
    x = R("softmax_default_axis").randn(2, 3, 5, scale=2.0)
    xd = d(x)
    e = np.exp(xd - xd.max(axis=-1, keepdims=True))
    return Spec([N("Softmax", ["x"], ["y"])], {"x": x},
                {"y": c32(e / e.sum(axis=-1, keepdims=True))})


# --------------------------------------------------------------------------- reductions

_REDUCE = {"ReduceSum": np.sum, "ReduceMean": np.mean, "ReduceMax": np.max}


def _reduce_case(cid, op, shape, axes, keepdims):
    """axes None: attribute/input absent (reduce all). keepdims None: attribute absent (1)."""
    x = R(cid).randn(*shape, scale=2.0)
    kd = 1 if keepdims is None else keepdims
    ax = None if axes is None else tuple(a % len(shape) for a in axes)
    y = c32(_REDUCE[op](d(x), axis=ax, keepdims=bool(kd)))
    attrs = {} if keepdims is None else {"keepdims": keepdims}
    ins, inits = ["x"], OrderedDict()
    if axes is not None:
        if op == "ReduceSum":  # opset 13+: axes is an input
            ins.append("axes")
            inits["axes"] = i64(axes)
        else:  # ReduceMean/ReduceMax: attribute until opset 18
            attrs["axes"] = list(axes)
    return Spec([N(op, ins, ["y"], **attrs)], {"x": x}, {"y": y}, inits)


for _op in _REDUCE:
    _lc = _op.lower()
    register(_lc + "_axis1_keep", _reduce_case, _op, (3, 5, 7), [1], 1)
    register(_lc + "_axis1_nokeep", _reduce_case, _op, (3, 5, 7), [1], 0)
    register(_lc + "_neg_axes_nokeep", _reduce_case, _op, (2, 3, 7, 5), [-1, -3], 0)
    register(_lc + "_last_keep", _reduce_case, _op, (4, 33), [-1], 1)
    register(_lc + "_all_nokeep", _reduce_case, _op, (3, 5, 7), None, 0)
    register(_lc + "_all_default", _reduce_case, _op, (3, 5, 7), None, None)
register("reducemean_hw_nokeep", _reduce_case, "ReduceMean", (2, 8, 7, 5), [2, 3], 0)
register("reducesum_rank1", _reduce_case, "ReduceSum", (37,), [0], 0)

_REDUCE.update({"ReduceMin": np.min, "ReduceProd": np.prod,
                "ReduceSumSquare": lambda x, axis, keepdims: np.sum(x * x, axis=axis, keepdims=keepdims),
                "ReduceL2": lambda x, axis, keepdims: np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))})
for _op in ("ReduceMin", "ReduceProd", "ReduceSumSquare", "ReduceL2"):
    _lc = _op.lower()
    register(_lc + "_axis1_keep", _reduce_case, _op, (3, 5, 7), [1], 1)
    register(_lc + "_neg_axes_nokeep", _reduce_case, _op, (2, 3, 7, 5), [-1, -3], 0)

register("sin_4d", unary_case, "Sin", (2, 3, 7, 5), {}, np.sin)
register("cos_rank1", unary_case, "Cos", (17,), {}, np.cos)


def _logsoftmax_case(cid, shape, axis):
    x = R(cid).randn(*shape, scale=3.0)
    xd = d(x)
    m = xd.max(axis=axis, keepdims=True)
    y = xd - m - np.log(np.exp(xd - m).sum(axis=axis, keepdims=True))
    return Spec([N("LogSoftmax", ["x"], ["y"], axis=axis)], {"x": x}, {"y": c32(y)})


register("logsoftmax_last", _logsoftmax_case, (3, 4, 17), -1)
register("logsoftmax_axis0", _logsoftmax_case, (6, 4), 0)


@case("sum_variadic3")
def _sum3():
    r = R("sum_variadic3")
    a, b, c = r.randn(3, 4, 5), r.randn(4, 1), r.randn(5)
    return Spec([N("Sum", ["a", "b", "c"], ["y"])], {"a": a, "b": b, "c": c},
                {"y": c32(d(a) + d(b) + d(c))})


@case("le_ge_and_or_not")
def _logic():
    r = R("le_ge_and_or_not")
    a, b = r.ints((3, 5), -3, 3), r.ints((5,), -3, 3)
    nodes = [N("LessOrEqual", ["a", "b"], ["le"]), N("GreaterOrEqual", ["a", "b"], ["ge"]),
             N("Not", ["le"], ["nle"]), N("And", ["le", "ge"], ["eq"]),
             N("Or", ["nle", "eq"], ["y"])]
    return Spec(nodes, {"a": a, "b": b}, {"y": np.logical_or(~(a <= b), (a <= b) & (a >= b))})


@case("globalmaxpool_odd")
def _gmp():
    x = R("globalmaxpool_odd").randn(2, 5, 7, 3)
    return Spec([N("GlobalMaxPool", ["x"], ["y"])], {"x": x},
                {"y": c32(d(x).max(axis=(2, 3), keepdims=True))})


@case("tile_2d")
def _tile():
    x = R("tile_2d").randn(3, 5)
    return Spec([N("Tile", ["x", "reps"], ["y"])], {"x": x}, {"y": c32(np.tile(d(x), (2, 3)))},
                OrderedDict(reps=i64([2, 3])))


@case("dropout_inference")
def _dropout():
    x = R("dropout_inference").randn(4, 9)
    return Spec([N("Dropout", ["x"], ["y"])], {"x": x}, {"y": x})


@case("mean_variadic2")
def _mean2():
    r = R("mean_variadic2")
    a, b = r.randn(2, 3, 6), r.randn(3, 1)
    return Spec([N("Mean", ["a", "b"], ["y"])], {"a": a, "b": b},
                {"y": c32((d(a) + d(b)) / 2.0)})


# --------------------------------------------------------------------------- shape ops

def _reshape_case(cid, shape, target):
    x = R(cid).randn(*shape)
    tgt = [shape[i] if t == 0 else t for i, t in enumerate(target)]
    return Spec([N("Reshape", ["x", "shape"], ["y"])], {"x": x}, {"y": x.reshape(tgt)},
                {"shape": i64(target)})


register("reshape_neg1", _reshape_case, (2, 3, 4), [4, -1])
register("reshape_zero_neg1", _reshape_case, (2, 3, 4), [0, -1])
register("reshape_zero_split", _reshape_case, (2, 6, 5), [0, 0, 1, 5])
register("reshape_flatten_rank1", _reshape_case, (2, 3, 4), [24])
register("reshape_heads", _reshape_case, (1, 16, 64), [1, 16, 4, 16])


def _transpose_case(cid, shape, perm):
    x = R(cid).randn(*shape)
    attrs = {} if perm is None else {"perm": perm}
    return Spec([N("Transpose", ["x"], ["y"], **attrs)], {"x": x},
                {"y": np.ascontiguousarray(np.transpose(x, perm))})


register("transpose_nchw_to_nhwc", _transpose_case, (1, 3, 7, 5), [0, 2, 3, 1])
register("transpose_default_reverse", _transpose_case, (2, 3, 5), None)
register("transpose_2d", _transpose_case, (7, 13), [1, 0])
register("transpose_heads", _transpose_case, (1, 16, 4, 8), [0, 2, 1, 3])


@case("concat_axis1_3inputs")
def _concat1():
    r = R("concat_axis1_3inputs")
    a, b, c = r.randn(2, 3, 5), r.randn(2, 1, 5), r.randn(2, 4, 5)
    return Spec([N("Concat", ["a", "b", "c"], ["y"], axis=1)], {"a": a, "b": b, "c": c},
                {"y": np.concatenate([a, b, c], axis=1)})


@case("concat_neg_axis_with_const")
def _concat2():
    r = R("concat_neg_axis_with_const")
    a, w = r.randn(3, 1, 4), r.randn(3, 1, 3)
    return Spec([N("Concat", ["a", "w"], ["y"], axis=-1)], {"a": a},
                {"y": np.concatenate([a, w], axis=-1)}, {"w": w})


@case("concat_rank1")
def _concat3():
    r = R("concat_rank1")
    a, b = r.randn(5), r.randn(12)
    return Spec([N("Concat", ["a", "b"], ["y"], axis=0)], {"a": a, "b": b},
                {"y": np.concatenate([a, b])})


@case("split_equal3_axis1")
def _split1():
    x = R("split_equal3_axis1").randn(2, 6, 5)
    ys = np.split(x, 3, axis=1)
    return Spec([N("Split", ["x"], ["y0", "y1", "y2"], axis=1)], {"x": x},
                {"y%d" % i: np.ascontiguousarray(v) for i, v in enumerate(ys)})


@case("split_uneven_last")
def _split2():
    x = R("split_uneven_last").randn(3, 7)
    return Spec([N("Split", ["x", "split"], ["y0", "y1"], axis=-1)], {"x": x},
                {"y0": np.ascontiguousarray(x[:, :2]), "y1": np.ascontiguousarray(x[:, 2:])},
                {"split": i64([2, 5])})


@case("split_qkv")
def _split3():
    x = R("split_qkv").randn(1, 16, 48)
    ys = np.split(x, 3, axis=2)
    return Spec([N("Split", ["x", "split"], ["q", "k", "v"], axis=2)], {"x": x},
                {n: np.ascontiguousarray(v) for n, v in zip("qkv", ys)},
                {"split": i64([16, 16, 16])})


def _slice_case(cid, shape, starts, ends, axes=None, steps=None):
    x = R(cid).randn(*shape)
    sl = [slice(None)] * len(shape)
    for i, (s, e) in enumerate(zip(starts, ends)):
        a = axes[i] if axes is not None else i
        st = steps[i] if steps is not None else 1
        # clamp INT64 sentinels the way ONNX does before handing them to Python slicing
        sl[a] = slice(int(s), None if abs(e) >= 2 ** 62 else int(e), int(st))
    ins = ["x", "starts", "ends"]
    inits = OrderedDict(starts=i64(starts), ends=i64(ends))
    if axes is not None or steps is not None:
        ins.append("axes")
        inits["axes"] = i64(axes if axes is not None else list(range(len(starts))))
    if steps is not None:
        ins.append("steps")
        inits["steps"] = i64(steps)
    y = np.ascontiguousarray(x[tuple(sl)])
    return Spec([N("Slice", ins, ["y"])], {"x": x}, {"y": y}, inits)


register("slice_basic", _slice_case, (5, 7), [1, 2], [4, 6])
register("slice_negative", _slice_case, (3, 9), [-3], [-1], [1])
register("slice_large_end", _slice_case, (4, 6, 5), [1], [INT64_MAX], [1])
register("slice_steps2", _slice_case, (9, 5), [0, 1], [9, 5], [0, 1], [2, 2])
register("slice_reverse", _slice_case, (4, 7), [-1], [-INT64_MAX], [1], [-1])
register("slice_reverse_step2", _slice_case, (3, 8), [6], [0], [1], [-2])
register("slice_reverse_2d", _slice_case, (5, 6), [3, -2], [0, -7], [0, 1], [-1, -3])
register("slice_neg_axis_4d", _slice_case, (1, 3, 7, 5), [1, 2], [6, 5], [-2, -1], [2, 1])


@case("gather_axis0_embedding")
def _gather0():
    r = R("gather_axis0_embedding")
    table, idx = r.randn(10, 4), r.ints((2, 3), 0, 10)
    return Spec([N("Gather", ["table", "idx"], ["y"], axis=0)], {"idx": idx},
                {"y": table[idx]}, {"table": table})


@case("gather_axis0_data_input")
def _gather0b():
    r = R("gather_axis0_data_input")
    x, idx = r.randn(6, 5), r.ints((4,), 0, 6)
    return Spec([N("Gather", ["x", "idx"], ["y"])], {"x": x, "idx": idx}, {"y": x[idx]})


@case("gather_axis1_const_indices")
def _gather1():
    r = R("gather_axis1_const_indices")
    x = r.randn(3, 5, 4)
    idx = i64([4, 0, 2])
    return Spec([N("Gather", ["x", "idx"], ["y"], axis=1)], {"x": x},
                {"y": np.take(x, idx, axis=1)}, {"idx": idx})


@case("gather_scalar_index")
def _gather_s():
    x = R("gather_scalar_index").randn(3, 5, 4)
    return Spec([N("Gather", ["x", "idx"], ["y"], axis=1)], {"x": x},
                {"y": np.ascontiguousarray(x[:, 2])}, {"idx": i64(2)})


@case("gather_negative_indices")
def _gather_neg():
    x = R("gather_negative_indices").randn(7, 3)
    idx = i64([-1, 0, -7, 3])
    return Spec([N("Gather", ["x", "idx"], ["y"], axis=0)], {"x": x}, {"y": x[idx]},
                {"idx": idx})


def _pad_case(cid, shape, pads, value=None):
    x = R(cid).randn(*shape)
    n = len(shape)
    width = [(pads[i], pads[n + i]) for i in range(n)]
    ins, inits = ["x", "pads"], OrderedDict(pads=i64(pads))
    if value is not None:
        ins.append("value")
        inits["value"] = f32(value)
    y = np.pad(x, width, mode="constant", constant_values=0.0 if value is None else value)
    return Spec([N("Pad", ins, ["y"], mode="constant")], {"x": x}, {"y": y.astype(F32)}, inits)


register("pad_constant_zero_4d", _pad_case, (1, 3, 7, 5), [0, 0, 1, 2, 0, 0, 2, 1])
register("pad_constant_value_2d", _pad_case, (3, 4), [1, 0, 2, 3], 1.5)
register("pad_rank1", _pad_case, (5,), [3, 1], -2.0)


def _expand_case(cid, shape, target):
    x = R(cid).randn(*shape)
    out_shape = np.broadcast_shapes(shape, tuple(target))
    return Spec([N("Expand", ["x", "shape"], ["y"])], {"x": x},
                {"y": np.ascontiguousarray(np.broadcast_to(x, out_shape))},
                {"shape": i64(target)})


register("expand_rank_up", _expand_case, (3, 1), [2, 3, 4])
register("expand_rank1", _expand_case, (1,), [5])
register("expand_bidirectional", _expand_case, (2, 1, 4), [3, 1])
register("expand_scalar", _expand_case, (), [2, 3])


def _squeeze_case(cid, op, shape, axes):
    x = R(cid).randn(*shape)
    ins, inits = ["x"], OrderedDict()
    if axes is not None:
        ins.append("axes")
        inits["axes"] = i64(axes)
    if op == "Squeeze":
        y = np.squeeze(x, axis=None if axes is None else tuple(axes))
    else:
        y = x
        rank = len(shape) + len(axes)
        for a in sorted(a % rank for a in axes):
            y = np.expand_dims(y, a)
    return Spec([N(op, ins, ["y"])], {"x": x}, {"y": np.ascontiguousarray(y)}, inits)


register("squeeze_axis1", _squeeze_case, "Squeeze", (3, 1, 5, 1), [1])
register("squeeze_all", _squeeze_case, "Squeeze", (3, 1, 5, 1), None)
register("squeeze_neg_axes", _squeeze_case, "Squeeze", (1, 3, 1, 5), [-2, 0])
register("unsqueeze_0_3", _squeeze_case, "Unsqueeze", (3, 5), [0, 3])
register("unsqueeze_neg", _squeeze_case, "Unsqueeze", (3, 5), [-1])
register("unsqueeze_scalar", _squeeze_case, "Unsqueeze", (), [0])


def _flatten_case(cid, shape, axis):
    x = R(cid).randn(*shape)
    a = 1 if axis is None else axis % len(shape) if axis < 0 else axis
    outer = int(np.prod(shape[:a]))
    attrs = {} if axis is None else {"axis": axis}
    return Spec([N("Flatten", ["x"], ["y"], **attrs)], {"x": x},
                {"y": x.reshape(outer, -1)})


register("flatten_default", _flatten_case, (2, 3, 4, 5), None)
register("flatten_axis0", _flatten_case, (2, 3, 4, 5), 0)
register("flatten_axis3", _flatten_case, (2, 3, 4, 5), 3)
register("flatten_neg_axis", _flatten_case, (2, 3, 4, 5), -2)


@case("constant_tensor_add")
def _const1():
    r = R("constant_tensor_add")
    x, c = r.randn(3, 4), r.randn(3, 4)
    nodes = [N("Constant", [], ["c"], value=numpy_helper.from_array(c, "c")),
             N("Add", ["x", "c"], ["y"])]
    return Spec(nodes, {"x": x}, {"y": c32(d(x) + d(c))})


@case("constant_value_float_mul")
def _const2():
    x = R("constant_value_float_mul").randn(2, 3, 5)
    nodes = [N("Constant", [], ["c"], value_float=0.125), N("Mul", ["x", "c"], ["y"])]
    return Spec(nodes, {"x": x}, {"y": c32(d(x) * 0.125)})


@case("constant_value_floats_add")
def _const3():
    x = R("constant_value_floats_add").randn(2, 4)
    v = [1.0, -2.0, 0.5, 3.25]
    nodes = [N("Constant", [], ["c"], value_floats=v), N("Add", ["x", "c"], ["y"])]
    return Spec(nodes, {"x": x}, {"y": c32(d(x) + d(v))})


@case("constant_ints_reshape")
def _const4():
    x = R("constant_ints_reshape").randn(2, 3, 4)
    nodes = [N("Constant", [], ["s"], value_ints=[6, 4]), N("Reshape", ["x", "s"], ["y"])]
    return Spec(nodes, {"x": x}, {"y": x.reshape(6, 4)})


@case("identity")
def _ident():
    x = R("identity").randn(2, 3, 7, 5)
    return Spec([N("Identity", ["x"], ["y"])], {"x": x}, {"y": x})


@case("identity_after_relu")
def _ident2():
    x = R("identity_after_relu").randn(17)
    return Spec([N("Relu", ["x"], ["r"]), N("Identity", ["r"], ["y"])], {"x": x},
                {"y": np.maximum(x, 0)})


@case("identity_odd_names")
def _ident3():
    # value names as torch writes them; the output file must be out_0_final.npy
    x = R("identity_odd_names").randn(3, 4)
    return Spec([N("Neg", ["input.1"], ["/layer/Neg_output_0"]),
                 N("Identity", ["/layer/Neg_output_0"], ["out:0/final"])],
                {"input.1": x}, {"out:0/final": -x})


@case("shape_slice_chain")
def _shape_chain():
    """The int64 shape arithmetic torch 1.13 emits for nn.MultiheadAttention's q/k/v split:
    Shape -> Gather -> Add/Div/Mul (int64) -> Slice. All foldable with static shapes."""
    x = R("shape_slice_chain").randn(16, 1, 48)

    def cst(name, v):
        return N("Constant", [], [name], value=numpy_helper.from_array(i64(v), name))
    nodes = [N("Shape", ["x"], ["shp"]), cst("m1", [-1]),
             N("Gather", ["shp", "m1"], ["last"], axis=0), cst("zero", [0]), cst("two", [2]),
             N("Add", ["last", "two"], ["lp2"]), cst("three", [3]),
             N("Div", ["lp2", "three"], ["third"]), cst("one", [1]),
             N("Mul", ["third", "one"], ["e0"]),
             N("Slice", ["x", "zero", "e0", "m1"], ["q"]),
             N("Mul", ["third", "two"], ["e1"]),
             N("Slice", ["x", "e0", "e1", "m1"], ["k"])]
    return Spec(nodes, {"x": x}, {"q": np.ascontiguousarray(x[..., :16]),
                                  "k": np.ascontiguousarray(x[..., 16:32])})


@case("castlike_f32_like_i64")
def _castlike_fi():
    x = R("castlike_f32_like_i64").uniform((4, 6), -50, 50)
    return Spec([N("CastLike", ["x", "like"], ["y"])], {"x": x},
                {"y": np.trunc(x).astype(I64)}, {"like": i64([0])})


@case("castlike_i64_like_f32")
def _castlike_if():
    x = R("castlike_i64_like_f32").ints((3, 5), -300, 300)
    like = R("castlike_like").randn(2)
    return Spec([N("CastLike", ["x", "like"], ["y"])], {"x": x, "like": like},
                {"y": x.astype(F32)})


@case("constant_of_shape_from_shape")
def _cos_shape():
    """ConstantOfShape(Shape(x)) with a float value, added to x (broadcast-free)."""
    x = R("constant_of_shape_from_shape").randn(2, 3, 5)
    val = numpy_helper.from_array(f32([2.5]), "v")
    nodes = [N("Shape", ["x"], ["s"]), N("ConstantOfShape", ["s"], ["c"], value=val),
             N("Add", ["x", "c"], ["y"])]
    return Spec(nodes, {"x": x}, {"y": c32(d(x) + 2.5)})


@case("constant_of_shape_default_i64")
def _cos_default():
    """No value attribute: float32 zeros; an int64 fill is cast and multiplied in."""
    x = R("constant_of_shape_default_i64").randn(4, 3)
    val = numpy_helper.from_array(i64([3]), "v")
    nodes = [N("ConstantOfShape", ["shp"], ["z"]),
             N("ConstantOfShape", ["shp"], ["k"], value=val),
             N("Cast", ["k"], ["kf"], to=TensorProto.FLOAT),
             N("Mul", ["x", "kf"], ["m"]), N("Add", ["m", "z"], ["y"])]
    return Spec(nodes, {"x": x}, {"y": c32(d(x) * 3)}, {"shp": i64([4, 3])})


@case("range_f32_broadcast")
def _range_f():
    x = R("range_f32_broadcast").randn(3, 5)
    nodes = [N("Range", ["start", "limit", "delta"], ["r"]), N("Add", ["x", "r"], ["y"])]
    r = np.arange(1.5, 4.0, 0.5, dtype=F64)
    return Spec(nodes, {"x": x}, {"y": c32(d(x) + r)},
                {"start": f32(1.5), "limit": f32(4.0), "delta": f32(0.5)})


@case("range_i64_negative_delta")
def _range_i():
    x = R("range_i64_negative_delta").ints((2, 3), -5, 5)
    nodes = [N("Range", ["start", "limit", "delta"], ["r"]), N("Mul", ["x", "r"], ["y"])]
    return Spec(nodes, {"x": x}, {"y": x * np.arange(10, 2, -3, dtype=I64)},
                {"start": i64(10), "limit": i64(2), "delta": i64(-3)})


@case("size_scales_input")
def _size():
    x = R("size_scales_input").randn(2, 7, 3)
    nodes = [N("Size", ["x"], ["n"]), N("Cast", ["n"], ["nf"], to=TensorProto.FLOAT),
             N("Div", ["x", "nf"], ["y"])]
    return Spec(nodes, {"x": x}, {"y": c32(d(x) / 42.0)})


@case("shape_op_output")
def _shape_out():
    x = R("shape_op_output").randn(2, 3, 7, 5)
    return Spec([N("Shape", ["x"], ["s"])], {"x": x}, {"s": i64([2, 3, 7, 5])})


# --------------------------------------------------------------------------- generation

def _tensor_type(arr):
    return onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[np.dtype(arr.dtype)]


def make_model(cid, spec):
    vi = helper.make_tensor_value_info
    graph = helper.make_graph(
        spec.nodes, cid,
        [vi(n, _tensor_type(a), list(a.shape)) for n, a in spec.inputs.items()],
        [vi(n, _tensor_type(a), list(a.shape)) for n, a in spec.outputs.items()],
        initializer=[numpy_helper.from_array(np.asarray(a), n) for n, a in spec.inits.items()])
    model = helper.make_model(graph, producer_name="tessera-e2e-ops",
                              opset_imports=[helper.make_opsetid("", spec.opset or caselib.OPSET)])
    if spec.opset is None or spec.opset <= onnx.defs.onnx_opset_version():
        caselib.check_onnx(model)
    return model


_FP = None


def ops_fingerprint():
    """Any edit to this file or caselib.py regenerates all op cases (they take seconds)."""
    global _FP
    if _FP is None:
        srcs = [open(__file__, "rb").read(), open(caselib.__file__, "rb").read()]
        _FP = caselib.fingerprint("ops", onnx.__version__, np.__version__, *srcs)
    return _FP


def build(cid):
    fn, params = CASES[cid]
    spec = fn(cid, *params)
    return spec, make_model(cid, spec)


def generate(cid, out_dir, force=False):
    fp = ops_fingerprint()
    if not force and caselib.is_current(out_dir, fp):
        return caselib.read_meta(out_dir)
    spec, model = build(cid)
    notes = {"ops": dict(sorted(caselib.op_histogram(model).items()))}
    return caselib.write_case(out_dir, cid, "op", fp, model.SerializeToString(), spec.inputs,
                              spec.outputs, notes)


def select(patterns):
    """Case ids matching any fnmatch pattern (comma lists allowed); 'all' or None -> all."""
    pats = []
    for p in patterns or ["all"]:
        pats += [q for q in p.split(",") if q]
    if not pats or "all" in pats:
        return list(CASES)
    return [c for c in CASES if any(fnmatch.fnmatchcase(c, p) for p in pats)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("patterns", nargs="*")
    ap.add_argument("--out", default=os.path.join(REPO, "build", "e2e", "ops"))
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args(argv)
    ids = select(a.patterns)
    if a.list:
        print("\n".join(ids))
        return 0
    t0 = time.time()
    for cid in ids:
        generate(cid, os.path.join(a.out, cid), force=a.force)
    print("%d op cases in %.1fs" % (len(ids), time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
