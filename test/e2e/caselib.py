"""Shared helpers for Tessera's end-to-end test cases.

A *case* is a directory holding

    model.onnx                 the model (opset 17, static shapes)
    inputs/<name>.npy          one file per graph input
    expected/<name>.npy        one file per graph output (reference values)
    case.json                  metadata; written last, so its presence marks a complete case

File names are the ONNX value names with every character outside [A-Za-z0-9_.-] replaced by
'_' (the same rule tessera-run uses for the files it writes). case.json keeps the real names:

    {"id": ..., "kind": "model"|"op", "fingerprint": ..., "opset": 17,
     "inputs":  [{"name": ..., "file": "inputs/x.npy",   "shape": [...], "dtype": "float32"}],
     "outputs": [{"name": ..., "file": "expected/y.npy", "shape": [...], "dtype": "float32"}],
     "notes": {...}}

Cases are written into a temporary sibling directory and renamed into place, so an interrupted
generator never leaves a half-written case behind.

Only numpy and onnx are imported here (no torch), so the harness can list and check cached
cases quickly.
"""

import hashlib
import json
import os
import re
import shutil
import tempfile

import numpy as np

OPSET = 17
# Bump when the on-disk layout or the reference conventions change: invalidates every cache.
LAYOUT_VERSION = 1
# The comparison rule (documented in run_e2e.py): max|got-ref| <= RTOL * max(1, max|ref|).
RTOL = 1e-4


def low_precision_rtol(precision, meta):
    """Tolerance for tessera-compile --precision=bf16|f16 (16-bit storage, f32 arithmetic),
    relative to max(1, max|ref|) like RTOL. Models: no worse than torch's own run of the model
    in bf16 (notes.torch_bf16_rel_err, see models.py), and never below one bf16 ulp at 1.0
    (2^-8); for f16, whose significand has 3 more bits, a quarter of that (8x less rounding
    error, 2x slack). Op cases (no torch yardstick): 2^-6 for bf16, 2^-9 for f16.
    docs/precision.md records the measured errors behind these bounds."""
    torch_bf16 = (meta.get("notes") or {}).get("torch_bf16_rel_err")
    if torch_bf16 is None:
        return 2.0 ** -6 if precision == "bf16" else 2.0 ** -9
    bf16 = max(float(torch_bf16), 2.0 ** -8)
    return bf16 if precision == "bf16" else bf16 / 4

_BAD = re.compile(r"[^A-Za-z0-9_.-]")


def sanitize(name):
    """File name for an ONNX value name (same rule as tessera-run)."""
    s = _BAD.sub("_", name)
    # '.' and '..' are not usable as file names.
    if s in ("", ".", ".."):
        s = s.replace(".", "_") or "_"
    return s


def fingerprint(*parts):
    """Stable hash of strings/bytes; used to invalidate cached cases when a generator changes."""
    h = hashlib.sha1()
    h.update(("layout%d" % LAYOUT_VERSION).encode())
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def read_meta(case_dir):
    path = os.path.join(case_dir, "case.json")
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def is_current(case_dir, fp):
    """True if case_dir holds a complete case generated with fingerprint fp."""
    meta = read_meta(case_dir)
    return meta is not None and meta.get("fingerprint") == fp


def _tensor_entries(arrays, sub):
    out, seen = [], set()
    for name, arr in arrays.items():
        fname = sanitize(name)
        if fname in seen:
            raise ValueError("two values map to the same file name %r" % fname)
        seen.add(fname)
        out.append({"name": name, "file": "%s/%s.npy" % (sub, fname),
                    "shape": list(arr.shape), "dtype": str(arr.dtype)})
    return out


def write_case(case_dir, case_id, kind, fp, model_bytes, inputs, expected, notes=None):
    """Atomically writes a case. inputs/expected: ordered dict name -> np.ndarray.

    model_bytes: serialized ModelProto (bytes) or a path to an existing .onnx file.
    """
    for name, arr in list(inputs.items()) + list(expected.items()):
        if not isinstance(arr, np.ndarray):
            raise TypeError("%s: %s is not an ndarray" % (case_id, name))
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise ValueError("%s: %s contains non-finite values" % (case_id, name))
    parent = os.path.dirname(os.path.abspath(case_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-" + os.path.basename(case_dir) + "-", dir=parent)
    try:
        os.makedirs(os.path.join(tmp, "inputs"))
        os.makedirs(os.path.join(tmp, "expected"))
        if isinstance(model_bytes, (bytes, bytearray)):
            with open(os.path.join(tmp, "model.onnx"), "wb") as f:
                f.write(model_bytes)
        else:
            shutil.copyfile(model_bytes, os.path.join(tmp, "model.onnx"))
        meta = {
            "id": case_id,
            "kind": kind,
            "fingerprint": fp,
            "opset": OPSET,
            "inputs": _tensor_entries(inputs, "inputs"),
            "outputs": _tensor_entries(expected, "expected"),
            "notes": notes or {},
        }
        for entries, arrays in ((meta["inputs"], inputs), (meta["outputs"], expected)):
            for e in entries:
                # (not np.ascontiguousarray: it turns 0-d arrays into shape (1,))
                np.save(os.path.join(tmp, e["file"]), np.array(arrays[e["name"]], order="C"))
        with open(os.path.join(tmp, "case.json"), "w") as f:
            json.dump(meta, f, indent=1)
            f.write("\n")
        if os.path.exists(case_dir):
            shutil.rmtree(case_dir, ignore_errors=True)
        try:
            os.rename(tmp, case_dir)
        except OSError:
            # another generator (a parallel harness run) got there first
            if not is_current(case_dir, fp):
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return meta


def check_onnx(path_or_model):
    """onnx.checker with full (strict) shape inference; returns the loaded ModelProto."""
    import onnx
    model = onnx.load(path_or_model) if isinstance(path_or_model, str) else path_or_model
    onnx.checker.check_model(model, full_check=True)
    return model


def op_histogram(model):
    """Counter of op types (including nodes inside subgraphs) of a ModelProto."""
    from collections import Counter
    c = Counter()

    def walk(graph):
        for n in graph.node:
            c[n.op_type if n.domain in ("", "ai.onnx") else n.domain + "::" + n.op_type] += 1
            for a in n.attribute:
                if a.g is not None and a.g.node:
                    walk(a.g)
                for g in a.graphs:
                    walk(g)
    walk(model.graph)
    return c
