#!/usr/bin/python3
"""Tessera GPU benchmark: latency of the e2e models on one GPU against PyTorch and ONNX Runtime.

Usage:
    python3 bench/gpu/bench.py [--models resnet18,mobilenet_v2,transformer_encoder,gpt_block]
                               [--batches 1,32] [--precision f32|bf16] [--iters N] [--warmup W]
                               [--peers tessera,eager,compile,max-autotune,ort]
                               [--workdir DIR] [--out docs/benchmarks.md] [--json-out FILE]
                               [--no-doc] [--device cuda|cpu]

For every model of test/e2e/models.py (same builders, fixed seeds) and batch size B, the model is
exported to ONNX at batch B (inputs tiled along dim 0) into WORKDIR/gpu/<model>-b<B>. Then, each
in its own process, one after the other in the same session:
  * tessera: `tessera-compile --target=cuda --gpu-arch=<sm_XY of the device>` and
    `tessera-run --bench N --warmup W` (median of N runs; the CUDA graph replays after the first
    run), with TESSERA_CUDA_PROFILE set: per-kernel time, bytes and flops.
  * eager: PyTorch eager on the GPU, torch.no_grad(), CUDA-synchronised timing.
  * compile: torch.compile(model) (mode default); max-autotune: mode="max-autotune". Compile
    time is the first call; latency is the median of N after W warm-up calls.
  * ort: ONNX Runtime (bench/cpu/ort_bench.js) with the CUDA execution provider, when the
    installed onnxruntime-node has one ('n/a' with the reason otherwise).
  * peak: the device's measured HBM bandwidth (device-to-device copy of 1 GiB) and cuBLAS
    matmul throughput (8192^3, fp32 without TF32, and bf16), measured through the CUDA driver
    and cuBLAS with ctypes, for the per-kernel table.
The torch peers need a CUDA build of torch (and torch >= 2 for torch.compile). Debian's
python3-torch (1.13, CPU-only) has neither: with it those columns say 'n/a' and why; Tessera
and the peaks still run.
With --precision bf16, Tessera compiles with --precision=bf16 and the torch peers run the model
under torch.autocast(dtype=torch.bfloat16).

Writes its own section of docs/benchmarks.md: device, driver, date, commit, versions, the
latency table with ratios Tessera / peer (< 1: Tessera faster), and per-kernel achieved
bandwidth (memory-bound kernels) and TFLOP/s (GEMMs) against the measured peaks; raw figures
go to bench/gpu/results.json. Figures are reported, never asserted.

Without a GPU (found through libcuda.so.1) the script says so and exits with status 77
(nothing written). --device cpu is a
dry run of the harness itself on the CPU (Tessera's CPU target, torch on the CPU, batch 1): it
checks the plumbing, its figures are not GPU results and it never writes the document.
"""

import argparse
import json
import os
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
from benchlib import fmt, machine_info, parse_median_ms, ratio, update_doc  # noqa: E402

BEGIN = "<!-- bench/gpu/bench.py: begin (generated; edits inside are overwritten) -->"
END = "<!-- bench/gpu/bench.py: end -->"
DEFAULT_MODELS = "resnet18,mobilenet_v2,transformer_encoder,gpt_block"
PEERS = ("tessera", "eager", "compile", "max-autotune", "ort")
TORCH_PEERS = {"eager": None, "compile": "default", "max-autotune": "max-autotune"}
TOOL_TIMEOUT = 1800
SKIP = 77
MEMORY_BOUND_INTENSITY = 4.0  # flops per byte below which a step counts as memory-bound


# --------------------------------------------------------------------------- workers

def _torch_device(name):
    import torch
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device visible to torch")
    return torch.device(name)


def _sync(torch, dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def torch_worker(argv):
    """One torch peer for one model and batch: prints one JSON line."""
    ap = argparse.ArgumentParser(prog="bench.py _torch_worker")
    ap.add_argument("--model", required=True)
    ap.add_argument("--case-dir", required=True)
    ap.add_argument("--mode", default="eager")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--precision", default="f32")
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=10)
    a = ap.parse_args(argv)
    import numpy as np
    import torch
    import models
    dev = _torch_device(a.device)
    model, _ = models.build(a.model)
    model = model.to(dev)
    meta = json.load(open(os.path.join(a.case_dir, "case.json")))
    args = [torch.from_numpy(np.load(os.path.join(a.case_dir, e["file"]))).to(dev)
            for e in meta["inputs"]]
    fn = model
    if TORCH_PEERS[a.mode]:
        fn = torch.compile(model, mode=TORCH_PEERS[a.mode])
    autocast = torch.autocast(dev.type, dtype=torch.bfloat16, enabled=a.precision == "bf16")
    # Grad mode stays on for the TransformerEncoder (see test/e2e/models.py); no backward runs.
    grad = torch.enable_grad() if a.model == "transformer_encoder" else torch.no_grad()
    with grad, autocast:
        t0 = time.perf_counter()
        fn(*args)
        _sync(torch, dev)
        first_s = time.perf_counter() - t0
        for _ in range(a.warmup):
            fn(*args)
        _sync(torch, dev)
        times = []
        for _ in range(a.iters):
            t0 = time.perf_counter()
            fn(*args)
            _sync(torch, dev)
            times.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({"ms": statistics.median(times), "first_call_s": first_s,
                      "torch": torch.__version__}))


class Cuda:
    """The CUDA driver and cuBLAS through ctypes: Tessera needs no CUDA-enabled torch (Debian's
    python3-torch is CPU-only), so device detection and the peak measurements use these."""

    def __init__(self):
        import ctypes
        self.c = ctypes
        self.cu = ctypes.CDLL("libcuda.so.1")
        self.check(self.cu.cuInit(0), "cuInit")
        n = ctypes.c_int(0)
        self.check(self.cu.cuDeviceGetCount(ctypes.byref(n)), "cuDeviceGetCount")
        if n.value < 1:
            raise RuntimeError("no CUDA device")
        self.dev = ctypes.c_int(0)
        self.check(self.cu.cuDeviceGet(ctypes.byref(self.dev), 0), "cuDeviceGet")
        name = ctypes.create_string_buffer(256)
        self.cu.cuDeviceGetName(name, 256, self.dev)
        self.name = name.value.decode()
        major, minor = ctypes.c_int(0), ctypes.c_int(0)
        self.cu.cuDeviceGetAttribute(ctypes.byref(major), 75, self.dev)
        self.cu.cuDeviceGetAttribute(ctypes.byref(minor), 76, self.dev)
        self.capability = "sm_%d%d" % (major.value, minor.value)
        ver = ctypes.c_int(0)
        self.cu.cuDriverGetVersion(ctypes.byref(ver))
        self.driver = "%d.%d" % (ver.value // 1000, ver.value % 1000 // 10)
        self.ctx = ctypes.c_void_p()
        self.check(self.cu.cuDevicePrimaryCtxRetain(ctypes.byref(self.ctx), self.dev),
                   "cuDevicePrimaryCtxRetain")
        self.check(self.cu.cuCtxSetCurrent(self.ctx), "cuCtxSetCurrent")

    def check(self, rc, what):
        if rc != 0:
            raise RuntimeError("%s failed with CUresult %d" % (what, rc))

    def alloc(self, nbytes):
        p = self.c.c_uint64(0)
        self.check(self.cu.cuMemAlloc_v2(self.c.byref(p), self.c.c_size_t(nbytes)),
                   "cuMemAlloc(%d)" % nbytes)
        self.check(self.cu.cuMemsetD8_v2(p, 0, self.c.c_size_t(nbytes)), "cuMemsetD8")
        return p

    def best_seconds(self, fn, reps):
        for _ in range(3):
            fn()
        self.check(self.cu.cuCtxSynchronize(), "cuCtxSynchronize")
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            self.check(self.cu.cuCtxSynchronize(), "cuCtxSynchronize")
            best = min(best, time.perf_counter() - t0)
        return best


def peak_worker(argv):
    """Measured device peaks: HBM bandwidth (device-to-device copy of 1 GiB: 2 GiB moved) and
    cuBLAS matmul TFLOP/s at 8192^3 (fp32 SGEMM, no TF32; bf16 GemmEx with f32 compute).
    Prints one JSON line."""
    import ctypes
    cuda = Cuda()
    n = 1 << 30
    x, y = cuda.alloc(n), cuda.alloc(n)
    t = cuda.best_seconds(lambda: cuda.check(cuda.cu.cuMemcpyDtoD_v2(y, x, ctypes.c_size_t(n)),
                                             "cuMemcpyDtoD"), 20)
    out = {"device": cuda.name, "capability": cuda.capability, "driver": cuda.driver,
           "hbm_gbs": 2 * n / t / 1e9}
    cuda.cu.cuMemFree_v2(x)
    cuda.cu.cuMemFree_v2(y)
    blas = None
    for lib in ("libcublas.so.13", "libcublas.so.12"):
        try:
            blas = ctypes.CDLL(lib)
            break
        except OSError:
            pass
    if blas is None:
        print(json.dumps(out))
        return
    h = ctypes.c_void_p()
    cuda.check(blas.cublasCreate_v2(ctypes.byref(h)), "cublasCreate")
    m = 8192
    one, zero = ctypes.c_float(1.0), ctypes.c_float(0.0)
    for key, esize, dtype in (("fp32_tflops", 4, 0), ("bf16_tflops", 2, 14)):
        a, b, c = cuda.alloc(m * m * esize), cuda.alloc(m * m * esize), cuda.alloc(m * m * 4)
        if dtype == 0:
            call = lambda: cuda.check(blas.cublasSgemm_v2(  # noqa: E731
                h, 0, 0, m, m, m, ctypes.byref(one), a, m, b, m, ctypes.byref(zero), c, m),
                "cublasSgemm")
        else:
            call = lambda: cuda.check(blas.cublasGemmEx(  # noqa: E731
                h, 0, 0, m, m, m, ctypes.byref(one), a, dtype, m, b, dtype, m,
                ctypes.byref(zero), c, 0, m, 68, -1), "cublasGemmEx")
        out[key] = 2 * m ** 3 / cuda.best_seconds(call, 10) / 1e12
        for p in (a, b, c):
            cuda.cu.cuMemFree_v2(p)
    blas.cublasDestroy_v2(h)
    print(json.dumps(out))


def torch_cuda_note():
    """Why the torch peers cannot run on the GPU here, or None."""
    p = subprocess.run([sys.executable, "-c",
                        "import torch; print(torch.__version__, torch.backends.cuda.is_built(), "
                        "hasattr(torch, 'compile'))"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    parts = p.stdout.split()
    if len(parts) != 3:
        return None, None
    version, built, has_compile = parts[0], parts[1] == "True", parts[2] == "True"
    cuda = None if built else "torch %s is built without CUDA" % version
    compile_note = None if has_compile else "torch %s has no torch.compile" % version
    return cuda, compile_note


# --------------------------------------------------------------------------- driver side

def last_json(stdout):
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return None


def run_worker(kind, extra, timeout=TOOL_TIMEOUT):
    cmd = [sys.executable, os.path.abspath(__file__), kind] + extra
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"ms": None, "note": "%s timed out after %d s" % (kind, timeout)}
    j = last_json(p.stdout)
    if j is not None and p.returncode == 0:
        return j
    return {"ms": None, "note": "failed: " + (p.stderr.strip().splitlines() or ["?"])[-1][:200]}


def make_case(name, batch, workdir):
    """Exports model `name` at batch `batch` into a case directory (reused when present)."""
    import numpy as np
    import caselib
    import models
    case_dir = os.path.join(workdir, "gpu", "%s-b%d" % (name, batch))
    if caselib.read_meta(case_dir) is not None:
        return case_dir
    model, inputs = models.build(name)
    tiled = {}
    for k, v in inputs.items():
        reps = -(-batch // v.shape[0])
        tiled[k] = np.concatenate([v] * reps, axis=0)[:batch]
    data = models.export_onnx(model, tiled, models.MODELS[name][1])
    caselib.write_case(case_dir, "%s-b%d" % (name, batch), "bench", "none", data, tiled, {})
    return case_dir


def run_tessera(case_dir, meta, args, arch, out_dir):
    bindir = os.environ.get("TESSERA_BIN_DIR") or os.path.join(REPO, "build", "bin")
    compile_tool, run_tool = (os.path.join(bindir, t) for t in ("tessera-compile", "tessera-run"))
    r = {"ms": None, "compile_s": None, "kernels": None}
    if not os.access(compile_tool, os.X_OK):
        r["note"] = "%s not found (build first, or set TESSERA_BIN_DIR)" % compile_tool
        return r
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    tsr = os.path.join(out_dir, "model.tsr")
    cmd = [compile_tool, os.path.join(case_dir, "model.onnx"), "-o", tsr, "-q"]
    if args.device == "cuda":
        cmd += ["--target=cuda", "--gpu-arch=" + arch]
    if args.precision != "f32":
        cmd += ["--precision=" + args.precision]
    t0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=TOOL_TIMEOUT)
    if p.returncode != 0:
        r["note"] = "tessera-compile failed: " + (p.stderr.strip().splitlines() or ["?"])[-1][:200]
        return r
    r["compile_s"] = time.time() - t0
    profile = os.path.join(out_dir, "profile.json")
    cmd = [run_tool, tsr, "--bench", str(args.iters), "--warmup", str(args.warmup)]
    for e in meta["inputs"]:
        cmd += ["--input", "%s=%s" % (e["name"], os.path.join(case_dir, e["file"]))]
    env = dict(os.environ, TESSERA_CUDA_PROFILE=profile)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=TOOL_TIMEOUT, env=env)
    if p.returncode != 0:
        r["note"] = "tessera-run failed: " + (p.stdout.strip().splitlines() or ["?"])[-1][:200]
        return r
    r["ms"] = parse_median_ms(p.stdout)
    if os.path.isfile(profile):
        r["kernels"] = json.load(open(profile))
    return r


def run_ort(case_dir, meta, args):
    node = shutil.which("node")
    js = os.path.join(REPO, "bench", "cpu", "ort_bench.js")
    if not node or not os.path.isdir(os.path.join(REPO, "bench", "cpu", "node_modules",
                                                  "onnxruntime-node")):
        return {"ms": None, "note": "onnxruntime-node not installed (see bench/cpu)"}
    cmd = [node, js, os.path.join(case_dir, "model.onnx"), "--bench", str(args.iters),
           "--warmup", str(args.warmup), "--ep", args.device, "--json"]
    for e in meta["inputs"]:
        cmd += ["--input", "%s=%s" % (e["name"], os.path.join(case_dir, e["file"]))]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=TOOL_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"ms": None, "note": "ort timed out"}
    j = last_json(p.stdout)
    if j is None or p.returncode != 0:
        return {"ms": None, "note": "ort (%s EP) unavailable: %s" % (
            args.device, (p.stderr.strip().splitlines() or ["?"])[-1][:160])}
    return {"ms": j["median_ms"], "version": j.get("ort_version")}


def kernel_summary(kernels, peak):
    """Per-kernel achieved bandwidth / TFLOP/s against the measured peaks."""
    rows = []
    for k in kernels or []:
        if k["ms"] <= 0:
            continue
        s = k["ms"] / 1e3
        gbs = k["bytes"] / s / 1e9
        tflops = k["flops"] / s / 1e12 if k["flops"] else None
        memory_bound = not k["flops"] or k["flops"] / max(k["bytes"], 1) < MEMORY_BOUND_INTENSITY
        rows.append(dict(k, gbs=gbs, tflops=tflops, memory_bound=memory_bound,
                         bw_frac=ratio(gbs, peak.get("hbm_gbs")),
                         flop_frac=ratio(tflops, peak.get("peak_tflops"))))
    return rows


def render(results, peak, info, args):
    L = [BEGIN, "## GPU latency (bench/gpu/bench.py)", ""]
    L.append("- device: %s (%s), driver CUDA %s" % (
        peak.get("device"), peak.get("capability"), peak.get("driver")))
    L.append("- date: %s; commit: `%s`; precision %s; median of %d runs after %d warm-up" % (
        info["date"], info["commit"], args.precision, args.iters, args.warmup))
    L.append("- measured peaks: HBM %s GB/s (1 GiB device copy), cuBLAS 8192^3 %s TFLOP/s fp32 "
             "(no TF32), %s TFLOP/s bf16" % (fmt(peak.get("hbm_gbs"), ".0f"),
                                              fmt(peak.get("fp32_tflops"), ".1f"),
                                              fmt(peak.get("bf16_tflops"), ".1f")))
    L += ["", "Latency in ms; ratio = Tessera / peer (below 1: Tessera is faster; the target is "
          "≤ 0.8 against torch.compile).", "",
          "| model | batch | Tessera | eager | compile | max-autotune | ORT CUDA "
          "| ÷ eager | ÷ compile | ÷ max-autotune | ÷ ORT |",
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    notes = []
    for r in results:
        ms = {p: (r["peers"].get(p) or {}).get("ms") for p in PEERS}
        t = ms["tessera"]
        L.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["model"], r["batch"], *(fmt(ms[p], ".3f") for p in PEERS),
            *(fmt(ratio(t, ms[p]), ".2f") for p in PEERS[1:])))
        for p in PEERS:
            note = (r["peers"].get(p) or {}).get("note")
            if note:
                notes.append("- %s b%d %s: %s" % (r["model"], r["batch"], p, note))
    if notes:
        L += ["", "Not measured:"] + notes
    L += ["", "Per kernel (Tessera, batch %d): the five slowest steps of each model. GB/s counts "
          "the bytes of the buffers a step touches once; memory-bound steps are compared with "
          "the measured HBM peak (target ≥ 80%%), GEMMs with the matmul peak." % args.batches[-1],
          "", "| model | step | kind | ms | GB/s | % HBM | TFLOP/s | % peak |",
          "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        if r["batch"] != args.batches[-1]:
            continue
        ks = sorted(r.get("kernels") or [], key=lambda k: -k["ms"])[:5]
        for k in ks:
            L.append("| %s | %s | %s | %.4f | %.0f | %s | %s | %s |" % (
                r["model"], k["name"], "memory" if k["memory_bound"] else "compute", k["ms"],
                k["gbs"], fmt(k["bw_frac"] and 100 * k["bw_frac"], ".0f"),
                fmt(k["tflops"], ".1f"), fmt(k["flop_frac"] and 100 * k["flop_frac"], ".0f")))
    L += ["", END]
    return "\n".join(L) + "\n"


def gpu_probe():
    """(device name, capability) of GPU 0 through the CUDA driver, or (None, why)."""
    p = subprocess.run([sys.executable, os.path.abspath(__file__), "_probe"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    j = last_json(p.stdout)
    if p.returncode != 0 or j is None:
        return None, (p.stderr.strip().splitlines() or ["no CUDA driver"])[-1][:200]
    return j["device"], j["capability"]


def probe_worker():
    try:
        cuda = Cuda()
    except (OSError, RuntimeError) as ex:
        raise SystemExit("no usable CUDA device: %s" % ex)
    print(json.dumps({"device": cuda.name, "capability": cuda.capability}))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=DEFAULT_MODELS)
    ap.add_argument("--batches", default="1,32")
    ap.add_argument("--precision", choices=["f32", "bf16"], default="f32")
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--workdir", default=os.path.join(REPO, "build", "e2e"))
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "benchmarks.md"))
    ap.add_argument("--json-out", default=os.path.join(HERE, "results.json"))
    ap.add_argument("--no-doc", action="store_true")
    ap.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    args = ap.parse_args(argv)
    args.batches = [int(b) for b in args.batches.split(",")]
    peers = [p for p in args.peers.split(",") if p]
    for p in peers:
        if p not in PEERS:
            ap.error("unknown peer %r (expected some of %s)" % (p, ",".join(PEERS)))
    dry = args.device == "cpu"
    torch_cuda, torch_compile = None, None
    if dry:
        args.no_doc = True
    else:
        device, why = gpu_probe()
        if device is None:
            print("bench/gpu: skipped, nothing written: %s" % why)
            return SKIP
        torch_cuda, torch_compile = torch_cuda_note()

    peak = {}
    if not dry:
        print("measuring device peaks ...", flush=True)
        peak = run_worker("_peak_worker", [])
        peak["peak_tflops"] = peak.get("bf16_tflops" if args.precision == "bf16"
                                       else "fp32_tflops")
    arch = peak.get("capability", "sm_90")
    if arch not in ("sm_80", "sm_90"):
        arch = "sm_90" if arch > "sm_90" else "sm_80"
    info = machine_info()
    results = []
    for name in args.models.split(","):
        for batch in args.batches:
            case_dir = make_case(name, batch, args.workdir)
            import caselib
            meta = caselib.read_meta(case_dir)
            r = {"model": name, "batch": batch, "peers": {}}
            for p in peers:
                t0 = time.time()
                if p == "tessera":
                    res = run_tessera(case_dir, meta, args, arch,
                                      os.path.join(args.workdir, "gpu-results",
                                                   "%s-b%d" % (name, batch)))
                    r["kernels"] = kernel_summary(res.pop("kernels", None), peak)
                elif p == "ort":
                    res = run_ort(case_dir, meta, args)
                elif torch_cuda or (p != "eager" and torch_compile):
                    res = {"ms": None, "note": torch_cuda or torch_compile}
                elif dry and p != "eager" and not hasattr(__import__("torch"), "compile"):
                    res = {"ms": None, "note": "this torch has no torch.compile"}
                else:
                    res = run_worker("_torch_worker", [
                        "--model", name, "--case-dir", case_dir, "--mode", p,
                        "--device", args.device, "--precision", args.precision,
                        "--iters", str(args.iters), "--warmup", str(args.warmup)])
                r["peers"][p] = res
                print("%-20s b%-3d %-13s %s ms%s (%.0f s)" % (
                    name, batch, p, fmt(res.get("ms"), ".3f"),
                    "  [" + res["note"] + "]" if res.get("note") else "", time.time() - t0),
                    flush=True)
            results.append(r)
    if args.json_out and not dry:
        with open(args.json_out, "w") as f:
            json.dump({"info": info, "peak": peak, "precision": args.precision,
                       "results": results}, f, indent=1)
    section = render(results, peak, info, args)
    if dry:
        print("dry run on the CPU; a GPU run would write this section:\n" + section)
        # The harness smoke test (CTest bench-gpu-dry-run): every requested peer that can
        # run on this machine must have produced a figure.
        missing = ["%s b%d %s" % (r["model"], r["batch"], p) for r in results
                   for p in peers if p in ("tessera", "eager") and r["peers"][p].get("ms") is None]
        if missing:
            print("dry run failed: no figure for " + ", ".join(missing))
            return 1
    elif not args.no_doc:
        update_doc(args.out, section, BEGIN, END)
        print("updated", args.out)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_torch_worker":
        torch_worker(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "_peak_worker":
        peak_worker(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "_probe":
        probe_worker()
    else:
        sys.exit(main())
