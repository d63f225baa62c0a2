"""Checks the runtime's .npy reader and writer against numpy itself.

usage: numpy_compat.py TESSERA_NPY_ROUNDTRIP WORK_DIR

For every supported dtype and a few shapes: numpy writes a file, the runtime
reads and rewrites it, and the rewrite must load in numpy as the same array
and be byte-identical to numpy's own file. Files numpy writes that the runtime
must refuse (Fortran order, big-endian, complex) must be refused.
"""
import os
import subprocess
import sys

import numpy as np

tool, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(0)
failures = 0

for dtype in ["<f4", "<f8", "<f2", "|i1", "|u1", "<i2", "<i4", "<i8", "|b1"]:
    for shape in [(), (5,), (2, 3, 4), (0, 7), (1, 1, 1, 1, 1, 3)]:
        a = (rng.standard_normal(shape) * 50).astype(dtype)
        src = os.path.join(work, "in.npy")
        dst = os.path.join(work, "out.npy")
        np.save(src, a)
        r = subprocess.run([tool, src, dst], capture_output=True, text=True)
        label = f"{dtype} {shape}"
        if r.returncode != 0:
            print(f"FAIL {label}: {r.stderr.strip()}")
            failures += 1
            continue
        b = np.load(dst)
        if b.dtype != a.dtype or b.shape != a.shape or not np.array_equal(
                a, b, equal_nan=a.dtype.kind == "f"):
            print(f"FAIL {label}: numpy reads back {b.dtype} {b.shape}")
            failures += 1
        elif open(src, "rb").read() != open(dst, "rb").read():
            print(f"FAIL {label}: not byte-identical to numpy's file")
            failures += 1

refused = {
    "fortran": (np.asfortranarray(np.ones((2, 3), np.float32)), "Fortran-order"),
    "big-endian": (np.ones(3, ">i4"), "big-endian"),
    "complex": (np.ones(3, np.complex64), "unsupported dtype '<c8'"),
}
for name, (a, message) in refused.items():
    src = os.path.join(work, name + ".npy")
    np.save(src, a)
    r = subprocess.run([tool, src, os.path.join(work, "x.npy")],
                       capture_output=True, text=True)
    if r.returncode == 0 or message not in r.stderr:
        print(f"FAIL {name}: expected an error mentioning {message!r}, got "
              f"exit {r.returncode}: {r.stderr.strip()}")
        failures += 1

print("numpy compatibility:", "FAILED" if failures else "ok")
sys.exit(1 if failures else 0)
