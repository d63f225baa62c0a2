#!/usr/bin/env python3
"""Compiles two tessera-dialect programs (@main) for the CPU, runs both on the
same seeded random inputs and fails unless their outputs agree.

  compare_programs.py ORIGINAL.mlir DERIVED.mlir --shape 1x8x10x10 --shape ...

tessera-compile and tessera-run come from PATH. Prints the max error.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("command failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr))


def outputs(model, inputs, work, tag):
    art = os.path.join(work, tag + ".tsr")
    run(["tessera-compile", "-q", model, "-o", art])
    out = os.path.join(work, tag)
    cmd = ["tessera-run", art, "-o", out]
    for f in inputs:
        cmd += ["-i", f]
    run(cmd)
    return [np.load(f) for f in sorted(glob.glob(os.path.join(out, "*.npy")))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("original")
    ap.add_argument("derived")
    ap.add_argument("--shape", action="append", default=[])
    ap.add_argument("--rtol", type=float, default=1e-4)
    a = ap.parse_args()
    rng = np.random.default_rng(1234)
    with tempfile.TemporaryDirectory() as work:
        inputs = []
        for i, s in enumerate(a.shape):
            f = os.path.join(work, "in%d.npy" % i)
            np.save(f, rng.standard_normal([int(d) for d in s.split("x")]).astype(np.float32))
            inputs.append(f)
        ref = outputs(a.original, inputs, work, "original")
        got = outputs(a.derived, inputs, work, "derived")
        if len(ref) != len(got) or not ref:
            sys.exit("output counts differ: %d vs %d" % (len(ref), len(got)))
        for r, g in zip(ref, got):
            if r.shape != g.shape:
                sys.exit("shapes differ: %s vs %s" % (r.shape, g.shape))
            err = float(np.max(np.abs(r - g)))
            scale = max(1.0, float(np.max(np.abs(r))))
            print("max_abs_err %.3g scale %.3g" % (err, scale))
            if not err <= a.rtol * scale:
                sys.exit("MISMATCH: max_abs_err %.3g > %.3g" % (err, a.rtol * scale))
    print("MATCH")


if __name__ == "__main__":
    main()
