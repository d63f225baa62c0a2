"""Embedding against an installed Tessera, and docs/embedding.md's examples.

    install_test.py BUILD_DIR WORK_DIR

1. `cmake --install BUILD_DIR --prefix WORK_DIR/prefix`.
2. examples/embed (find_package(Tessera)) is configured, built and run on an
   ONNX model exported from torch, with and without options; its printed
   outputs must match the module's on the same inputs; a bad option must
   fail with a clear message.
3. docs/embedding.md: its C example must be examples/embed/main.c verbatim
   (so step 2 ran it), and its Python example is run against the installed
   package.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(cmd, **kw):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], check=True, text=True,
                          capture_output=True, **kw)


def code_blocks(markdown, lang):
    return re.findall(r"^```" + lang + r"\n(.*?)^```$", markdown, re.S | re.M)


def example_model(path):
    """A two-input, two-output module; its ONNX is written to `path`."""
    import torch

    class TwoHeads(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Linear(6, 12)
            self.b = torch.nn.Linear(12, 3)

        def forward(self, x, y):
            h = torch.relu(self.a(x))
            return self.b(h) * y, torch.tanh(x).sum(dim=1, keepdim=True)

    torch.manual_seed(7)
    m = TwoHeads().eval()
    args = (torch.zeros(4, 6), torch.zeros(4, 3))
    torch.onnx.export(m, args, str(path), opset_version=17, input_names=["x", "y"],
                      output_names=["out", "norm"])
    return m, args


def pattern_inputs(args):
    """examples/embed/main.c's inputs: element i of input k is
    ((i * 7 + k * 3) % 11 - 5) / 5."""
    import torch
    out = []
    for k, a in enumerate(args):
        i = torch.arange(a.numel())
        out.append((((i * 7 + k * 3) % 11 - 5).float() / 5).reshape(a.shape))
    return out


def parse_outputs(stdout):
    vals = {}
    for line in stdout.splitlines():
        m = re.match(r"output (\S+): (.*)$", line)
        if m:
            vals[m.group(1)] = [float(v) for v in m.group(2).split()]
    return vals


def check_app(app, onnx, module, args, options, tol):
    import torch
    r = run([app, onnx, *options])
    got = parse_outputs(r.stdout)
    with torch.no_grad():
        want = module(*pattern_inputs(args))
    names = ["out", "norm"]
    assert list(got) == names, f"outputs {list(got)} in {r.stdout!r}"
    for name, w in zip(names, want):
        w = w.flatten().tolist()
        g = got[name]
        assert len(g) == len(w), (name, len(g), len(w))
        err = max(abs(a - b) for a, b in zip(g, w)) / max(1.0, max(abs(v) for v in w))
        assert err <= tol, f"{name}: relative error {err} > {tol} with {options}"
        print(f"  {name}: {len(g)} values, max relative error {err:.2e} ({options or 'defaults'})")
    assert "compiled " in r.stdout and "ran in " in r.stdout, r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("work")
    args = ap.parse_args()
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    prefix = work / "prefix"

    # 1. Install.
    run(["cmake", "--install", args.build, "--prefix", prefix])
    for f in ["include/tessera/Compiler.h", "include/tessera/Runtime.h",
              "lib/libtessera_compiler.so", "lib/libtessera_runtime.so",
              "lib/cmake/Tessera/TesseraConfig.cmake",
              "lib/python3/dist-packages/tessera/__init__.py",
              "bin/tessera-compile", "bin/tessera-run"]:
        assert (prefix / f).exists(), f"not installed: {f}"

    # 2. The example application against the installed package.
    app_build = work / "embed-build"
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    # The C compiler Tessera was built with (a bare machine may have no cc).
    cache = (Path(args.build) / "CMakeCache.txt").read_text()
    cc = re.search(r"^CMAKE_C_COMPILER:\w+=(.+)$", cache, re.M)
    if cc:
        gen.append(f"-DCMAKE_C_COMPILER={cc.group(1)}")
    run(["cmake", "-S", ROOT / "examples/embed", "-B", app_build, *gen,
         f"-DCMAKE_PREFIX_PATH={prefix}", "-DCMAKE_C_FLAGS=-Wall -Wextra -Werror"])
    run(["cmake", "--build", app_build])
    app = app_build / "embed"
    onnx = work / "two_heads.onnx"
    module, margs = example_model(onnx)
    check_app(app, onnx, module, margs, [], 1e-5)
    check_app(app, onnx, module, margs, ["precision=bf16", "opt-level=2"], 3e-2)
    bad = subprocess.run([str(app), str(onnx), "no-such=1"], text=True, capture_output=True)
    assert bad.returncode != 0 and "unknown option 'no-such'" in bad.stderr, bad
    bad = subprocess.run([str(app), str(work / "missing.onnx")], text=True,
                         capture_output=True)
    assert bad.returncode != 0 and "missing.onnx" in bad.stderr, bad
    print("examples/embed: built against the installed package and matched torch")

    # The installed tools run from the prefix (their RPATHs).
    art = work / "two_heads.tsr"
    run([prefix / "bin/tessera-compile", "-q", onnx, "-o", art])
    r = run([prefix / "bin/tessera-run", art, "--info"])
    assert "input 'x': [4,6] (f32)" in r.stdout, r.stdout
    # A consumer asking for the compiler component gets it.
    probe = work / "probe"
    probe.mkdir()
    (probe / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.20)\nproject(P LANGUAGES C)\n"
        "find_package(Tessera 0.1 REQUIRED COMPONENTS runtime compiler)\n"
        "message(STATUS \"tessera-compile: ${TESSERA_COMPILE_EXECUTABLE}\")\n")
    r = run(["cmake", "-S", probe, "-B", probe / "build", *gen,
             f"-DCMAKE_PREFIX_PATH={prefix}"])
    assert f"tessera-compile: {prefix}/bin/tessera-compile" in r.stdout, r.stdout

    # 3. docs/embedding.md.
    doc = (ROOT / "docs/embedding.md").read_text()
    c_blocks = code_blocks(doc, "c")
    assert len(c_blocks) == 1, f"expected one C example, found {len(c_blocks)}"
    assert c_blocks[0] == (ROOT / "examples/embed/main.c").read_text(), \
        "docs/embedding.md's C example differs from examples/embed/main.c"
    py_blocks = code_blocks(doc, "python")
    assert py_blocks, "no Python example in docs/embedding.md"
    env = dict(os.environ, PYTHONPATH=str(prefix / "lib/python3/dist-packages"))
    env.pop("TESSERA_LIBRARY_DIR", None)
    for i, block in enumerate(py_blocks):
        script = work / f"doc_example_{i}.py"
        script.write_text(block)
        r = run([sys.executable, script], env=env, cwd=work)
        print(r.stdout, end="")
        assert "import tessera" in block
    # The installed package found the installed libraries, not the build's.
    r = run([sys.executable, "-c", "import tessera._capi as c; print(c.compiler._name)"],
            env=env, cwd=work)
    assert r.stdout.strip().startswith(str(prefix)), r.stdout
    print("docs/embedding.md: the C example is examples/embed/main.c; "
          f"{len(py_blocks)} Python example(s) ran against the installed package")


if __name__ == "__main__":
    try:
        main()
    except subprocess.CalledProcessError as e:
        print(e.stdout, e.stderr, sep="\n", file=sys.stderr)
        raise
