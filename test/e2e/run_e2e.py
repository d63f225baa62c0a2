#!/usr/bin/python3
"""Tessera end-to-end harness: compile and run ONNX models/op cases, compare with references.

Usage:
    python3 test/e2e/run_e2e.py [--models all|none|mlp,resnet18,...] [--ops all|none|PATTERN,...]
                                [--workdir DIR] [--xfail FILE] [-j N] [--timeout S]
                                [--runner tessera|ort] [--rtol R] [--regen] [--list]

With neither --models nor --ops, runs everything; with only one of them, runs only that group.
Op PATTERNs are fnmatch globs over case ids (`conv_*,softmax_*`; a pattern with no wildcard is
an exact id).

For each case (generated on demand into WORKDIR/{models,ops}/<id>, cached: see caselib.py):
    tessera-compile model.onnx -o WORKDIR/results/<runner>/<id>/model.tsr
    tessera-run model.tsr --input NAME=inputs/NAME.npy ... --output-dir .../out
then every expected/<name>.npy is compared with out/<name>.npy: same shape and dtype, finite, and
    max|got - ref| <= RTOL * max(1, max|ref|)          (RTOL = 1e-4, fp32)
i.e. 1e-4 relative to the output's scale (integer and bool outputs must match exactly).

Prints one line per case, in completion order:
    PASS id (max_abs_err=..., scale=..., compile 1.23s, run 0.45s)
    FAIL id: reason            (compile/run failures include the tail of the tool's stderr)
    XFAIL id: reason           (listed in the xfail file and failed as expected)
    XPASS id (...)             (listed in the xfail file but passed: counts as a failure, so
                                the list shrinks; remove the id from the file)
and finally exactly `N passed, M failed` (plus `, K xfailed` when K > 0).
Exit status: 0 if nothing failed, 1 if anything failed (XPASS included), 2 on usage/setup
errors. Usable as-is from lit or ctest.

Tools come from $TESSERA_BIN_DIR (holding tessera-compile and tessera-run), default build/bin
under the repository root. `--runner ort` runs the cases through ONNX Runtime instead
(bench/cpu/ort_bench.js; no compile step): a check of the references and of this harness.
"""

import argparse
import json
import struct
import concurrent.futures
import os
import shutil
import subprocess
import sys
import threading
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import caselib  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_WORKDIR = os.environ.get("TESSERA_E2E_WORKDIR", os.path.join(REPO, "build", "e2e"))
DEFAULT_XFAIL = os.path.join(HERE, "xfail.txt")
TAIL_LINES = 25


class CaseResult:
    def __init__(self, cid):
        self.cid = cid
        self.ok = False
        self.reason = ""
        self.err = None
        self.scale = None
        self.t_compile = None
        self.t_run = None


def read_xfail(path):
    ids = []
    if not path:
        return ids
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                ids.append(line)
    return ids


def tail(text, n=TAIL_LINES):
    lines = text.decode("utf-8", "replace").rstrip().splitlines() if text else []
    if len(lines) > n:
        lines = ["..."] + lines[-n:]
    return "\n".join("    | " + l for l in lines)


def run_tool(cmd, timeout, what):
    """Runs cmd; returns (seconds, None) or (seconds, failure reason)."""
    t0 = time.time()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return time.time() - t0, "%s timed out after %ds\n%s" % (what, timeout,
                                                                  tail(e.stderr or e.stdout))
    except OSError as e:
        return time.time() - t0, "%s could not start: %s" % (what, e)
    dt = time.time() - t0
    if p.returncode != 0:
        sig = " (signal %d)" % -p.returncode if p.returncode < 0 else ""
        return dt, "%s exited with %d%s\n%s" % (what, p.returncode, sig,
                                                 tail(p.stderr or p.stdout))
    return dt, None


def compare(ref, got, rtol):
    """Returns (max_abs_err, scale, failure reason or None)."""
    if got.shape != ref.shape:
        return None, None, "shape %s, expected %s" % (list(got.shape), list(ref.shape))
    if got.dtype != ref.dtype:
        return None, None, "dtype %s, expected %s" % (got.dtype, ref.dtype)
    if ref.size == 0:
        return 0.0, 1.0, None
    if ref.dtype == np.bool_:
        bad = int(np.count_nonzero(got != ref))
        return float(bad), 1.0, ("%d of %d elements differ" % (bad, ref.size) if bad else None)
    r = ref.astype(np.float64)
    g = got.astype(np.float64)
    scale = max(1.0, float(np.max(np.abs(r))))
    finite = np.isfinite(g)
    if not finite.all():
        return float("inf"), scale, "%d of %d values are not finite" % (
            int(np.count_nonzero(~finite)), g.size)
    diff = np.abs(g - r)
    err = float(np.max(diff))
    if err <= rtol * scale:
        return err, scale, None
    i = np.unravel_index(int(np.argmax(diff)), diff.shape)
    nbad = int(np.count_nonzero(diff > rtol * scale))
    return err, scale, ("max_abs_err=%.3g > tol=%.3g (scale=%.4g); %d of %d elements out; "
                        "worst at %s: got %.7g, expected %.7g"
                        % (err, rtol * scale, scale, nbad, diff.size, list(map(int, i)),
                           g[i], r[i]))


def run_case(cid, case_dir, res_root, args, tools):
    res = CaseResult(cid)
    meta = caselib.read_meta(case_dir)
    if meta is None:
        res.reason = "case data missing in " + case_dir
        return res
    rdir = os.path.join(res_root, cid)
    shutil.rmtree(rdir, ignore_errors=True)
    out_dir = os.path.join(rdir, "out")
    os.makedirs(out_dir)
    model = os.path.join(case_dir, "model.onnx")
    feeds = []
    for e in meta["inputs"]:
        feeds += ["--input", "%s=%s" % (e["name"], os.path.join(case_dir, e["file"]))]

    if args.runner == "tessera":
        artifact = os.path.join(rdir, "model.tsr")
        ccmd = [tools["compile"], model, "-o", artifact]
        if args.target == "cuda":
            ccmd += ["--target=cuda", "--gpu-arch=" + args.gpu_arch]
        if args.precision != "f32":
            ccmd += ["--precision=" + args.precision]
        plain_cmd = list(ccmd)
        if args.derive:
            report = os.path.join(rdir, "derive.json")
            ccmd += ["--derive", "--derive-cost-model=" + args.derive,
                     "--derive-time-budget=%g" % args.derive_budget,
                     "--derive-report=" + report]
        res.t_compile, why = run_tool(ccmd, args.timeout, "tessera-compile")
        if why:
            res.reason = "compile failed: " + why
            return res
        if args.derive:
            why = check_derive_report(report, args.derive_budget) or \
                derive_with_opt(model, rdir, args, tools)
            if why:
                res.reason = why
                return res
        if not os.path.isfile(artifact):
            res.reason = "compile succeeded but wrote no %s" % artifact
            return res
        if args.compile_only:
            kinds = section_kinds(artifact)
            if args.target == "cuda" and ptxas_available() and KIND_CUBIN not in kinds:
                res.reason = "ptxas is installed but the artifact has no cubin section"
                return res
            res.ok, res.err, res.scale = True, 0.0, 1.0
            return res
        cmd = [tools["run"], artifact] + feeds + ["--output-dir", out_dir]
        what = "tessera-run"
    else:
        cmd = [tools["node"], tools["ort"], model] + feeds + ["--output-dir", out_dir]
        what = "ort_bench.js"
    res.t_run, why = run_tool(cmd, args.timeout, what)
    if why:
        res.reason = "run failed: " + why
        return res

    if args.runner == "tessera" and args.derive and not args.compile_only:
        # The derived program must also match the un-derived one closely.
        why = compare_underived(plain_cmd, meta, case_dir, feeds, rdir, out_dir,
                                args, tools)
        if why:
            res.reason = why
            return res

    rtol = args.rtol if args.rtol is not None else \
        caselib.low_precision_rtol(args.precision, meta)
    worst_err, worst_scale, problems = 0.0, 1.0, []
    for e in meta["outputs"]:
        name = e["name"]
        got_path = os.path.join(out_dir, caselib.sanitize(name) + ".npy")
        if not os.path.isfile(got_path):
            problems.append("output %r: %s was not written" % (name, got_path))
            continue
        try:
            got = np.load(got_path, allow_pickle=False)
        except Exception as ex:  # malformed file written by the runtime
            problems.append("output %r: cannot load %s: %s" % (name, got_path, ex))
            continue
        ref = np.load(os.path.join(case_dir, e["file"]), allow_pickle=False)
        err, scale, why = compare(ref, got, rtol)
        if why:
            problems.append("output %r: %s" % (name, why))
        if err is not None and err >= worst_err:
            worst_err, worst_scale = err, scale
    res.err, res.scale = worst_err, worst_scale
    if problems:
        res.reason = "; ".join(problems)
    else:
        res.ok = True
    return res


def check_derive_report(path, budget):
    """The derive report exists and the search kept to its time budget."""
    try:
        with open(path) as f:
            rep = json.load(f)
    except (OSError, ValueError) as ex:
        return "derive report %s unreadable: %s" % (path, ex)
    # Each op gets what is left of the budget; allow one op's overshoot.
    if rep["search_seconds"] > budget * 1.25 + 2:
        return "derivation search took %.1fs, over the %gs budget" % (
            rep["search_seconds"], budget)
    if rep.get("dropped"):
        return "%d derivations failed verification" % rep["dropped"]
    return None


def derive_with_opt(model, rdir, args, tools):
    """tessera-opt --tessera-derive on the imported IR keeps to the budget too."""
    mlir = os.path.join(rdir, "imported.mlir")
    _, why = run_tool([tools["compile"], model, "--emit=tessera", "-o", mlir, "-q"],
                      args.timeout, "tessera-compile --emit=tessera")
    if why:
        return "import for tessera-opt failed: " + why
    t, why = run_tool([tools["opt"], mlir, "--tessera-derive=target=%s time-budget=%g"
                       % (args.derive, args.derive_budget), "-o", os.devnull],
                      args.timeout, "tessera-opt --tessera-derive")
    if why:
        return why
    if t > args.derive_budget * 1.25 + 5:
        return "tessera-opt --tessera-derive took %.1fs, over the %gs budget" % (
            t, args.derive_budget)
    return None


DERIVE_RTOL = 1e-4  # derived vs un-derived: same math, other summation order


def compare_underived(plain_cmd, meta, case_dir, feeds, rdir, out_dir, args, tools):
    plain = os.path.join(rdir, "plain.tsr")
    plain_out = os.path.join(rdir, "plain-out")
    os.makedirs(plain_out, exist_ok=True)
    cmd = list(plain_cmd)
    cmd[cmd.index("-o") + 1] = plain
    _, why = run_tool(cmd, args.timeout, "tessera-compile (un-derived)")
    if why:
        return "un-derived compile failed: " + why
    _, why = run_tool([tools["run"], plain] + feeds + ["--output-dir", plain_out],
                      args.timeout, "tessera-run (un-derived)")
    if why:
        return "un-derived run failed: " + why
    for e in meta["outputs"]:
        name = caselib.sanitize(e["name"]) + ".npy"
        try:
            a = np.load(os.path.join(out_dir, name), allow_pickle=False)
            b = np.load(os.path.join(plain_out, name), allow_pickle=False)
        except OSError as ex:
            return "derived vs un-derived: %s" % ex
        # In 16-bit storage the derived program rounds other intermediates
        # (a matmul's result before its eOperator): the precision's tolerance.
        rtol = DERIVE_RTOL if args.precision == "f32" else \
            caselib.low_precision_rtol(args.precision, meta)
        _, _, why = compare(b, a, rtol)
        if why:
            return "derived vs un-derived output %r: %s" % (e["name"], why)
    return None


KIND_CUBIN = 5  # TSR_SECTION_CUBIN, include/tessera/Artifact.h
SKIP_RC = 77    # CTest SKIP_RETURN_CODE
NO_DEVICE = ("no CUDA driver", "CUDA_ERROR_NO_DEVICE", "CUDA_ERROR_STUB_LIBRARY",
             "no CUDA device")


def section_kinds(path):
    """Section kinds of an artifact (header: 64 bytes, section_count at 12; 32-byte entries)."""
    with open(path, "rb") as f:
        head = f.read(64)
        count = struct.unpack_from("<I", head, 12)[0]
        table = f.read(32 * count)
    return [struct.unpack_from("<I", table, 32 * i)[0] for i in range(count)]


def ptxas_available():
    return bool(os.environ.get("TESSERA_PTXAS")) or os.access(
        "/usr/local/cuda/bin/ptxas", os.X_OK) or shutil.which("ptxas") is not None


def fmt_times(res):
    parts = []
    if res.t_compile is not None:
        parts.append("compile %.2fs" % res.t_compile)
    if res.t_run is not None:
        parts.append("run %.2fs" % res.t_run)
    return ", ".join(parts)


def find_tools(runner):
    if runner == "ort":
        node = shutil.which("node")
        ort = os.path.join(REPO, "bench", "cpu", "ort_bench.js")
        if not node:
            return None, "node not found on PATH"
        if not os.path.isdir(os.path.join(REPO, "bench", "cpu", "node_modules",
                                          "onnxruntime-node")):
            return None, ("onnxruntime-node not installed: cd bench/cpu && "
                          "ONNXRUNTIME_NODE_INSTALL=skip npm install")
        return {"node": node, "ort": ort}, None
    bindir = os.environ.get("TESSERA_BIN_DIR") or os.path.join(REPO, "build", "bin")
    bindir = os.path.abspath(bindir)
    tools = {"compile": os.path.join(bindir, "tessera-compile"),
             "run": os.path.join(bindir, "tessera-run"),
             "opt": os.path.join(bindir, "tessera-opt")}
    for t in tools.values():
        if not (os.path.isfile(t) and os.access(t, os.X_OK)):
            return None, "%s not found (set TESSERA_BIN_DIR to the directory holding " \
                         "tessera-compile and tessera-run)" % t
    return tools, None


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Tessera end-to-end tests (see the module docstring).",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", help="comma list of models, 'all' or 'none'")
    ap.add_argument("--ops", help="comma list of op-case globs, 'all' or 'none'")
    ap.add_argument("--workdir", default=DEFAULT_WORKDIR,
                    help="cases and results (default %(default)s; env TESSERA_E2E_WORKDIR)")
    ap.add_argument("--xfail", default=DEFAULT_XFAIL,
                    help="expected-failure list (default %(default)s; '' for none)")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="cases run in parallel")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per tool invocation")
    ap.add_argument("--runner", choices=["tessera", "ort"], default="tessera")
    ap.add_argument("--target", choices=["cpu", "cuda"], default="cpu",
                    help="tessera-compile --target (default %(default)s)")
    ap.add_argument("--gpu-arch", default="sm_90", help="--target=cuda: GPU architecture")
    ap.add_argument("--compile-only", action="store_true",
                    help="compile only; with --target=cuda also require that ptxas assembled "
                         "the kernels (a 'cubin' section in the artifact)")
    ap.add_argument("--precision", choices=["f32", "bf16", "f16"], default="f32",
                    help="tessera-compile --precision; for bf16/f16 the default "
                         "tolerance is caselib.low_precision_rtol (docs/precision.md)")
    ap.add_argument("--derive", choices=["cpu", "cuda"], default=None,
                    help="compile with --derive under this cost model (cuda commits "
                         "derivations even on the CPU target), check the report and "
                         "compare with the un-derived program (rtol %g)" % DERIVE_RTOL)
    ap.add_argument("--derive-budget", type=float, default=20.0,
                    help="--derive-time-budget per model in seconds (default %(default)s)")
    ap.add_argument("--rtol", type=float, default=None,
                    help="tolerance relative to max(1, max|ref|) (default %g for f32)" % caselib.RTOL)
    ap.add_argument("--regen", action="store_true", help="regenerate the selected cases")
    ap.add_argument("--list", action="store_true", help="list the selected case ids and exit")
    args = ap.parse_args(argv)
    if args.rtol is None and args.precision == "f32":
        args.rtol = caselib.RTOL

    import models as models_mod
    import ops as ops_mod

    if args.models is None and args.ops is None:
        args.models = args.ops = "all"
    model_ids, op_ids = [], []
    if args.models and args.models != "none":
        model_ids = list(models_mod.MODELS) if args.models == "all" else \
            [m for m in args.models.split(",") if m]
        unknown = [m for m in model_ids if m not in models_mod.MODELS]
        if unknown:
            ap.error("unknown model(s) %s (have: %s)" % (", ".join(unknown),
                                                         ", ".join(models_mod.MODELS)))
    if args.ops and args.ops != "none":
        op_ids = ops_mod.select([args.ops])
        if not op_ids:
            ap.error("no op case matches %r (see --list)" % args.ops)
    clash = set(model_ids) & set(ops_mod.CASES)
    assert not clash, clash
    selected = [("models", c) for c in model_ids] + [("ops", c) for c in op_ids]
    if args.list:
        print("\n".join(c for _, c in selected))
        return 0

    try:
        xfail = read_xfail(args.xfail)
    except OSError as e:
        print("error: cannot read xfail file: %s" % e, file=sys.stderr)
        return 2
    known = set(models_mod.MODELS) | set(ops_mod.CASES)
    for x in xfail:
        if x not in known:
            print("warning: %s lists unknown case %r" % (args.xfail, x), file=sys.stderr)
    xfail = set(xfail)

    tools, why = find_tools(args.runner)
    if tools is None:
        print("error: " + why, file=sys.stderr)
        return 2

    # Generate (or reuse) the case data; sequential, in this process.
    workdir = os.path.abspath(args.workdir)
    results = {}
    t_gen, n_gen = time.time(), 0
    for group, cid in selected:
        cdir = os.path.join(workdir, group, cid)
        try:
            if group == "models":
                fp = models_mod.model_fingerprint(cid)
                fresh = args.regen or not caselib.is_current(cdir, fp)
                if fresh:
                    print("generating %s ..." % cid, flush=True)
                    models_mod.generate(cid, cdir, force=True)
            else:
                fresh = args.regen or not caselib.is_current(cdir, ops_mod.ops_fingerprint())
                if fresh:
                    ops_mod.generate(cid, cdir, force=True)
            n_gen += fresh
        except Exception as e:  # a generator bug: report it as this case's failure
            r = CaseResult(cid)
            r.reason = "generating the case failed: %s: %s" % (type(e).__name__, e)
            results[cid] = r
    if n_gen:
        print("generated %d case(s) in %.1fs" % (n_gen, time.time() - t_gen), flush=True)

    res_root = os.path.join(workdir, "results", args.runner +
                            ("-" + args.target if args.target != "cpu" else "") +
                            ("-" + args.precision if args.precision != "f32" else "") +
                            ("-derive-" + args.derive if args.derive else ""))
    lock = threading.Lock()
    counts = {"PASS": 0, "FAIL": 0, "XFAIL": 0, "XPASS": 0}
    failed_ids = []

    def report(res):
        xf = res.cid in xfail
        if res.ok and args.compile_only:
            status = "XPASS" if xf else "PASS"
            line = "%s %s (compiled in %.2fs)" % (status, res.cid, res.t_compile or 0.0)
        elif res.ok:
            status = "XPASS" if xf else "PASS"
            line = "%s %s (max_abs_err=%.3g, scale=%.4g%s)" % (
                status, res.cid, res.err, res.scale,
                (", " + fmt_times(res)) if fmt_times(res) else "")
            if xf:
                line += " -- listed in %s; remove it" % os.path.basename(args.xfail)
        else:
            status = "XFAIL" if xf else "FAIL"
            line = "%s %s: %s" % (status, res.cid, res.reason)
        with lock:
            counts[status] += 1
            if status in ("FAIL", "XPASS"):
                failed_ids.append(res.cid)
            print(line, flush=True)

    for r in results.values():
        report(r)
    todo = [(g, c) for g, c in selected if c not in results]
    if args.target == "cuda" and not args.compile_only and todo:
        # A machine without a usable GPU skips the suite (reported as skipped, not passed).
        g, c = todo[0]
        first = run_case(c, os.path.join(workdir, g, c), res_root, args, tools)
        if not first.ok and any(k in (first.reason or "") for k in NO_DEVICE):
            print("SKIPPED: no usable GPU: %s" % first.reason, flush=True)
            return SKIP_RC
        report(first)
        todo = todo[1:]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futs = [pool.submit(run_case, c, os.path.join(workdir, g, c), res_root, args, tools)
                for g, c in todo]
        for f in concurrent.futures.as_completed(futs):
            report(f.result())

    n_fail = counts["FAIL"] + counts["XPASS"]
    if failed_ids:
        print("failed: " + " ".join(sorted(failed_ids)))
    summary = "%d passed, %d failed" % (counts["PASS"], n_fail)
    if counts["XFAIL"]:
        summary += ", %d xfailed" % counts["XFAIL"]
    print(summary, flush=True)
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
