"""Tessera from Python: compile ONNX models and run them on numpy arrays.

    import numpy as np, tessera
    model = tessera.compile("model.onnx", precision="bf16", memory_budget="80%")
    y = model(np.ones((1, 3, 224, 224), np.float32))
    print(model.signature(), model.last_run_seconds)

`tessera.compile` takes a path, or the model's bytes (ONNX, or tessera-dialect
MLIR with format="mlir"); its keyword options are tessera-compile's flags
with '_' for '-' (see `tessera.options()`). `tessera.load` loads an artifact
(.tsr) from a path or bytes. `tessera.torch.compile` compiles a torch module.

The package is plain Python over the C libraries (ctypes); nothing is built
at install time. Inputs are passed to the runtime without copies when they
are C-contiguous and of the model's dtype; outputs are written straight into
the numpy arrays returned.
"""

import ctypes
import json
import os
import sys
import time
from collections import namedtuple

from . import _capi

__all__ = ["compile", "load", "options", "Model", "TensorSpec", "Diagnostic",
           "TesseraError", "CompileError", "RunError", "__version__"]

__version__ = _capi.compiler.tsc_version_string().decode()

TensorSpec = namedtuple("TensorSpec", "name shape dtype")
TensorSpec.__doc__ = "A model input or output: name, shape (tuple) and dtype (numpy dtype name)."

Diagnostic = namedtuple("Diagnostic", "severity message file line column")
Diagnostic.__doc__ = ("A compiler message: severity ('error', 'warning', 'note', "
                      "'remark'), message, and file/line/column (None/0 without a location).")


class TesseraError(Exception):
    """An error from the Tessera libraries; `code` is the C API's code name."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


class CompileError(TesseraError):
    """The model did not compile, or the options are wrong. `diagnostics` holds
    every message the compiler gave, with locations."""

    def __init__(self, message, code=None, diagnostics=()):
        super().__init__(message, code)
        self.diagnostics = list(diagnostics)


class RunError(TesseraError):
    """Loading or running an artifact failed (bad file, wrong inputs)."""


# The runtime's dtype codes (tessera/Runtime.h) and numpy's names.
_DTYPES = {1: "float32", 2: "float64", 3: "float16", 4: "bfloat16", 5: "int8",
           6: "uint8", 7: "int16", 8: "int32", 9: "int64", 10: "bool"}
_DTYPE_CODES = {name: code for code, name in _DTYPES.items()}
_COMPILE_CODES = {1: "TSC_ERR_INVALID_ARGUMENT", 2: "TSC_ERR_INVALID_OPTION",
                  3: "TSC_ERR_IO", 4: "TSC_ERR_COMPILE", 5: "TSC_ERR_INTERNAL"}
_LIST_OPTIONS = {"input-shape", "stage-mesh"}


def options():
    """The compiler's options: {name: help}. Pass them to compile() with '_' for '-'."""
    out, i = {}, 0
    while True:
        name = _capi.compiler.tsc_option_name(i)
        if name is None:
            return out
        out[name.decode()] = _capi.compiler.tsc_option_help(i).decode()
        i += 1


def _option_values(name, value):
    """The text value(s) of one keyword option."""
    if isinstance(value, bool):
        return ["1" if value else "0"]
    if name == "input-shape" and isinstance(value, dict):
        return [f"{k}=" + "x".join(str(int(d)) for d in v) for k, v in value.items()]
    if name == "shard-spec" and isinstance(value, dict):
        return [json.dumps(value)]
    if isinstance(value, (list, tuple)):
        if name not in _LIST_OPTIONS:
            raise CompileError(f"option '{name}' takes one value, got {value!r}",
                               "TSC_ERR_INVALID_OPTION")
        return [str(v) for v in value]
    if isinstance(value, os.PathLike):
        return [os.fspath(value)]
    return [str(value)]


def _take_compile_error(err, diagnostics=()):
    msg = _capi.compiler.tsc_error_message(err).decode(errors="replace")
    code = _COMPILE_CODES.get(_capi.compiler.tsc_error_code(err))
    _capi.compiler.tsc_error_free(err)
    return CompileError(msg, code, diagnostics)


def _take_run_error(err, what):
    msg = _capi.runtime.tsr_error_message(err).decode(errors="replace")
    code = _capi.runtime.tsr_code_name(_capi.runtime.tsr_error_code(err)).decode()
    _capi.runtime.tsr_error_free(err)
    return RunError(f"{what}: {msg}" if what else msg, code)


class _Session:
    """A tsc_session with a diagnostic handler that records (and, when
    verbose, prints) every message."""

    def __init__(self, opts, on_diagnostic=None):
        self.diagnostics = []
        self._on_diagnostic = on_diagnostic
        self._handler_error = None  # what on_diagnostic raised, re-raised after
        self._verbose = False
        o = ctypes.c_void_p()
        err = _capi.compiler.tsc_options_create(ctypes.byref(o))
        if err:
            raise _take_compile_error(err)
        self._handle = ctypes.c_void_p()
        try:
            for key, value in opts.items():
                if value is None:  # not set
                    continue
                name = key.replace("_", "-")
                if name == "verbose":
                    self._verbose = bool(value)
                for v in _option_values(name, value):
                    err = _capi.compiler.tsc_options_set(o, name.encode(), v.encode())
                    if err:
                        raise _take_compile_error(err)
            err = _capi.compiler.tsc_session_create(o, ctypes.byref(self._handle))
            if err:
                raise _take_compile_error(err)
        finally:
            _capi.compiler.tsc_options_free(o)
        self._handler = _capi.DiagnosticHandler(self._record)
        _capi.compiler.tsc_session_set_diagnostic_handler(self._handle, self._handler, None)

    def _record(self, d, _user):
        d = d.contents
        sev = _capi.compiler.tsc_severity_name(d.severity).decode()
        diag = Diagnostic(sev, d.message.decode(errors="replace"),
                          d.file.decode(errors="replace") if d.file else None,
                          d.line, d.column)
        self.diagnostics.append(diag)
        if self._on_diagnostic is not None:
            # ctypes would print and drop an exception raised here.
            try:
                self._on_diagnostic(diag)
            except BaseException as e:  # noqa: B036 - re-raised after the call
                if self._handler_error is None:
                    self._handler_error = e
        elif self._verbose or sev == "warning":
            where = f"{diag.file}:{diag.line}:{diag.column}: " if diag.file else ""
            print(f"[tessera] {where}{sev}: {diag.message}", file=sys.stderr)

    def compile(self, source, fmt, name):
        out = ctypes.c_void_p()
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            err = _capi.compiler.tsc_compile_buffer(
                self._handle, data, len(data), fmt.encode(),
                (name or "<buffer>").encode(), ctypes.byref(out))
        else:
            err = _capi.compiler.tsc_compile_file(
                self._handle, os.fsencode(source), ctypes.byref(out))
        if self._handler_error is not None:
            if not err:
                _capi.compiler.tsc_output_free(out)
            else:
                _capi.compiler.tsc_error_free(err)
            raise self._handler_error
        if err:
            raise _take_compile_error(err, self.diagnostics)
        try:
            size = _capi.compiler.tsc_output_size(out)
            data = ctypes.string_at(_capi.compiler.tsc_output_data(out), size)
            seconds = _capi.compiler.tsc_output_compile_seconds(out)
        finally:
            _capi.compiler.tsc_output_free(out)
        return data, seconds

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle and _capi is not None and _capi.compiler is not None:
            _capi.compiler.tsc_session_free(handle)


def compile(source, *, format=None, name=None, on_diagnostic=None, **options):
    """Compiles a model and loads it.

    source: a path (str or os.PathLike; '.mlir' is tessera-dialect MLIR, other
    files ONNX, unless `format` says) or the model's bytes. format: 'onnx'
    (default for bytes) or 'mlir'. name: how diagnostics name a bytes model.
    Options set to None are left unset. on_diagnostic: called
    with each Diagnostic (by default warnings, and with verbose=True progress,
    go to stderr). options: tessera-compile's flags, '_' for '-', e.g.
    precision="bf16", memory_budget="80%", derive=True,
    input_shape={"x": (1, 3, 224, 224)}. A flag with a file value (e.g.
    derive_report) writes that file.

    Returns a Model; raises CompileError with the compiler's diagnostics.
    """
    if options.get("emit", "artifact") != "artifact":
        raise CompileError("tessera.compile returns a runnable model: emit must "
                           "be 'artifact' (use tessera-compile for IR)",
                           "TSC_ERR_INVALID_OPTION")
    is_bytes = isinstance(source, (bytes, bytearray, memoryview))
    if not is_bytes and not isinstance(source, (str, os.PathLike)):
        raise TypeError("tessera.compile: source must be a path or bytes, got "
                        f"{type(source).__name__}")
    if format not in (None, "onnx", "mlir"):
        raise CompileError(f"unknown format '{format}' (onnx, mlir)",
                           "TSC_ERR_INVALID_ARGUMENT")
    if not is_bytes and format is not None:
        # A path whose suffix does not say its format: compiled from its bytes.
        path = os.fspath(source)
        try:
            with open(path, "rb") as f:
                source = f.read()
        except OSError as e:
            raise CompileError(f"cannot open model '{path}': {e.strerror}",
                               "TSC_ERR_IO") from None
        name = name or path
    if format is None:
        format = "onnx"
    session = _Session(options, on_diagnostic)
    artifact, seconds = session.compile(source, format, name)
    model = load(artifact)
    model.compile_seconds = seconds
    model.diagnostics = session.diagnostics
    return model


def load(source):
    """Loads an artifact (.tsr) from a path or from its bytes."""
    handle = ctypes.c_void_p()
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        err = _capi.runtime.tsr_model_load_memory(data, len(data), ctypes.byref(handle))
        what = "loading the artifact"
    else:
        err = _capi.runtime.tsr_model_load_file(os.fsencode(source), ctypes.byref(handle))
        what = f"loading '{os.fspath(source)}'"
    if err:
        raise _take_run_error(err, what)
    return Model(handle)


class Model:
    """A loaded artifact. Call it with numpy arrays (by position or by input
    name); it returns the output array, or a tuple of them when there are
    several. Runs of one model may come from several threads at once."""

    def __init__(self, handle):
        self._handle = handle
        rt = _capi.runtime
        self.name = rt.tsr_model_name(handle).decode()
        self.target = rt.tsr_model_target(handle).decode()
        self.inputs = self._specs(0)
        self.outputs = self._specs(1)
        self.compile_seconds = None
        self.last_run_seconds = None
        self.diagnostics = []

    def _specs(self, role):
        rt, h = _capi.runtime, self._handle
        specs = []
        for i in range(rt.tsr_model_num_tensors(h, role)):
            rank = rt.tsr_model_tensor_rank(h, role, i)
            dims = rt.tsr_model_tensor_dims(h, role, i)
            specs.append(TensorSpec(rt.tsr_model_tensor_name(h, role, i).decode(),
                                    tuple(dims[k] for k in range(rank)),
                                    _DTYPES.get(rt.tsr_model_tensor_dtype(h, role, i), "invalid")))
        return specs

    @property
    def manifest(self):
        """The artifact's manifest (dict)."""
        return json.loads(_capi.runtime.tsr_model_manifest_json(self._handle))

    @property
    def num_devices(self):
        return _capi.runtime.tsr_model_num_devices(self._handle)

    def signature(self):
        """'(x: float32[1, 3], ...) -> (y: float32[1, 2], ...)'."""
        def fmt(specs):
            return ", ".join(f"{s.name}: {s.dtype}[{', '.join(map(str, s.shape))}]"
                             for s in specs)
        return f"({fmt(self.inputs)}) -> ({fmt(self.outputs)})"

    def __repr__(self):
        return f"<tessera.Model {self.name} ({self.target}) {self.signature()}>"

    def run(self, inputs):
        """Runs on a dict {input name: array} (or a sequence in input order)
        and returns {output name: array}."""
        import numpy as np
        if isinstance(inputs, dict):
            unknown = sorted(set(inputs) - {s.name for s in self.inputs})
            if unknown:
                raise RunError(f"{self.name}: no input named {', '.join(map(repr, unknown))} "
                               f"(its inputs: {', '.join(s.name for s in self.inputs)})",
                               "TSR_ERR_INVALID_ARGUMENT")
            missing = [s.name for s in self.inputs if s.name not in inputs]
            if missing:
                raise RunError(f"{self.name}: missing inputs {', '.join(missing)} "
                               f"(signature {self.signature()})", "TSR_ERR_INVALID_ARGUMENT")
            arrays = [inputs[s.name] for s in self.inputs]
        else:
            arrays = list(inputs)
            if len(arrays) != len(self.inputs):
                raise RunError(f"{self.name}: expected {len(self.inputs)} inputs, got "
                               f"{len(arrays)} (signature {self.signature()})",
                               "TSR_ERR_INVALID_ARGUMENT")
        keep = []  # keeps converted arrays and name bytes alive during the run
        c_in = (_capi.Tensor * max(1, len(arrays)))()
        for i, (spec, a) in enumerate(zip(self.inputs, arrays)):
            if spec.dtype == "bfloat16":
                raise RunError(f"input '{spec.name}' is bf16, which numpy cannot hold",
                               "TSR_ERR_DTYPE_MISMATCH")
            a = np.asarray(a)
            if a.dtype != np.dtype(spec.dtype):
                raise RunError(f"input '{spec.name}': expected {spec.dtype}, got {a.dtype} "
                               f"(signature {self.signature()})", "TSR_ERR_DTYPE_MISMATCH")
            a = np.ascontiguousarray(a)
            keep.append(a)
            self._fill(c_in[i], spec.name, a, keep)
        outs = []
        c_out = (_capi.Tensor * max(1, len(self.outputs)))()
        for i, spec in enumerate(self.outputs):
            if spec.dtype == "bfloat16":
                raise RunError(f"output '{spec.name}' is bf16, which numpy cannot hold",
                               "TSR_ERR_DTYPE_MISMATCH")
            o = np.empty(spec.shape, dtype=spec.dtype)
            outs.append(o)
            self._fill(c_out[i], spec.name, o, keep)
        t0 = time.perf_counter()
        err = _capi.runtime.tsr_model_run(self._handle, c_in, len(arrays), c_out, len(outs))
        self.last_run_seconds = time.perf_counter() - t0
        if err:
            raise _take_run_error(err, self.name)
        return {s.name: o for s, o in zip(self.outputs, outs)}

    @staticmethod
    def _fill(t, name, array, keep):
        nb = name.encode()
        shape = (ctypes.c_int64 * max(1, array.ndim))(*array.shape)
        keep.extend([nb, shape])
        t.name = nb
        t.dtype = _DTYPE_CODES[array.dtype.name]
        t.rank = array.ndim
        t.shape = shape
        t.data = array.ctypes.data if array.size else None
        t.byte_size = array.nbytes

    def __call__(self, *args, **kwargs):
        if args and kwargs:
            raise RunError("pass the inputs by position or by name, not both",
                           "TSR_ERR_INVALID_ARGUMENT")
        result = self.run(kwargs if kwargs else args)
        values = tuple(result.values())
        return values[0] if len(values) == 1 else values

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle and _capi is not None and _capi.runtime is not None:
            _capi.runtime.tsr_model_free(handle)
