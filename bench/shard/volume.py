#!/usr/bin/python3
"""bench/shard: communication of partitioned programs against the analytical minimum.

Compiles e2e models with `tessera-compile --mesh --shard-spec --emit=spmd` under data-,
tensor- (Megatron) and mixed parallel specs, reads the collectives of the SPMD program, and
reports per device the bytes each sends (ring algorithms: all-reduce 2(n-1)/n of the
tensor, reduce-scatter, all-gather and all-to-all (n-1)/n, all-slice nothing, shift its whole
input), the
time in an alpha-beta model, and the analytical minimum for the spec:
  - data parallel training step: every gradient all-reduced once over `data`, and the loss;
  - Megatron MLP forward: one all-reduce of the second layer's output over `model`.

    /usr/bin/python3 bench/shard/volume.py [--alpha-us 20] [--gbps 10]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "test", "e2e"))
BIN = os.environ.get("TESSERA_BIN_DIR", os.path.join(REPO, "build", "bin"))

COLLECTIVE = re.compile(
    r"shard\.(all_reduce|reduce_scatter|all_gather|all_slice|all_to_all|shift) .* "
    r"grid_axes = \[([0-9, ]*)\]"
    r".*: tensor<([0-9x]*)x?(f32|f16|bf16|i64|i32)> -> tensor<([0-9x]*)x?(?:f32|f16|bf16|i64|i32)>")
BYTES = {"f32": 4, "i32": 4, "f16": 2, "bf16": 2, "i64": 8}


def elems(shape):
    n = 1
    for d in shape.split("x"):
        if d:
            n *= int(d)
    return n


def volume(ir, mesh, alpha, beta):
    """(collective count, bytes sent per device, modelled seconds) of an SPMD program."""
    count, sent, seconds = 0, 0.0, 0.0
    for m in COLLECTIVE.finditer(ir):
        kind, axes, ins, et, outs = m.groups()
        n = 1
        for a in axes.split(","):
            if a.strip():
                n *= mesh[int(a)]
        b_in, b_out = elems(ins) * BYTES[et], elems(outs) * BYTES[et]
        if kind == "all_reduce":
            v, steps = 2 * (n - 1) / n * b_in, 2 * (n - 1)
        elif kind == "reduce_scatter":
            v, steps = (n - 1) / n * b_in, n - 1
        elif kind == "all_gather":
            v, steps = (n - 1) / n * b_out, n - 1
        elif kind == "all_to_all":
            v, steps = (n - 1) / n * b_in, n - 1
        elif kind == "shift":
            v, steps = b_in, 1
        else:
            v, steps = 0.0, 0
        count += kind != "all_slice"
        sent += v
        seconds += steps * alpha + v / beta
    return count, sent, seconds


def compile_spmd(onnx_path, mesh_text, spec, train):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
    cmd = [os.path.join(BIN, "tessera-compile"), "-q", onnx_path, "--mesh=" + mesh_text,
           "--shard-spec=" + f.name, "--emit=spmd", "-o", "-"]
    if train:
        cmd += ["--train", "--loss=cross-entropy", "--optimizer=sgd"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    os.unlink(f.name)
    if p.returncode:
        raise RuntimeError(p.stderr.strip().splitlines()[-1])
    return p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--alpha-us", type=float, default=20)
    ap.add_argument("--gbps", type=float, default=10)
    ap.add_argument("--workdir", default=os.path.join(REPO, "build", "bench-shard"))
    a = ap.parse_args()
    alpha, beta = a.alpha_us * 1e-6, a.gbps * 1e9 / 8
    import models
    import train_e2e
    import onnx
    from onnx import numpy_helper
    os.makedirs(a.workdir, exist_ok=True)
    model, inputs = models.build("mlp")
    path = os.path.join(a.workdir, "mlp.onnx")
    train_e2e.export(model, inputs, path)
    g = onnx.load(path).graph
    params = {i.name: numpy_helper.to_array(i).nbytes for i in g.initializer}
    out_bytes = 4 * 256 * 4  # the second layer's output, [4, 256] f32
    print("alpha-beta model: %.0f us per step, %.0f Gb/s; ring collectives; bytes sent per "
          "device" % (a.alpha_us, a.gbps))
    print("| model | parallelism | mesh | collectives | sent per device (B) | analytical "
          "minimum (B) | ratio | modelled time (us) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    megatron = {"0.weight": "[{model}, {}]", "0.bias": "[{model}]",
                "2.weight": "[{}, {model}]"}
    cases = []
    for n in (2, 4):
        cases.append(("data, training step", "data=%d" % n, [n],
                      {"input": "[{data}, {}]"}, True,
                      2 * (n - 1) / n * (sum(params.values()) + 4)))
        cases.append(("tensor (Megatron), forward", "model=%d" % n, [n], megatron, False,
                      2 * (n - 1) / n * out_bytes))
    cases.append(("mixed (data=2, Megatron model=2), forward", "data=2,model=2", [2, 2],
                  dict(megatron, input="[{data}, {}]"), False,
                  2 * (2 - 1) / 2 * out_bytes / 2))
    for name, mesh_text, mesh, spec, train, minimum in cases:
        ir = compile_spmd(path, mesh_text, spec, train)
        count, sent, secs = volume(ir, mesh, alpha, beta)
        print("| MLP | %s | %s | %d | %.0f | %.0f | %.2f | %.1f |"
              % (name, mesh_text, count, sent, minimum, sent / minimum if minimum else 0,
                 secs * 1e6))


if __name__ == "__main__":
    main()
