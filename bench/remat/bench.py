#!/usr/bin/python3
"""bench/remat: every rematerialization method on the same graphs and budgets, in one run.

Graphs: Tessera's own training steps (ResNet-18, the transformer encoder, the GPT block:
`tessera-compile --train --remat-dump-graph`, the graph the remat pass sees) and the Moccasin
paper's instances when present (random layered graphs RL100/RL250 and Checkmate's training
graphs, networkx JSON in ../shared/data/remat-graphs, or --instances DIR). Budgets: 70/80/90%
of each graph's no-remat peak. Methods: no-remat, Chen sqrt(n), greedy, Moccasin (Z3),
Checkmate MILP (CBC). Per run: solve time, compute overhead (total compute / no-remat compute),
peak / budget. Writes bench/remat/results.json and prints a markdown table (with machine,
date and commit) for docs/benchmarks.md.

    /usr/bin/python3 bench/remat/bench.py [--time-limit 60] [--models resnet18,...]
                                          [--instances DIR] [--quick] [--large]

--large runs the paper's large random layered graphs instead (RL500, RL1000; no training
graphs) and writes bench/remat/results_large.json. bench/remat/table.py turns either file
into the table of docs/benchmarks.md.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "test", "e2e"))
BIN = os.environ.get("TESSERA_BIN_DIR", os.path.join(REPO, "build", "bin"))
DEFAULT_INSTANCES = os.path.join(os.path.dirname(REPO), "shared", "data", "remat-graphs")
INSTANCES = ["random_layered_n100_w0.27_nlv0.75_ed0.2_scd0.14.json",
             "random_layered_n250_w0.43_nlv0.75_ed0.2_scd0.14.json",
             "VGG16__MLSys__256__224_224_3__train_nx.json",
             "MobileNet__MLSys__512__224_224_3__train_nx.json",
             "ResNet50__MLSys__256__224_224_3__train_nx.json"]
LARGE_INSTANCES = ["random_layered_n500_w0.36_nlv0.75_ed0.2_scd0.14.json",
                   "random_layered_n1000_w0.31_nlv0.75_ed0.2_scd0.14.json"]
LOSS = {"resnet18": "cross-entropy", "transformer_encoder": "mse",
        "gpt_block": "cross-entropy", "mlp": "cross-entropy"}


def training_graph(name, workdir, batch):
    import models
    import numpy as np
    import train_e2e
    import torch
    torch.manual_seed(0)
    model, inputs = models.build(name)
    # The e2e inputs have batch 1, where the parameters outweigh the activations; training
    # runs at larger batches, where the activations (what remat can save) dominate.
    inputs = {k: np.repeat(v, batch, axis=0) for k, v in inputs.items()}
    model = train_e2e.fold_batch_norm(model)
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    onnx_path = os.path.join(d, "model.onnx")
    train_e2e.export(model, inputs, onnx_path)
    out = os.path.join(d, "remat_graph.json")
    subprocess.run([os.path.join(BIN, "tessera-compile"), "-q", onnx_path, "--train",
                    "--loss=" + LOSS[name], "--optimizer=sgd", "--remat-dump-graph=" + out,
                    "--emit=linalg", "-o", os.devnull], check=True)
    # Name the graph after the model.
    g = json.load(open(out))
    g["graph"]["name"] = "%s step, batch %d (ours)" % (name, batch)
    json.dump(g, open(out, "w"))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--time-limit", type=float, default=60)
    ap.add_argument("--models", default="resnet18,transformer_encoder,gpt_block")
    ap.add_argument("--instances", default=DEFAULT_INSTANCES)
    ap.add_argument("--budgets", default="0.7,0.8,0.9")
    ap.add_argument("--batch", type=int, default=8, help="batch size of our training graphs")
    ap.add_argument("--workdir", default=os.path.join(REPO, "build", "bench-remat"))
    ap.add_argument("--quick", action="store_true", help="5 s limit, RL100 and one model")
    ap.add_argument("--large", action="store_true", help="RL500 and RL1000 only")
    a = ap.parse_args()
    if a.quick:
        a.time_limit, a.models = 5, "gpt_block"
    if a.large:
        a.models = ""
    graphs = [training_graph(m, a.workdir, a.batch) for m in a.models.split(",") if m]
    if os.path.isdir(a.instances):
        for f in INSTANCES[:1] if a.quick else LARGE_INSTANCES if a.large else INSTANCES:
            p = os.path.join(a.instances, f)
            if os.path.exists(p):
                graphs.append(p)
    else:
        print("note: no instances at %s (pass --instances)" % a.instances, file=sys.stderr)
    out_json = os.path.join(a.workdir, "results.json") if a.quick else \
        os.path.join(HERE, "results_large.json" if a.large else "results.json")
    cmd = [os.path.join(BIN, "tessera-remat-bench"), "--budgets=" + a.budgets,
           "--time-limit=%g" % a.time_limit, "--json=" + out_json] + graphs
    subprocess.run(cmd, check=True)
    rows = json.load(open(out_json))
    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    print()
    print("Machine: %s, %d cores; date %s; commit %s; time limit %g s per exact solve."
          % (platform.processor() or platform.machine(), os.cpu_count(),
             datetime.date.today().isoformat(), commit, a.time_limit))
    print()
    print("| graph | n | budget | method | fits | optimal | solve s | compute overhead | "
          "peak / budget |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print("| %s | %d | %d%% | %s | %s | %s | %.2f | %s | %s |" % (
            r["graph"][:40], r["nodes"], round(100 * r["budget_fraction"]), r["method"],
            "yes" if r["fits"] else "no", "yes" if r["optimal"] else "",
            r["seconds"], "%.4f" % r["overhead"] if r["overhead"] >= 0 else "-",
            "%.3f" % (r["peak_bytes"] / r["budget_bytes"]) if r["peak_bytes"] >= 0 else "-"))


if __name__ == "__main__":
    main()
