#!/usr/bin/python3
"""Sharded runs end to end: partitioned programs on 2, 4 and 8 MPI ranks against the
unsharded program.

Usage:
    python3 test/e2e/shard_e2e.py [--cases NAME,...] [--workdir DIR] [--list]

For each case (a model of test/e2e/models.py, a mesh, a sharding spec, and whether it is a
training step):
  1. export the model to ONNX; compile it plainly and with
     `tessera-compile --mesh=M --shard-spec=S` (a training step with --train first);
  2. make seeded inputs for the plain artifact's signature (token ids in range);
  3. run the plain artifact with tessera-run, and the partitioned one with
     `mpirun --oversubscribe -np N tessera-run` (one process per mesh device; the runtime cuts
     each device's shards out of the whole inputs, collectives go through MPI, rank 0 writes
     the gathered outputs);
  4. every output must match: max|sharded - plain| <= 1e-4 * max(1, max|plain|) (fp32: the
     collectives add partial sums in another order), and the case's expected collectives
     must be in the SPMD program (so that a case cannot pass by not partitioning).
Prints PASS/FAIL per case and `N passed, M failed`; exit status 1 if anything failed, 77
(skip) when mpirun is missing.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("TESSERA_BIN_DIR", os.path.join(REPO, "build", "bin"))
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")

MLP_MEGATRON = {"0.weight": "[{model}, {}]", "0.bias": "[{model}]", "2.weight": "[{}, {model}]"}
# GPT block: the MLP Megatron-style; attention's output projection split by rows (its input,
# the heads, arrive split by columns from the qkv projection, split by columns).
GPT_MEGATRON = {"onnx::MatMul_147": "[{}, {model}]", "mlp.0.bias": "[{model}]",
                "onnx::MatMul_148": "[{model}, {}]",
                "onnx::MatMul_122": "[{}, {model}]", "onnx::MatMul_146": "[{model}, {}]"}
ENCODER_MEGATRON = {"onnx::MatMul_429": "[{}, {model}]", "onnx::MatMul_430": "[{model}, {}]",
                    "layers.0.linear1.bias": "[{model}]"}

# Variants with a larger batch (and smaller images) for data parallelism: name -> (model of
# models.py, input shape or None for the model's own).
VARIANTS = {
    "resnet18-b8": ("resnet18", (8, 3, 64, 64)),
    "mobilenet_v2-b8": ("mobilenet_v2", (8, 3, 64, 64)),
    "transformer_encoder-b4": ("transformer_encoder", (4, 128, 256)),
    "gpt_block-b4": ("gpt_block", (4, 64)),
}

# name: (model, mesh, spec, train, collectives the SPMD program must contain)
CASES = {
    "mlp-data-2": ("mlp", "data=2", {"input": "[{data}, {}]"}, False, []),
    "mlp-data-4": ("mlp", "data=4", {"input": "[{data}, {}]"}, False, []),
    "mlp-megatron-2": ("mlp", "model=2", MLP_MEGATRON, False, ["all_reduce"]),
    "mlp-megatron-4": ("mlp", "model=4", MLP_MEGATRON, False, ["all_reduce"]),
    "mlp-megatron-8": ("mlp", "model=8", MLP_MEGATRON, False, ["all_reduce"]),
    # The third layer split by its contraction too: the second layer's partial sum is
    # reduce-scattered (each device keeps its half of the hidden units).
    "mlp-reduce-scatter-2": ("mlp", "model=2", dict(MLP_MEGATRON, **{"4.weight": "[{}, {model}]"}),
                             False, ["reduce_scatter", "all_reduce"]),
    "mlp-reduce-scatter-8": ("mlp", "model=8", dict(MLP_MEGATRON, **{"4.weight": "[{}, {model}]"}),
                             False, ["reduce_scatter", "all_reduce"]),
    "mlp-mixed-4": ("mlp", "data=2,model=2", dict(MLP_MEGATRON, input="[{data}, {}]"), False,
                    ["all_reduce"]),
    "mlp-mixed-8": ("mlp", "data=2,model=4", dict(MLP_MEGATRON, input="[{data}, {}]"), False,
                    ["all_reduce"]),
    "mlp-train-data-2": ("mlp", "data=2", {"input": "[{data}, {}]", "target": "[{data}, {}]"},
                         True, ["all_reduce"]),
    "mlp-train-data-4": ("mlp", "data=4", {"input": "[{data}, {}]", "target": "[{data}, {}]"},
                         True, ["all_reduce"]),
    "mlp-train-mixed-8": ("mlp", "data=2,model=4",
                          dict(MLP_MEGATRON, input="[{data}, {}]", target="[{data}, {}]"),
                          True, ["all_reduce"]),
    "gpt-megatron-2": ("gpt_block", "model=2", GPT_MEGATRON, False, ["all_reduce"]),
    "gpt-megatron-4": ("gpt_block", "model=4", GPT_MEGATRON, False, ["all_reduce"]),
    "gpt-sequence-2": ("gpt_block", "seq=2", {"tokens": "[{}, {seq}]"}, False, []),
    "gpt-mixed-4": ("gpt_block", "seq=2,model=2", dict(GPT_MEGATRON, tokens="[{}, {seq}]"),
                    False, ["all_reduce"]),
    "gpt-train-megatron-2": ("gpt_block", "model=2", GPT_MEGATRON, True, ["all_reduce"]),
    "encoder-megatron-2": ("transformer_encoder", "model=2", ENCODER_MEGATRON, False,
                           ["all_reduce"]),
    "encoder-megatron-8": ("transformer_encoder", "model=8", ENCODER_MEGATRON, False,
                           ["all_reduce"]),
    "encoder-data-8": ("transformer_encoder", "data=8", {"input": "[{}, {data}, {}]"}, False,
                       []),
    "gpt-data-4": ("gpt_block-b4", "data=4", {"tokens": "[{data}, {}]"}, False, []),
    "gpt-mixed-8": ("gpt_block-b4", "data=2,model=4", dict(GPT_MEGATRON, tokens="[{data}, {}]"),
                    False, ["all_reduce"]),
    "gpt-train-mixed-4": ("gpt_block-b4", "data=2,model=2",
                          dict(GPT_MEGATRON, tokens="[{data}, {}]", target="[{data}, {}, {}]"),
                          True, ["all_reduce"]),
    "encoder-data-4": ("transformer_encoder-b4", "data=4", {"input": "[{data}, {}, {}]"}, False,
                       []),
    "encoder-mixed-8": ("transformer_encoder-b4", "data=2,model=4",
                        dict(ENCODER_MEGATRON, input="[{data}, {}, {}]"), False, ["all_reduce"]),
    "resnet18-data-8": ("resnet18-b8", "data=8", {"input": "[{data}, {}, {}, {}]"}, False, []),
    "resnet18-mixed-4": ("resnet18-b8", "data=2,rows=2", {"input": "[{data}, {}, {rows}, {}]"},
                         False, ["shift"]),
    "mobilenet-data-4": ("mobilenet_v2-b8", "data=4", {"input": "[{data}, {}, {}, {}]"}, False,
                         []),
    "mobilenet-spatial-2": ("mobilenet_v2-b8", "rows=2", {"input": "[{}, {}, {rows}, {}]"},
                            False, ["shift"]),
    "resnet18-spatial-2": ("resnet18", "rows=2", {"input": "[{}, {}, {rows}, {}]"}, False,
                           ["shift"]),
    "resnet18-spatial-4": ("resnet18", "rows=2,cols=2", {"input": "[{}, {}, {rows}, {cols}]"},
                           False, ["shift"]),
}
# Pipelines: name -> (model, the stages' meshes ("none": one device), spec, micro-batches).
PIPELINES = {
    "mlp-pipeline-2x2": ("mlp", ["model=2", "model=2"], MLP_MEGATRON, 2),
    "gpt-pipeline-3x2": ("gpt_block", ["model=2", "model=2", "model=2"], GPT_MEGATRON, 2),
    "encoder-pipeline-4": ("transformer_encoder", ["none"] * 4, {}, 3),
    "resnet18-pipeline-3": ("resnet18-b8", ["rows=2", "none", "none"],
                            {"input": "[{}, {}, {rows}, {}]"}, 2),
}

LOSS = {"mlp": "cross-entropy", "gpt_block": "cross-entropy", "resnet18": "cross-entropy",
        "transformer_encoder": "mse", "gpt_block-b4": "cross-entropy"}


def run(cmd, timeout=1800):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, env=ENV)
    if p.returncode != 0:
        tail = "\n".join((p.stdout + p.stderr).splitlines()[-25:])
        raise RuntimeError("%s failed (exit %d):\n%s" % (" ".join(cmd[:3]), p.returncode, tail))
    return p.stdout + p.stderr


def devices(mesh):
    n = 1
    for part in mesh.split(","):
        n *= int(part.split("=")[1])
    return n


def signature(tsr):
    info = run([os.path.join(BIN, "tessera-run"), tsr, "--info"])
    ins = re.findall(r"^  input '([^']+)': \[([0-9,]*)\] \((\w+)\)", info, re.M)
    return [(n, tuple(int(d) for d in s.split(",") if d), t) for n, s, t in ins]


def make_inputs(tsr, directory, onnx_path):
    """Seeded inputs for every input of `tsr`: initializers keep their values (a training
    step's parameters), integers are token ids below the embedding's rows."""
    import onnx
    from onnx import numpy_helper
    inits = {i.name: numpy_helper.to_array(i) for i in onnx.load(onnx_path).graph.initializer}
    rng = np.random.RandomState(7)
    args = []
    os.makedirs(directory, exist_ok=True)
    for name, shape, dtype in signature(tsr):
        if name in inits and inits[name].shape == shape:
            a = inits[name].astype(np.float32)
        elif dtype == "i64":
            a = rng.randint(0, 64, size=shape).astype(np.int64)
        else:
            a = rng.standard_normal(shape).astype(np.float32)
        path = os.path.join(directory, "in_%d.npy" % len(args))
        np.save(path, a)
        args += ["--input", "%s=%s" % (name, path)]
    return args


def compile_model(onnx_path, out, train, model, extra=()):
    cmd = [os.path.join(BIN, "tessera-compile"), "-q", onnx_path, "-o", out] + list(extra)
    if train:
        cmd += ["--train", "--loss=" + LOSS[model], "--optimizer=sgd", "--lr=0.1"]
    run(cmd)


def check_case(name, workdir, exported, plain):
    model, mesh, spec, train, expect = CASES[name]
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    onnx_path = exported[model]
    key = (model, train)
    if key not in plain:
        tsr = os.path.join(workdir, "%s%s.tsr" % (model, "-train" if train else ""))
        compile_model(onnx_path, tsr, train, model)
        in_dir = os.path.join(workdir, "%s%s-inputs" % (model, "-train" if train else ""))
        args = make_inputs(tsr, in_dir, onnx_path)
        out_dir = os.path.join(workdir, "%s%s-out" % (model, "-train" if train else ""))
        run([os.path.join(BIN, "tessera-run"), tsr, "-o", out_dir] + args)
        plain[key] = (args, out_dir)
    args, ref_dir = plain[key]
    spec_path = os.path.join(d, "spec.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    flags = ["--mesh=" + mesh, "--shard-spec=" + spec_path]
    spmd = os.path.join(d, "spmd.mlir")
    compile_model(onnx_path, spmd, train, model, flags + ["--emit=spmd"])
    with open(spmd) as f:
        ir = f.read()
    counts = {c: len(re.findall(r"shard\.%s " % c, ir))
              for c in ("all_reduce", "reduce_scatter", "all_gather", "all_slice",
                        "all_to_all", "shift")}
    missing = [c for c in expect if counts[c] == 0]
    if missing:
        return False, "the SPMD program has no %s (%s)" % (", ".join(missing), counts)
    tsr = os.path.join(d, "model.tsr")
    compile_model(onnx_path, tsr, train, model, flags)
    out_dir = os.path.join(d, "out")
    shutil.rmtree(out_dir, ignore_errors=True)
    n = devices(mesh)
    log = run(["mpirun", "--oversubscribe", "--bind-to", "none", "-np", str(n),
               os.path.join(BIN, "tessera-run"), tsr, "-o", out_dir] + args)
    if "partitioned: %d devices" % n not in log:
        return False, "tessera-run did not run the model partitioned:\n" + log[-800:]
    worst, detail = 0.0, []
    for f in sorted(os.listdir(ref_dir)):
        ref = np.load(os.path.join(ref_dir, f))
        got = np.load(os.path.join(out_dir, f))
        if got.shape != ref.shape:
            return False, "%s: shape %s, expected %s" % (f, got.shape, ref.shape)
        err = float(np.abs(got.astype(np.float64) - ref).max()) if ref.size else 0.0
        bar = 1e-4 * max(1.0, float(np.abs(ref).max()) if ref.size else 0.0)
        worst = max(worst, err / bar)
        if err > bar:
            detail.append("%s: max|diff| %.3g > %.3g" % (f, err, bar))
    colls = ", ".join("%s %d" % (c, k) for c, k in counts.items() if k)
    if detail:
        return False, "; ".join(detail)
    return True, "%d ranks, %d outputs, worst error %.2g of the bar; collectives: %s" % (
        n, len(os.listdir(ref_dir)), worst, colls or "none")


def check_pipeline(name, workdir, exported, plain):
    """A pipeline of stage artifacts on M micro-batches against the plain artifact run on
    each micro-batch: both transfers (broadcast, send/recv) must give its outputs."""
    model, meshes, spec, micro = PIPELINES[name]
    d = os.path.join(workdir, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    onnx_path = exported[model]
    tsr = os.path.join(workdir, model + ".tsr")
    if not os.path.exists(tsr):
        compile_model(onnx_path, tsr, False, model)
    # M micro-batches of seeded inputs; the reference runs each alone.
    rng = np.random.RandomState(13)
    sig = signature(tsr)
    whole, refs = {}, []
    for j in range(micro):
        args = []
        for n, shape, dtype in sig:
            a = (rng.randint(0, 64, size=shape).astype(np.int64) if dtype == "i64"
                 else rng.standard_normal(shape).astype(np.float32))
            whole.setdefault(n, []).append(a)
            path = os.path.join(d, "in_%s_%d.npy" % (len(args), j))
            np.save(path, a)
            args += ["--input", "%s=%s" % (n, path)]
        out = os.path.join(d, "ref_%d" % j)
        run([os.path.join(BIN, "tessera-run"), tsr, "-o", out] + args)
        refs.append(out)
    args = []
    for n, arrays in whole.items():
        path = os.path.join(d, "in_%s.npy" % len(args))
        np.save(path, np.concatenate(arrays))
        args += ["--input", "%s=%s" % (n, path)]
    spec_path = os.path.join(d, "spec.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    pdir = os.path.join(d, "pipeline")
    cmd = [os.path.join(BIN, "tessera-compile"), "-q", onnx_path, "-o", pdir,
           "--pipeline-stages=%d" % len(meshes)] + ["--stage-mesh=" + m for m in meshes]
    if spec:
        cmd.append("--shard-spec=" + spec_path)
    run(cmd)
    with open(os.path.join(pdir, "pipeline.json")) as f:
        pipe = json.load(f)
    procs = sum(st["devices"] for st in pipe["stages"])
    boundary = sum(1 for st in pipe["stages"] for t in st["inputs"]
                   if t["name"] not in [i["name"] for i in pipe["inputs"]])
    if len(pipe["stages"]) != len(meshes) or boundary == 0:
        return False, "pipeline.json has %d stages and %d boundary tensors" % (
            len(pipe["stages"]), boundary)
    worst, notes = 0.0, []
    for transfer in ("broadcast", "send-recv"):
        out_dir = os.path.join(d, "out-" + transfer)
        log = run(["mpirun", "--oversubscribe", "--bind-to", "none", "-np", str(procs),
                   os.path.join(BIN, "tessera-run"), os.path.join(pdir, "pipeline.json"),
                   "--micro-batches", str(micro), "--transfer", transfer, "-o", out_dir]
                  + args)
        m = re.search(r"rank 0: ([0-9.e+-]+) ms moving", log)
        notes.append("%s %s ms" % (transfer, m.group(1) if m else "?"))
        for f in sorted(os.listdir(refs[0])):
            ref = np.concatenate([np.load(os.path.join(r, f)) for r in refs])
            got = np.load(os.path.join(out_dir, f))
            if got.shape != ref.shape:
                return False, "%s %s: shape %s, expected %s" % (transfer, f, got.shape,
                                                               ref.shape)
            err = float(np.abs(got.astype(np.float64) - ref).max())
            bar = 1e-4 * max(1.0, float(np.abs(ref).max()))
            worst = max(worst, err / bar)
            if err > bar:
                return False, "%s %s: max|diff| %.3g > %.3g" % (transfer, f, err, bar)
    return True, "%d stages on %d processes (%s), %d micro-batches, %d boundary tensors; " \
        "worst error %.2g of the bar; moving boundary tensors on rank 0: %s" % (
            len(meshes), procs, ", ".join(meshes), micro, boundary, worst, ", ".join(notes))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", default=",".join(list(CASES) + list(PIPELINES)))
    ap.add_argument("--workdir", default=os.path.join(REPO, "build", "e2e", "shard"))
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args(argv)
    if a.list:
        for k, v in CASES.items():
            print("%-20s %-20s mesh %-16s %s" % (k, v[0] + (" (train)" if v[3] else ""),
                                                 v[1], json.dumps(v[2])))
        for k, v in PIPELINES.items():
            print("%-20s %-20s stages %s, %d micro-batches %s" % (
                k, v[0], ";".join(v[1]), v[3], json.dumps(v[2])))
        return 0
    if not shutil.which("mpirun"):
        print("SKIP: mpirun not found (install openmpi-bin)")
        return 77
    names = [c for c in a.cases.split(",") if c]
    unknown = [c for c in names if c not in CASES and c not in PIPELINES]
    if unknown:
        print("unknown cases: %s (see --list)" % ", ".join(unknown))
        return 2
    import models
    import train_e2e
    os.makedirs(a.workdir, exist_ok=True)
    exported, plain = {}, {}
    passed = failed = 0
    for name in names:
        model = (CASES.get(name) or PIPELINES[name])[0]
        t0 = time.time()
        try:
            if model not in exported:
                base, shape = VARIANTS.get(model, (model, None))
                m, inputs = models.build(base)
                if shape:
                    rng = np.random.RandomState(11)
                    inputs = {k: (rng.randint(0, 512, size=shape).astype(v.dtype)
                                  if v.dtype.kind == "i" else
                                  rng.standard_normal(shape).astype(v.dtype))
                              for k, v in inputs.items()}
                m = train_e2e.fold_batch_norm(m)
                path = os.path.join(a.workdir, model + ".onnx")
                train_e2e.export(m, inputs, path)
                exported[model] = path
            if name in PIPELINES:
                ok, msg = check_pipeline(name, a.workdir, exported, plain)
            else:
                ok, msg = check_case(name, a.workdir, exported, plain)
        except Exception as e:  # report and go on with the next case
            ok, msg = False, str(e)
        print("%s %s (%.1f s): %s" % ("PASS" if ok else "FAIL", name, time.time() - t0, msg),
              flush=True)
        passed += ok
        failed += not ok
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
