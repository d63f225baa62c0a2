#!/usr/bin/python3
"""Training steps end to end: tessera-compile --train against torch autograd, and
rematerialization against the un-rematerialized program.

Usage:
    python3 test/e2e/train_e2e.py [--models mlp,resnet18,...|ops] [--workdir DIR]
                                  [--memory-budget 70%] [--remat-method moccasin]

For each model (test/e2e/models.py; batch-norm folded into the convolutions first, as the
ONNX exporter does, so that the exported initializers are the module's parameters):
  1. export to ONNX; tessera-compile --train --loss=L --optimizer=sgd --lr=LR
     --emit-gradients; run it with tessera-run on the model's input, a seeded target and the
     initializers as parameters;
  2. torch (float64) computes the same loss and the gradient of every parameter; the
     artifact's parameters are matched to torch's tensors by value (transposed ones too);
  3. compare: the loss (rtol 1e-4); every gradient: max|got-ref| <= bar * scale, scale the
     larger of the gradient's own max|ref| and 1e-3 of the largest gradient of the model,
     bar = max(2e-3, twice torch's own float32 error on that gradient); above the bar, a
     gradient still passes when its relative L2 error is <= 1e-2: activations at
     ReLU/clip/max-pool decision points flip between float32 and float64 (in torch too),
     which moves a few elements by a lot and, upstream, many by a little, while a wrong
     rule is off by O(1);
     and every updated parameter against p - LR * its gradient;
  4. the MLP also takes one Adam step from zero state, against torch.optim.Adam;
  5. memory: the plan's predicted peak (--memory-report) must equal the arena high-water
     mark tessera-run --memory-stats measures;
  6. with --memory-budget=P%: the training step without --emit-gradients (gradients die
     at their update) is compiled twice, plainly and with --memory-budget set to P% of the
     remat graph's no-remat peak (raised to halfway between the lower bound and the peak
     where the step's own outputs dominate); the outputs must be bitwise identical (same ops, same order of
     reduction), the remat summary printed, the remat plan's peak measured too, and an
     arena above the budget warned about by tessera-compile (the remat model does not see
     lowering temporaries).
`--models ops` runs the single-op cases of grad_ops.py (steps 1-3 and 5, mean squared
error): one per gradient rule the models above do not reach.
Losses: cross-entropy on classifier logits (probability targets: one-hot rows), mean squared
error on the transformer encoder's hidden states.
Prints PASS/FAIL per model and `N passed, M failed`; exit status 1 if anything failed.
"""

import argparse
import copy
import io
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import caselib  # noqa: E402
import grad_ops  # noqa: E402
import models  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("TESSERA_BIN_DIR", os.path.join(REPO, "build", "bin"))
LOSS = {"mlp": "cross-entropy", "resnet18": "cross-entropy", "mobilenet_v2": "cross-entropy",
        "transformer_encoder": "mse", "gpt_block": "cross-entropy"}
LR = 0.1


def run(cmd, timeout=1800):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout)
    if p.returncode != 0:
        tail = "\n".join((p.stdout + p.stderr).splitlines()[-25:])
        raise RuntimeError("%s failed (exit %d):\n%s" % (os.path.basename(cmd[0]),
                                                         p.returncode, tail))
    return p.stdout + p.stderr


def fold_batch_norm(model):
    import torch
    import torch.fx.experimental.optimization as fxopt
    if not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules()):
        return model
    return fxopt.fuse(model)


def export(model, inputs, path):
    import torch
    args = tuple(torch.from_numpy(a) for a in inputs.values())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, args, path, opset_version=caselib.OPSET,
                          do_constant_folding=True, input_names=list(inputs),
                          output_names=["output"], training=torch.onnx.TrainingMode.EVAL)


def signature(tsr):
    info = run([os.path.join(BIN, "tessera-run"), tsr, "--info"])
    ins = re.findall(r"^  input '([^']+)': \[([0-9,]*)\]", info, re.M)
    outs = re.findall(r"^  output '([^']+)': \[([0-9,]*)\]", info, re.M)
    shape = lambda s: tuple(int(d) for d in s.split(",") if d)  # noqa: E731
    return [(n, shape(s)) for n, s in ins], [(n, shape(s)) for n, s in outs]


def torch_reference(model, inputs, target, loss, dtype):
    """Loss and d loss / d tensor for every float parameter and buffer, computed by torch
    in `dtype` (float64: the reference; float32: torch's own error, the yardstick)."""
    import torch
    m = copy.deepcopy(model).to(dtype)
    tensors = {}
    for n, p in list(m.named_parameters()) + list(m.named_buffers()):
        if p.dtype.is_floating_point:
            p.requires_grad_(True)
            tensors[n] = p
    args = [torch.from_numpy(a).to(dtype) if a.dtype.kind == "f" else torch.from_numpy(a)
            for a in inputs.values()]
    with torch.enable_grad():
        y = m(*args)
        y = y[0] if isinstance(y, (tuple, list)) else y
        t = torch.from_numpy(target).to(dtype)
        if loss == "mse":
            value = ((y - t) ** 2).mean()
        else:
            rows = y.numel() // y.shape[-1]
            value = -(t * torch.log_softmax(y, dim=-1)).sum() / rows
        grads = torch.autograd.grad(value, list(tensors.values()), allow_unused=True)
    out = {}
    for (n, p), g in zip(tensors.items(), grads):
        out[n] = (p.detach().float().numpy(),
                  np.zeros(p.shape) if g is None else g.double().numpy())
    return float(value.item()), out


def match(init, torch_tensors):
    """The key of the torch tensor whose value equals `init`, and whether transposed."""
    for key, (value, _) in torch_tensors.items():
        if value.shape == init.shape and np.array_equal(value, init):
            return key, False
        if value.ndim == 2 and value.T.shape == init.shape and np.array_equal(value.T, init):
            return key, True
    return None, False


def memory_check(report_path, run_output):
    """(arena bytes the plan predicts, high-water mark tessera-run measured)."""
    with open(report_path) as f:
        m = re.search(r"arena (\d+) bytes", f.read())
    r = re.search(r"memory: arena (\d+) bytes planned, high-water mark (\d+) bytes",
                  run_output)
    if not m or not r:
        raise RuntimeError("no memory plan in the report or no --memory-stats line")
    if int(r.group(1)) != int(m.group(1)):
        raise RuntimeError("the artifact's arena (%s) differs from the report's (%s)"
                           % (r.group(1), m.group(1)))
    return int(m.group(1)), int(r.group(2))


def graph_peaks(path):
    """No-remat peak and peak lower bound of a --remat-dump-graph file (the remat pass's
    memory model: see passes/remat/Schedule.h)."""
    import json
    g = json.load(open(path))
    nodes = sorted(g["nodes"], key=lambda n: n["id"])
    succ = {n["id"]: [] for n in nodes}
    preds = {n["id"]: [] for n in nodes}
    for e in g["links"]:
        succ[e["source"]].append(e["target"])
        preds[e["target"]].append(e["source"])
    n = len(nodes)
    delta = [0] * (n + 1)
    lower, outputs_before = 0, 0
    for v in nodes:
        i = v["id"]
        end = n if v["output"] else max([i + 1] + [s + 1 for s in succ[i]])
        delta[i] += v["cost_ram"]
        delta[end] -= v["cost_ram"]
        need = v["cost_ram"] + outputs_before + sum(
            nodes[p]["cost_ram"] for p in set(preds[i]) if not nodes[p]["output"])
        lower = max(lower, need)
        outputs_before += v["cost_ram"] if v["output"] else 0
    live = peak = 0
    for x in delta[:n]:
        live += x
        peak = max(peak, live)
    return peak, lower


def bind_inputs(ins, inputs, target, inits, d, prefix):
    """tessera-run --input arguments: model inputs, the target, parameters from the
    initializers, zeros for optimizer state. Returns (args, parameter names)."""
    args, params = [], []
    for n, shape in ins:
        if n in inputs:
            arr = inputs[n]
        elif n == "target":
            arr = target
        elif n == "adam_step" or n.endswith(".adam_m") or n.endswith(".adam_v"):
            arr = np.zeros(shape, np.float32)
        elif n in inits:
            arr = inits[n].astype(np.float32)
            params.append(n)
        else:
            raise RuntimeError("input '%s' is neither a model input, the target nor an "
                               "ONNX initializer" % n)
        if tuple(arr.shape) != shape:
            raise RuntimeError("input '%s': shape %s, artifact wants %s" % (n, arr.shape, shape))
        p = os.path.join(d, prefix + caselib.sanitize(n) + ".npy")
        np.save(p, arr)
        args += ["--input", "%s=%s" % (n, p)]
    return args, params


def check_adam(name, workdir, onnx_path, inputs, target, inits, loss, model):
    """One Adam step from zero state against torch.optim.Adam (float64)."""
    import torch
    d = os.path.join(workdir, name)
    tsr = os.path.join(d, "train_adam.tsr")
    run([os.path.join(BIN, "tessera-compile"), "-q", onnx_path, "--train", "--loss=" + loss,
         "--optimizer=adam", "--lr=0.01", "-o", tsr])
    ins, outs = signature(tsr)
    args, _ = bind_inputs(ins, inputs, target, inits, d, "adam_in_")
    out_dir = os.path.join(d, "out_adam")
    run([os.path.join(BIN, "tessera-run"), tsr, "-o", out_dir] + args)
    m = copy.deepcopy(model).double()
    named = dict(m.named_parameters())
    opt = torch.optim.Adam(named.values(), lr=0.01)
    y = m(*[torch.from_numpy(a.astype(np.float64)) for a in inputs.values()])
    t = torch.from_numpy(target.astype(np.float64))
    if loss == "mse":
        value = ((y - t) ** 2).mean()
    else:
        value = -(t * torch.log_softmax(y, dim=-1)).sum() / (y.numel() // y.shape[-1])
    before = {k: v.detach().float().numpy().copy() for k, v in named.items()}
    opt.zero_grad()
    value.backward()
    opt.step()
    problems = []
    checked = 0
    for n, _ in ins:
        if n not in inits:
            continue
        key = next((k for k, v in before.items() if v.shape == inits[n].shape and
                    np.array_equal(v, inits[n])), None)
        if key is None:
            continue
        want = named[key].detach().numpy()
        got = np.load(os.path.join(out_dir, caselib.sanitize(n + ".new") + ".npy"))
        # The first Adam step moves each weight by about lr * sign(g); elements whose
        # gradient is near zero are sensitive to eps and rounding.
        err = float(np.max(np.abs(got - want)))
        if err > 1e-4:
            problems.append("adam: '%s' off by %.3g" % (n, err))
        checked += 1
    step = np.load(os.path.join(out_dir, "adam_step.new.npy"))
    if step.tolist() != [1.0]:
        problems.append("adam: step count %s, expected [1.0]" % step.tolist())
    if not checked:
        problems.append("adam: no parameter matched")
    return problems


def check_model(name, workdir, budget, method, log):
    import onnx
    from onnx import numpy_helper
    import torch
    torch.manual_seed(0)
    model, inputs = (grad_ops.build(name) if name in grad_ops.NAMES
                     else models.build(name))
    model = fold_batch_norm(model)
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    if hasattr(model, "tessera_mlir"):
        # Written in the tessera dialect; its parameters are named constants.
        onnx_path = os.path.join(d, "model.mlir")
        with open(onnx_path, "w") as f:
            f.write(model.tessera_mlir(model))
        inits = {n: p.detach().numpy() for n, p in model.named_parameters()}
    else:
        onnx_path = os.path.join(d, "model.onnx")
        export(model, inputs, onnx_path)
        inits = {i.name: numpy_helper.to_array(i)
                 for i in onnx.load(onnx_path).graph.initializer}
    loss = LOSS.get(name, "mse")
    base = [os.path.join(BIN, "tessera-compile"), "-q", onnx_path, "--train",
            "--loss=" + loss, "--optimizer=sgd", "--lr=%g" % LR, "--emit-gradients"]
    t0 = time.time()
    tsr = os.path.join(d, "train.tsr")
    report = os.path.join(d, "memory.txt")
    run(base + ["-o", tsr, "--memory-report=" + report])
    t_compile = time.time() - t0
    ins, outs = signature(tsr)
    # Output shape from the torch model, target seeded.
    with torch.no_grad():
        y = model(*[torch.from_numpy(a) for a in inputs.values()])
        y = (y[0] if isinstance(y, (tuple, list)) else y).numpy()
    rng = np.random.RandomState(7)
    if loss == "mse":
        target = rng.standard_normal(y.shape).astype(np.float32)
    else:
        target = np.eye(y.shape[-1], dtype=np.float32)[
            rng.randint(0, y.shape[-1], size=y.shape[:-1])]
    args, params = bind_inputs(ins, inputs, target, inits, d, "in_")
    out_dir = os.path.join(d, "out")
    t0 = time.time()
    stats = run([os.path.join(BIN, "tessera-run"), tsr, "-o", out_dir, "--memory-stats"]
                + args)
    t_run = time.time() - t0
    predicted, measured = memory_check(report, stats)
    got = {n: np.load(os.path.join(out_dir, caselib.sanitize(n) + ".npy"))
           if os.path.exists(os.path.join(out_dir, caselib.sanitize(n) + ".npy"))
           else np.load(os.path.join(out_dir, n + ".npy")) for n, _ in outs}

    import torch as _torch
    ref_loss, tensors = torch_reference(model, inputs, target, loss, _torch.float64)
    _, tensors32 = torch_reference(model, inputs, target, loss, _torch.float32)
    problems = []
    gl = float(got["loss"][0])
    if abs(gl - ref_loss) > 1e-4 * max(1.0, abs(ref_loss)):
        problems.append("loss %.8g vs torch %.8g" % (gl, ref_loss))
    refs, own = {}, {}
    for n in params:
        key, transposed = match(inits[n], tensors)
        if key is None:
            problems.append("parameter '%s' matches no torch tensor" % n)
            continue
        fix = (lambda a: a.T) if transposed else (lambda a: a)
        refs[n], own[n] = fix(tensors[key][1]), fix(tensors32[key][1])
    top = max([float(np.max(np.abs(g))) for g in refs.values()] + [1e-30])
    worst = 0.0
    for n, g in refs.items():
        scale = max(float(np.max(np.abs(g))), 1e-3 * top)
        err = float(np.max(np.abs(got[n + ".grad"].astype(np.float64) - g))) / scale
        # Torch's own float32 error against float64 (ReLU/max-pool decisions flip near
        # ties) sets the bar where it is above 2e-3.
        bar = max(2e-3, 2 * float(np.max(np.abs(own[n] - g))) / scale)
        diff = np.abs(got[n + ".grad"].astype(np.float64) - g)
        l2 = float(np.linalg.norm(diff)) / max(float(np.linalg.norm(g)), 1e-30)
        bad = float(np.mean(diff > 2e-3 * scale))
        worst = max(worst, l2)
        # A flipped decision moves a few elements a lot (and, upstream of it, many a
        # little); a wrong rule is off by O(1) in L2.
        if err > bar and l2 > 1e-2:
            problems.append("gradient of '%s': error %.3g of its scale %.3g (bar %.3g), "
                            "relative L2 %.3g, %.2g%% of elements off"
                            % (n, err, scale, bar, l2, 100 * bad))
        newp = inits[n].astype(np.float64) - LR * got[n + ".grad"].astype(np.float64)
        perr = float(np.max(np.abs(got[n + ".new"] - newp)))
        if perr > 1e-6 * max(1.0, float(np.max(np.abs(newp)))):
            problems.append("updated '%s' is not p - lr * grad (off by %.3g)" % (n, perr))
    if name == "mlp":
        problems += check_adam(name, workdir, onnx_path, inputs, target, inits, loss, model)
    if predicted != measured:
        problems.append("memory plan predicts a %d-byte peak, the run's arena high-water "
                        "mark is %d bytes" % (predicted, measured))
    note = ("loss %.6g, %d parameters, worst relative L2 gradient error %.2g, peak %d B "
            "planned = measured, compile %.1fs, run %.2fs"
            % (gl, len(refs), worst, predicted, t_compile, t_run))
    if budget and not problems:
        # Without --emit-gradients: gradients die at their update, as in training.
        plain = [a for a in base if a != "--emit-gradients"]
        ptsr = os.path.join(d, "train_plain.tsr")
        preport = os.path.join(d, "memory_plain.txt")
        run(plain + ["-o", ptsr, "--memory-report=" + preport])
        pdir = os.path.join(d, "out_plain")
        pstats = run([os.path.join(BIN, "tessera-run"), ptsr, "-o", pdir, "--memory-stats"]
                     + args)
        ppred, _ = memory_check(preport, pstats)
        gpath = os.path.join(d, "graph.json")
        run(plain + ["--remat-dump-graph=" + gpath, "--emit=linalg", "-o", os.devnull])
        peak, lower = graph_peaks(gpath)
        # The lower bound is not always reachable: stay halfway above it.
        limit = max(int(peak * float(budget.rstrip("%")) / 100), (lower + peak) // 2)
        rtsr = os.path.join(d, "train_remat.tsr")
        rreport = os.path.join(d, "memory_remat.txt")
        t0 = time.time()
        out = run(plain[:1] + plain[2:] + [
            "--memory-budget=%d" % limit, "--remat-method=" + method,
            "--remat-time-limit=20", "-o", rtsr, "--memory-report=" + rreport])
        # The remat pass's summary: a remark, "LOC: remark: remat: @main: ...".
        summary = [line[line.index("remat: @"):] for line in out.splitlines()
                   if "remark: remat: @" in line]
        if not summary:
            problems.append("no remat summary line in tessera-compile's output")
        rdir = os.path.join(d, "out_remat")
        rstats = run([os.path.join(BIN, "tessera-run"), rtsr, "-o", rdir, "--memory-stats"]
                     + args)
        rpred, rmeas = memory_check(rreport, rstats)
        if rpred != rmeas:
            problems.append("remat: memory plan predicts %d bytes, high-water mark %d"
                            % (rpred, rmeas))
        # The remat model does not see lowering temporaries: an arena above the
        # budget must at least be reported by tessera-compile.
        warned = "warning: the planned arena (%d bytes) is above the memory budget" % rpred
        if rpred > limit and warned not in out:
            problems.append("remat: the arena (%d bytes) is above the budget (%d bytes) "
                            "and tessera-compile did not warn" % (rpred, limit))
        _, routs = signature(rtsr)
        for n, _ in routs:
            f = caselib.sanitize(n) + ".npy"
            a = np.load(os.path.join(pdir, f))
            b = np.load(os.path.join(rdir, f))
            if not np.array_equal(a, b):
                problems.append("remat changed output '%s' (max diff %.3g)"
                                % (n, float(np.max(np.abs(a - b)))))
        if summary:
            note += ("; budget %d B (%s of %d, lower bound %d): %s; arena of the plain step "
                     "%d B, rematerialized %d B (%.1fs)") % (
                limit, budget, peak, lower, summary[0].split(": ", 2)[-1], ppred, rpred,
                time.time() - t0)
            if rpred > limit:
                note += " [arena above the budget: warned]"
    return problems, note


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="mlp,resnet18,mobilenet_v2,transformer_encoder,gpt_block")
    ap.add_argument("--workdir", default=os.path.join(REPO, "build", "e2e", "train"))
    ap.add_argument("--memory-budget", default="", help="also check remat at this budget")
    ap.add_argument("--remat-method", default="moccasin")
    ap.add_argument("--remat-models", default="",
                    help="models the --memory-budget check runs on (default: all)")
    a = ap.parse_args(argv)
    passed = failed = 0
    names = []
    for m in [m for m in a.models.split(",") if m]:
        names += grad_ops.NAMES if m == "ops" else [m]
    for name in names:
        if name not in LOSS and name not in grad_ops.NAMES:
            print("FAIL %s: unknown model" % name)
            failed += 1
            continue
        try:
            remat = a.memory_budget if (not a.remat_models or
                                        name in a.remat_models.split(",")) else ""
            problems, note = check_model(name, a.workdir, remat, a.remat_method, print)
        except Exception as ex:  # noqa: BLE001 - reported per model
            problems, note = [str(ex)], ""
        if problems:
            failed += 1
            print("FAIL %s: %s" % (name, "; ".join(problems)))
        else:
            passed += 1
            print("PASS %s (%s)" % (name, note))
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
