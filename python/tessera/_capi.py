"""ctypes declarations of Tessera's two C libraries.

libtessera_runtime.so (tessera/Runtime.h) runs artifacts and
libtessera_compiler.so (tessera/Compiler.h) makes them. They are looked up in
$TESSERA_LIBRARY_DIR, then next to this package in a build tree
(build/python/tessera -> build/lib) or an install
(PREFIX/lib/python3/dist-packages/tessera -> PREFIX/lib).
"""

import ctypes
import os
from pathlib import Path

RUNTIME_API_VERSION = 1
COMPILER_API_VERSION = 1


def _candidate_dirs():
    env = os.environ.get("TESSERA_LIBRARY_DIR")
    if env:
        yield Path(env)
    here = Path(__file__).resolve().parent
    yield here.parent.parent / "lib"    # build tree
    yield here.parent.parent.parent     # PREFIX/lib/python3/dist-packages


def _load(name):
    tried = []
    for d in _candidate_dirs():
        path = d / name
        tried.append(str(path))
        if path.exists():
            return ctypes.CDLL(str(path))
    raise ImportError(
        f"tessera: cannot find {name} (looked in {', '.join(tried)}); set "
        "TESSERA_LIBRARY_DIR to the directory that holds it")


class Tensor(ctypes.Structure):
    """struct tsr_tensor."""
    _fields_ = [("name", ctypes.c_char_p),
                ("dtype", ctypes.c_int),
                ("rank", ctypes.c_int64),
                ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("data", ctypes.c_void_p),
                ("byte_size", ctypes.c_size_t)]


class Diagnostic(ctypes.Structure):
    """struct tsc_diagnostic."""
    _fields_ = [("severity", ctypes.c_int),
                ("message", ctypes.c_char_p),
                ("file", ctypes.c_char_p),
                ("line", ctypes.c_uint),
                ("column", ctypes.c_uint)]


DiagnosticHandler = ctypes.CFUNCTYPE(None, ctypes.POINTER(Diagnostic), ctypes.c_void_p)

_P = ctypes.c_void_p
_S = ctypes.c_char_p
_SZ = ctypes.c_size_t


def _declare(lib, table):
    for name, restype, argtypes in table:
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


runtime = _load("libtessera_runtime.so")
_declare(runtime, [
    ("tsr_runtime_api_version", ctypes.c_int, []),
    ("tsr_error_message", _S, [_P]),
    ("tsr_error_code", ctypes.c_int, [_P]),
    ("tsr_error_free", None, [_P]),
    ("tsr_code_name", _S, [ctypes.c_int]),
    ("tsr_model_load_file", _P, [_S, ctypes.POINTER(_P)]),
    ("tsr_model_load_memory", _P, [_P, _SZ, ctypes.POINTER(_P)]),
    ("tsr_model_free", None, [_P]),
    ("tsr_model_name", _S, [_P]),
    ("tsr_model_target", _S, [_P]),
    ("tsr_model_manifest_json", _S, [_P]),
    ("tsr_model_num_tensors", _SZ, [_P, ctypes.c_int]),
    ("tsr_model_tensor_name", _S, [_P, ctypes.c_int, _SZ]),
    ("tsr_model_tensor_dtype", ctypes.c_int, [_P, ctypes.c_int, _SZ]),
    ("tsr_model_tensor_rank", ctypes.c_int64, [_P, ctypes.c_int, _SZ]),
    ("tsr_model_tensor_dims", ctypes.POINTER(ctypes.c_int64), [_P, ctypes.c_int, _SZ]),
    ("tsr_model_num_devices", ctypes.c_int64, [_P]),
    ("tsr_model_arena_bytes", ctypes.c_uint64, [_P]),
    ("tsr_model_run", _P, [_P, ctypes.POINTER(Tensor), _SZ, ctypes.POINTER(Tensor), _SZ]),
])

compiler = _load("libtessera_compiler.so")
_declare(compiler, [
    ("tsc_api_version", ctypes.c_int, []),
    ("tsc_version_string", _S, []),
    ("tsc_error_message", _S, [_P]),
    ("tsc_error_code", ctypes.c_int, [_P]),
    ("tsc_error_free", None, [_P]),
    ("tsc_options_create", _P, [ctypes.POINTER(_P)]),
    ("tsc_options_free", None, [_P]),
    ("tsc_options_set", _P, [_P, _S, _S]),
    ("tsc_option_name", _S, [_SZ]),
    ("tsc_option_help", _S, [_SZ]),
    ("tsc_severity_name", _S, [ctypes.c_int]),
    ("tsc_session_create", _P, [_P, ctypes.POINTER(_P)]),
    ("tsc_session_free", None, [_P]),
    ("tsc_session_set_diagnostic_handler", None, [_P, DiagnosticHandler, _P]),
    ("tsc_compile_file", _P, [_P, _S, ctypes.POINTER(_P)]),
    ("tsc_compile_buffer", _P, [_P, _P, _SZ, _S, _S, ctypes.POINTER(_P)]),
    ("tsc_compile_file_to_path", _P, [_P, _S, _S]),
    ("tsc_output_data", _P, [_P]),
    ("tsc_output_size", _SZ, [_P]),
    ("tsc_output_compile_seconds", ctypes.c_double, [_P]),
    ("tsc_output_free", None, [_P]),
])

if runtime.tsr_runtime_api_version() != RUNTIME_API_VERSION:
    raise ImportError("tessera: libtessera_runtime.so has runtime API version "
                      f"{runtime.tsr_runtime_api_version()}, this package "
                      f"expects {RUNTIME_API_VERSION}")
if compiler.tsc_api_version() != COMPILER_API_VERSION:
    raise ImportError("tessera: libtessera_compiler.so has compiler API version "
                      f"{compiler.tsc_api_version()}, this package expects "
                      f"{COMPILER_API_VERSION}")
