"""Single-op training cases for train_e2e.py: one small module per op that has a gradient
rule and that the e2e models do not exercise. Each case feeds the op from trainable
parameters (x * w + b, a conv, ...) so that torch autograd and Tessera's gradient of those
parameters go through the op's vector-Jacobian product. Loss: mean squared error.

build(name) -> (eval-mode fp32 module, inputs dict); NAMES lists them in order.
"""

import numpy as np


def _affine(features, seed):
    import torch
    import torch.nn as nn

    class Affine(nn.Module):
        """x * w + b with w, b trainable, then `fn`."""

        def __init__(self, fn):
            super().__init__()
            g = torch.Generator().manual_seed(seed)
            self.w = nn.Parameter(torch.randn(features, generator=g) * 0.8 + 0.2)
            self.b = nn.Parameter(torch.randn(features, generator=g) * 0.5)
            self.w2 = nn.Parameter(torch.randn(features, generator=g) * 0.6)
            self.fn = fn

        def forward(self, x):
            return self.fn(self, x * self.w + self.b)
    return Affine


def _elementwise(fn, seed):
    cls = _affine(16, seed)
    x = np.random.RandomState(seed).standard_normal((4, 16)).astype(np.float32) * 2
    return cls(fn), {"input": x}


def _mlir_elementwise(op, fn, seed):
    """A case for an op no ONNX exporter emits (tessera.gelu, silu, rsqrt): the same
    x * w + b module, and its program written in the tessera dialect, compiled from
    .mlir (the module's `tessera_mlir`; parameters are the constants named w and b)."""
    model, inputs = _elementwise(fn, seed)

    def text(m):
        vec = lambda t: ", ".join("%.9g" % v for v in t.detach().numpy())  # noqa: E731
        ty = "tensor<4x16xf32>"
        body = ["  %0 = tessera.mul %x, %w : {t}, tensor<16xf32> -> {t}",
                "  %1 = tessera.add %0, %b : {t}, tensor<16xf32> -> {t}"]
        if op == "rsqrt":  # of z * z + 0.5, as the torch module computes
            body += ["  %s = tessera.mul %1, %1 : {t}, {t} -> {t}",
                     "  %h = tessera.constant dense<0.5> : tensor<1xf32>",
                     "  %a = tessera.add %s, %h : {t}, tensor<1xf32> -> {t}",
                     "  %2 = tessera.rsqrt %a : {t}"]
        else:
            body += ["  %2 = tessera." + op + " %1 : {t}"]
        lines = ['func.func @main(%x: T {tessera.name = "input"}) -> '
                 '(T {tessera.name = "output"}) {',
                 '  %w = tessera.constant dense<[' + vec(m.w) + ']> : tensor<16xf32> loc("w")',
                 '  %b = tessera.constant dense<[' + vec(m.b) + ']> : tensor<16xf32> loc("b")']
        lines += body + ["  return %2 : T", "}", ""]
        return "\n".join(lines).replace("{t}", "T").replace("T", ty)
    model.tessera_mlir = text
    return model, inputs


def _conv_then(layer, seed, channels=4, size=9):
    import torch
    import torch.nn as nn
    torch.manual_seed(seed)
    m = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1), layer)
    x = np.random.RandomState(seed).standard_normal((2, 3, size, size)).astype(np.float32)
    return m, {"input": x}


def _cases():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    return {
        "op_abs": lambda: _elementwise(lambda m, z: torch.abs(z), 11),
        "op_rsqrt": lambda: _elementwise(lambda m, z: torch.rsqrt(z * z + 0.5), 12),
        "op_reciprocal": lambda: _elementwise(lambda m, z: torch.reciprocal(z * z + 0.5), 13),
        "op_sin_cos": lambda: _elementwise(lambda m, z: torch.sin(z) * torch.cos(z * m.w2), 14),
        "op_floor": lambda: _elementwise(lambda m, z: z * torch.floor(z), 15),
        "op_gelu": lambda: _elementwise(lambda m, z: F.gelu(z), 16),
        "op_silu": lambda: _elementwise(lambda m, z: F.silu(z), 17),
        "op_gelu_mlir": lambda: _mlir_elementwise("gelu", lambda m, z: F.gelu(z), 30),
        "op_silu_mlir": lambda: _mlir_elementwise("silu", lambda m, z: F.silu(z), 31),
        "op_rsqrt_mlir": lambda: _mlir_elementwise(
            "rsqrt", lambda m, z: torch.rsqrt(z * z + 0.5), 32),
        "op_hardswish": lambda: _elementwise(lambda m, z: F.hardswish(z), 18),
        "op_leaky_relu": lambda: _elementwise(lambda m, z: F.leaky_relu(z, 0.1), 19),
        "op_hardsigmoid": lambda: _elementwise(lambda m, z: F.hardsigmoid(z), 20),
        "op_pow_const": lambda: _elementwise(lambda m, z: z ** 3, 21),
        "op_pow_tensor": lambda: _elementwise(
            lambda m, z: torch.pow(torch.abs(z) + 0.5, m.w2), 22),
        "op_max_min": lambda: _elementwise(
            lambda m, z: torch.maximum(z, z * m.w2) - torch.minimum(z * 0.5, m.w2), 23),
        "op_reduce_max_min": lambda: _elementwise(
            lambda m, z: torch.amax(z, dim=-1) * torch.amin(z * m.w2, dim=0).sum(), 24),
        "op_conv_grouped": lambda: _conv_then(nn.Conv2d(4, 6, 3, padding=1, groups=2), 25),
        "op_conv_transpose": lambda: _conv_then(
            nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1), 26),
        "op_avg_pool": lambda: _conv_then(nn.AvgPool2d(2), 27),
        "op_avg_pool_pad": lambda: _conv_then(
            nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), 28),
        "op_avg_pool_pad_incl": lambda: _conv_then(
            nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=True), 29),
    }


NAMES = ["op_abs", "op_rsqrt", "op_reciprocal", "op_sin_cos", "op_floor", "op_gelu",
         "op_silu", "op_gelu_mlir", "op_silu_mlir", "op_rsqrt_mlir", "op_hardswish",
         "op_leaky_relu", "op_hardsigmoid", "op_pow_const",
         "op_pow_tensor", "op_max_min", "op_reduce_max_min", "op_conv_grouped",
         "op_conv_transpose", "op_avg_pool", "op_avg_pool_pad", "op_avg_pool_pad_incl"]


def build(name):
    model, inputs = _cases()[name]()
    model.eval()
    return model, inputs
