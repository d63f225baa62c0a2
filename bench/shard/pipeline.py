#!/usr/bin/python3
"""bench/shard: pipelines on this machine, boundary tensors by broadcast vs send/recv.

Compiles e2e models with `tessera-compile --pipeline-stages=S --stage-mesh=...` and times
`mpirun -np P tessera-run DIR/pipeline.json --micro-batches M --bench N --transfer T` for
both transfers: the median step time and the time rank 0 (a device of the first stage, a
sender) spends moving boundary tensors. One machine: every process shares its cores and
memory, so this measures the runtime's overheads, not a network.

    /usr/bin/python3 bench/shard/pipeline.py [--runs 5] [--micro-batches 4]
"""

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "test", "e2e"))
BIN = os.environ.get("TESSERA_BIN_DIR", os.path.join(REPO, "build", "bin"))
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")

# name: (model, stage meshes)
CASES = {
    "GPT block, 2 stages x model=4": ("gpt_block", ["model=4", "model=4"]),
    "transformer encoder, 2 stages x 4 devices (replicated)": (
        "transformer_encoder", ["data=4", "data=4"]),
    "transformer encoder, 4 stages x 1 device": ("transformer_encoder", ["none"] * 4),
}
SPECS = {"gpt_block": {"onnx::MatMul_147": "[{}, {model}]", "mlp.0.bias": "[{model}]",
                       "onnx::MatMul_148": "[{model}, {}]"}}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--micro-batches", type=int, default=4)
    ap.add_argument("--workdir", default=os.path.join(REPO, "build", "bench-shard"))
    a = ap.parse_args()
    import numpy as np
    import models
    import train_e2e
    os.makedirs(a.workdir, exist_ok=True)
    print("| case | processes | micro-batches | transfer | step median ms | rank 0 moving "
          "boundary tensors ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, (model, meshes) in CASES.items():
        m, inputs = models.build(model)
        onnx_path = os.path.join(a.workdir, model + ".onnx")
        train_e2e.export(m, inputs, onnx_path)
        d = os.path.join(a.workdir, "pipeline-" + re.sub(r"\W+", "-", name))
        cmd = [os.path.join(BIN, "tessera-compile"), "-q", onnx_path, "-o", d,
               "--pipeline-stages=%d" % len(meshes)] + ["--stage-mesh=" + s for s in meshes]
        if model in SPECS:
            spec = os.path.join(a.workdir, model + "-pipeline-spec.json")
            with open(spec, "w") as f:
                json.dump(SPECS[model], f)
            cmd.append("--shard-spec=" + spec)
        subprocess.run(cmd, check=True)
        with open(os.path.join(d, "pipeline.json")) as f:
            procs = sum(s["devices"] for s in json.load(f)["stages"])
        args = []
        for n, x in inputs.items():
            p = os.path.join(d, n + ".npy")
            np.save(p, np.concatenate([x] * a.micro_batches))
            args += ["--input", "%s=%s" % (n, p)]
        for transfer in ("broadcast", "send-recv"):
            out = subprocess.run(
                ["mpirun", "--oversubscribe", "--bind-to", "none", "-np", str(procs),
                 os.path.join(BIN, "tessera-run"), os.path.join(d, "pipeline.json"),
                 "--micro-batches", str(a.micro_batches), "--transfer", transfer,
                 "--bench", str(a.runs), "--warmup", "1"] + args,
                capture_output=True, text=True, env=ENV, check=True).stdout
            med = re.search(r"median ([0-9.e+-]+) ms", out).group(1)
            moving = re.search(r"rank 0: ([0-9.e+-]+) ms moving", out).group(1)
            print("| %s | %d | %d | %s | %s | %s |" % (name, procs, a.micro_batches,
                                                    transfer, med, moving), flush=True)


if __name__ == "__main__":
    main()
