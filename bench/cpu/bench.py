#!/usr/bin/python3
"""Tessera CPU benchmark: compile + latency of the e2e models against PyTorch and ONNX Runtime.

Usage:
    python3 bench/cpu/bench.py [--models all|mlp,resnet18,...] [--iters N] [--warmup W]
                               [--workdir DIR] [--out docs/benchmarks.md] [--json-out FILE]
                               [--no-torch] [--no-ort] [--no-doc]

For every model of test/e2e/models.py (cases generated on demand into WORKDIR/models, shared
with the e2e harness; default build/e2e):
  * Tessera: `tessera-compile` (wall time = compile s), then
    `tessera-run OUT.tsr --input ... --output-dir D --bench N` (median latency parsed from its
    output; the output is also checked against the reference, column "ok").
    Tools from $TESSERA_BIN_DIR, default build/bin.
  * PyTorch (Debian python3-torch), eager, torch.no_grad(), in its own process with
    torch.set_num_threads(T): T=1 (Tessera is single-threaded) and T=2 as an extra column.
  * ONNX Runtime via node (bench/cpu/ort_bench.js, onnxruntime-node, CPU EP,
    intraOpNumThreads=1), in its own process. Installed on first use with
    `ONNXRUNTIME_NODE_INSTALL=skip npm install` in bench/cpu; if that fails: 'n/a' + reason.
Each peer runs W warm-up then N timed runs of the same input; the median is reported.

Writes (replaces its own section of) docs/benchmarks.md: the table, machine (lscpu model name,
cores), date, git commit, versions, BLAS check; and the raw figures as JSON
(default bench/cpu/results.json). Figures are reported, never asserted: exit status is 0
unless the script itself breaks.

Torch must use OpenBLAS: Debian's torch calls libblas.so.3, the reference BLAS unless
libopenblas0-pthread is installed (it provides the libblas.so.3 alternative). The torch
worker reports which libblas is mapped and times a 512x512 fp32 matmul on one thread; a
warning is printed (and recorded) if it is slow.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
E2E = os.path.join(REPO, "test", "e2e")
sys.path.insert(0, E2E)
sys.path.insert(0, os.path.dirname(HERE))
from benchlib import (fmt, machine_info, parse_median_ms, ratio, thread_env,  # noqa: E402
                      update_doc)

BEGIN = "<!-- bench/cpu/bench.py: begin (generated; edits inside are overwritten) -->"
END = "<!-- bench/cpu/bench.py: end -->"
SLOW_MATMUL_MS = 30.0  # 512^3 fp32 on one core: OpenBLAS ~3-8 ms, reference BLAS ~100+ ms
TOOL_TIMEOUT = 1800


# --------------------------------------------------------------------------- peers

def run_tessera(case_dir, meta, tools, args, workdir):
    import caselib
    import numpy as np
    import run_e2e  # compare()
    r = {"compile_s": None, "ms": None, "ok": None, "note": None}
    if tools is None:
        r["note"] = args.tessera_missing
        return r
    out = os.path.join(workdir, "bench", meta["id"])
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "out"))
    tsr = os.path.join(out, "model.tsr")
    t0 = time.time()
    p = subprocess.run([tools["compile"], os.path.join(case_dir, "model.onnx"), "-o", tsr],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=TOOL_TIMEOUT)
    if p.returncode != 0:
        r["note"] = "tessera-compile failed (%d): %s" % (
            p.returncode, (p.stderr.strip().splitlines() or ["?"])[-1][:200])
        return r
    r["compile_s"] = time.time() - t0
    cmd = [tools["run"], tsr, "--output-dir", os.path.join(out, "out"), "--bench",
           str(args.iters)]
    for e in meta["inputs"]:
        cmd += ["--input", "%s=%s" % (e["name"], os.path.join(case_dir, e["file"]))]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=TOOL_TIMEOUT, env=thread_env(1))
    if p.returncode != 0:
        r["note"] = "tessera-run failed (%d): %s" % (
            p.returncode, (p.stdout.strip().splitlines() or ["?"])[-1][:200])
        return r
    r["ms"] = parse_median_ms(p.stdout)
    if r["ms"] is None:
        r["note"] = "could not parse a median from tessera-run output: %r" % p.stdout[-200:]
    ok = True
    for e in meta["outputs"]:
        got = os.path.join(out, "out", caselib.sanitize(e["name"]) + ".npy")
        if not os.path.isfile(got):
            ok = False
            continue
        _, _, why = run_e2e.compare(np.load(os.path.join(case_dir, e["file"])), np.load(got),
                                    caselib.RTOL)
        ok = ok and why is None
    r["ok"] = ok
    return r


def run_torch(name, case_dir, threads, args):
    cmd = [sys.executable, os.path.abspath(__file__), "_torch_worker", "--model", name,
           "--case-dir", case_dir, "--threads", str(threads), "--iters", str(args.iters),
           "--warmup", str(args.warmup)]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=TOOL_TIMEOUT, env=thread_env(threads))
    except subprocess.TimeoutExpired:
        return {"ms": None, "note": "torch worker timed out"}
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {"ms": None, "note": "torch worker failed: " +
            (p.stderr.strip().splitlines() or ["?"])[-1][:200]}


def ensure_ort():
    """Returns (node path, None) or (None, reason)."""
    node = shutil.which("node")
    if not node:
        return None, "node not found"
    if not os.path.isdir(os.path.join(HERE, "node_modules", "onnxruntime-node")):
        npm = shutil.which("npm")
        if not npm:
            return None, "npm not found"
        env = dict(os.environ, ONNXRUNTIME_NODE_INSTALL="skip")
        print("installing onnxruntime-node (npm install in bench/cpu) ...", flush=True)
        try:
            p = subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=HERE, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               timeout=600)
        except subprocess.TimeoutExpired:
            return None, "npm install timed out"
        if p.returncode != 0:
            lines = [l for l in p.stdout.splitlines()
                     if re.search(r"npm (error|ERR)", l) and "log" not in l.lower()]
            lines = lines or p.stdout.splitlines() or ["?"]
            return None, "npm install failed: " + " / ".join(lines[:3])[:300]
    return node, None


def run_ort(node, case_dir, meta, args):
    cmd = [node, os.path.join(HERE, "ort_bench.js"), os.path.join(case_dir, "model.onnx"),
           "--bench", str(args.iters), "--warmup", str(args.warmup), "--threads", "1", "--json"]
    for e in meta["inputs"]:
        cmd += ["--input", "%s=%s" % (e["name"], os.path.join(case_dir, e["file"]))]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=TOOL_TIMEOUT, env=thread_env(1))
    except subprocess.TimeoutExpired:
        return {"ms": None, "note": "ort timed out"}
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("{"):
            j = json.loads(line)
            return {"ms": j["median_ms"], "version": j.get("ort_version")}
    return {"ms": None, "note": "ort failed: " +
            (p.stderr.strip().splitlines() or ["?"])[-1][:200]}


# --------------------------------------------------------------------------- torch worker

def torch_worker(argv):
    ap = argparse.ArgumentParser(prog="bench.py _torch_worker")
    ap.add_argument("--model", required=True)
    ap.add_argument("--case-dir", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--iters", type=int, required=True)
    ap.add_argument("--warmup", type=int, required=True)
    a = ap.parse_args(argv)
    import numpy as np
    import torch
    import caselib
    import models
    torch.set_num_threads(a.threads)
    res = {"threads": torch.get_num_threads(), "torch_version": torch.__version__}

    # which BLAS is mapped, and how fast a 512x512 matmul is on this thread count
    blas = sorted({l.split()[-1] for l in open("/proc/self/maps")
                   if re.search(r"lib(open)?blas[^/]*\.so", l)})
    res["blas_libs"] = blas
    x, y = torch.randn(512, 512), torch.randn(512, 512)
    for _ in range(3):
        torch.mm(x, y)
    ts = []
    for _ in range(10):
        t0 = time.perf_counter()
        torch.mm(x, y)
        ts.append((time.perf_counter() - t0) * 1e3)
    res["matmul512_ms"] = statistics.median(ts)

    model, _ = models.build(a.model)
    meta = caselib.read_meta(a.case_dir)
    inputs = [torch.from_numpy(np.load(os.path.join(a.case_dir, e["file"])))
              for e in meta["inputs"]]
    with torch.no_grad():
        for _ in range(a.warmup):
            model(*inputs)
        ts = []
        for _ in range(a.iters):
            t0 = time.perf_counter()
            model(*inputs)
            ts.append((time.perf_counter() - t0) * 1e3)
    res["ms"] = statistics.median(ts)
    res["min_ms"] = min(ts)
    print(json.dumps(res))
    return 0


# --------------------------------------------------------------------------- report

def render(rows, info, args):
    L = []
    L.append(BEGIN)
    L.append("## CPU latency (bench/cpu/bench.py)")
    L.append("")
    L.append("- machine: %s, %s CPU(s)%s%s" % (
        info["cpu"], info["cpus"],
        ", %d thread(s) per core" % info["threads_per_core"] if info["threads_per_core"] else "",
        ", %d usable" % info["usable_cpus"] if info["usable_cpus"] else ""))
    L.append("- date: %s; commit: `%s`; kernel %s" % (info["date"], info["commit"],
                                                       info["kernel"]))
    L.append("- method: batch as in test/e2e/models.py, fp32, median of %d runs after %d "
             "warm-up runs, each peer in its own process" % (args.iters, args.warmup))
    L.append("- Tessera: single-threaded CPU artifact (tessera-compile / tessera-run --bench)")
    L.append("- torch: %s, eager, no_grad, torch.set_num_threads(1) (and 2: last-but-one "
             "column); BLAS: %s" % (info.get("torch_version", "n/a"), info.get("blas", "n/a")))
    L.append("- ORT: onnxruntime-node %s, CPU EP, intraOpNumThreads=1, all graph "
             "optimisations%s" % (info.get("ort_version") or "n/a",
                                  "" if not info.get("ort_note") else
                                  " -- n/a: " + info["ort_note"]))
    L.append("- ratios are Tessera ms / peer ms: below 1 means Tessera is faster")
    for w in info.get("warnings", []):
        L.append("- **warning**: " + w)
    L.append("")
    L.append("| model | tessera compile (s) | tessera (ms) | torch T=1 (ms) | ORT T=1 (ms) | "
             "tessera/torch | tessera/ORT | torch T=2 (ms) | output ok |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |")
    notes = []
    for r in rows:
        t, t1, t2, o = r["tessera"], r["torch1"], r["torch2"], r["ort"]
        ok = {True: "yes", False: "**NO**", None: "n/a"}[t.get("ok")]
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["model"], fmt(t.get("compile_s"), ".2f"), fmt(t.get("ms"), ".3f"),
            fmt(t1.get("ms"), ".3f"), fmt(o.get("ms"), ".3f"),
            fmt(ratio(t.get("ms"), t1.get("ms")), ".2f"),
            fmt(ratio(t.get("ms"), o.get("ms")), ".2f"), fmt(t2.get("ms"), ".3f"), ok))
        for peer, d in (("tessera", t), ("torch T=1", t1), ("torch T=2", t2), ("ORT", o)):
            if d.get("note"):
                notes.append("- %s, %s: %s" % (r["model"], peer, d["note"]))
    if notes:
        L.append("")
        L.append("Notes:")
        L.append("")
        # collapse identical reasons (e.g. tools missing for every model)
        seen = []
        for n in notes:
            if n not in seen:
                seen.append(n)
        L.extend(seen)
    L.append(END)
    return "\n".join(L) + "\n"


# --------------------------------------------------------------------------- main

def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_torch_worker"]:
        return torch_worker(argv[1:])
    import run_e2e
    import models
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="all")
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--workdir", default=run_e2e.DEFAULT_WORKDIR)
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "benchmarks.md"))
    ap.add_argument("--json-out", default=os.path.join(HERE, "results.json"))
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--no-ort", action="store_true")
    ap.add_argument("--no-doc", action="store_true", help="print only; write no files")
    args = ap.parse_args(argv)
    names = list(models.MODELS) if args.models == "all" else args.models.split(",")
    for n in names:
        if n not in models.MODELS:
            ap.error("unknown model %r" % n)

    info = machine_info()
    info["warnings"] = []
    tools, why = run_e2e.find_tools("tessera")
    args.tessera_missing = why
    if tools is None:
        print("warning: " + why, flush=True)
    node, ort_note = (None, "disabled (--no-ort)") if args.no_ort else ensure_ort()
    info["ort_note"] = ort_note
    if ort_note:
        print("warning: ORT: " + ort_note, flush=True)

    workdir = os.path.abspath(args.workdir)
    rows = []
    for name in names:
        case_dir = os.path.join(workdir, "models", name)
        meta = models.generate(name, case_dir)
        row = {"model": name}
        print("== %s" % name, flush=True)
        row["tessera"] = run_tessera(case_dir, meta, tools, args, workdir)
        print("   tessera: %s" % row["tessera"], flush=True)
        if args.no_torch:
            row["torch1"] = row["torch2"] = {"ms": None, "note": "disabled (--no-torch)"}
        else:
            row["torch1"] = run_torch(name, case_dir, 1, args)
            row["torch2"] = run_torch(name, case_dir, 2, args)
            print("   torch:   T=1 %s ms, T=2 %s ms" % (fmt(row["torch1"].get("ms"), ".3f"),
                                                      fmt(row["torch2"].get("ms"), ".3f")),
                  flush=True)
            for k in ("torch_version", "blas_libs", "matmul512_ms"):
                if k in row["torch1"]:
                    info.setdefault(k, row["torch1"][k])
        row["ort"] = run_ort(node, case_dir, meta, args) if node else {"ms": None}
        if row["ort"].get("version"):
            info["ort_version"] = row["ort"]["version"]
        print("   ort:     %s ms" % fmt(row["ort"].get("ms"), ".3f"), flush=True)
        rows.append(row)

    if "matmul512_ms" in info:
        libs = info.get("blas_libs") or []
        info["blas"] = "%s; 512x512 fp32 matmul on 1 thread: %.2f ms" % (
            ", ".join(libs) or "no libblas mapped", info["matmul512_ms"])
        if info["matmul512_ms"] > SLOW_MATMUL_MS or not any("openblas" in l for l in libs):
            w = ("torch does not seem to use OpenBLAS (512x512 matmul %.1f ms on 1 thread, "
                 "libs %s): install libopenblas0-pthread so libblas.so.3 points at it; torch "
                 "figures are pessimistic" % (info["matmul512_ms"], libs or "none"))
            info["warnings"].append(w)
            print("WARNING: " + w, flush=True)

    section = render(rows, info, args)
    print()
    print(section)
    if not args.no_doc:
        update_doc(args.out, section, BEGIN, END)
        with open(args.json_out, "w") as f:
            json.dump({"info": info, "iters": args.iters, "warmup": args.warmup, "rows": rows},
                      f, indent=1, default=str)
            f.write("\n")
        print("wrote %s and %s" % (os.path.relpath(args.out, REPO),
                                   os.path.relpath(args.json_out, REPO)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
