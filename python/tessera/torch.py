"""Compile a PyTorch module with Tessera.

    import torch, tessera.torch
    fast = tessera.torch.compile(module, (torch.randn(1, 3, 224, 224),))
    y = fast(x)                      # torch tensors in, torch tensors out

The module is exported to ONNX in memory (torch.onnx.export, eval mode,
static shapes taken from the example inputs), compiled with
tessera.compile(**options) and loaded. The returned callable takes tensors
of the example inputs' shapes and dtypes (on the CPU) and returns tensors
(one, or a tuple when the module returns several).
"""

import inspect
import io
import warnings

import torch as _torch

import tessera as _tessera

__all__ = ["compile", "CompiledModule", "export_onnx"]

OPSET = 17


def export_onnx(module, example_inputs, input_names=None, output_names=None):
    """The module as ONNX bytes (opset 17, eval mode, constant folding)."""
    args = tuple(example_inputs)
    if input_names is None:
        input_names = [f"input_{i}" for i in range(len(args))]
    buf = io.BytesIO()
    was_training = module.training
    module.eval()
    try:
        # Not under no_grad: that would select fused fast paths (e.g.
        # TransformerEncoderLayer's) that have no ONNX export.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            extra = {}
            # Newer torch defaults to its dynamo exporter; the TorchScript
            # one is the one these options describe.
            if "dynamo" in inspect.signature(_torch.onnx.export).parameters:
                extra["dynamo"] = False
            _torch.onnx.export(module, args, buf, opset_version=OPSET,
                               do_constant_folding=True, input_names=input_names,
                               output_names=output_names,
                               training=_torch.onnx.TrainingMode.EVAL, **extra)
    finally:
        module.train(was_training)
    return buf.getvalue()


class CompiledModule:
    """A Tessera model called with torch tensors. `model` is the underlying
    tessera.Model (signature, timings)."""

    def __init__(self, model, name):
        self.model = model
        self._name = name

    def __call__(self, *tensors):
        if len(tensors) != len(self.model.inputs):
            raise _tessera.RunError(
                f"{self._name}: expected {len(self.model.inputs)} tensors, got "
                f"{len(tensors)} (signature {self.model.signature()})",
                "TSR_ERR_INVALID_ARGUMENT")
        arrays = []
        for spec, t in zip(self.model.inputs, tensors):
            if not isinstance(t, _torch.Tensor):
                t = _torch.as_tensor(t)
            if t.device.type != "cpu":
                raise _tessera.RunError(
                    f"{self._name}: input '{spec.name}' is on {t.device}; the "
                    "Python package runs CPU tensors", "TSR_ERR_INVALID_ARGUMENT")
            # No copy for a contiguous CPU tensor without autograd history.
            arrays.append(t.detach().numpy())
        outs = self.model(*arrays)
        if isinstance(outs, tuple):
            return tuple(_torch.from_numpy(o) for o in outs)
        return _torch.from_numpy(outs)

    def __repr__(self):
        return f"<tessera.torch.CompiledModule {self._name} {self.model.signature()}>"


def compile(module, example_inputs, **options):
    """Exports `module` with `example_inputs` (a tensor or a tuple of them),
    compiles it with Tessera's options (as tessera.compile), and returns a
    CompiledModule."""
    if not isinstance(module, _torch.nn.Module):
        raise TypeError("tessera.torch.compile: expected a torch.nn.Module, got "
                        f"{type(module).__name__}")
    if isinstance(example_inputs, _torch.Tensor):
        example_inputs = (example_inputs,)
    name = type(module).__name__
    was_training = module.training
    module.eval()
    try:
        with _torch.no_grad():
            result = module(*example_inputs)
    finally:
        module.train(was_training)
    count = len(result) if isinstance(result, (tuple, list)) else 1
    onnx_bytes = export_onnx(module, example_inputs,
                             output_names=[f"output_{i}" for i in range(count)])
    model = _tessera.compile(onnx_bytes, format="onnx", name=f"{name}.onnx", **options)
    return CompiledModule(model, name)
