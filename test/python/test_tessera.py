"""Tests of the Python package `tessera` and its torch integration.

Run with the package on PYTHONPATH (CTest: build/python):
    PYTHONPATH=build/python /usr/bin/python3 -m unittest test/python/test_tessera.py
Expected values come from numpy formulas or from the torch modules
themselves, never from Tessera.
"""

import os
import tempfile
import threading
import unittest

import numpy as np
import torch

import tessera
import tessera.torch

# y = relu(x @ w) + b, two outputs: y and x * 2.
MLIR = """func.func @main(%x: tensor<2x3xf32> {tessera.name = "x"},
                     %b: tensor<2x2xf32> {tessera.name = "b"}) ->
    (tensor<2x2xf32> {tessera.name = "y"}, tensor<2x3xf32> {tessera.name = "x2"}) {
  %w = tessera.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32> loc("w")
  %m = tessera.matmul %x, %w : tensor<2x3xf32>, tensor<3x2xf32> -> tensor<2x2xf32>
  %r = tessera.relu %m : tensor<2x2xf32>
  %y = tessera.add %r, %b : tensor<2x2xf32>, tensor<2x2xf32> -> tensor<2x2xf32>
  %two = tessera.constant dense<2.0> : tensor<2x3xf32>
  %x2 = tessera.mul %x, %two : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
  return %y, %x2 : tensor<2x2xf32>, tensor<2x3xf32>
}
"""
W = np.array([[1, 2], [3, 4], [5, 6]], np.float32)


def reference(x, b):
    return np.maximum(x @ W, 0) + b, x * 2


class CompileAndRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = tessera.compile(MLIR.encode(), format="mlir", name="two.mlir")

    def inputs(self, seed=0):
        rng = np.random.default_rng(seed)
        return (rng.standard_normal((2, 3)).astype(np.float32),
                rng.standard_normal((2, 2)).astype(np.float32))

    def test_signature(self):
        m = self.model
        self.assertEqual([s.name for s in m.inputs], ["x", "b"])
        self.assertEqual(m.inputs[0], tessera.TensorSpec("x", (2, 3), "float32"))
        self.assertEqual(m.outputs[1], tessera.TensorSpec("x2", (2, 3), "float32"))
        self.assertEqual(m.signature(),
                         "(x: float32[2, 3], b: float32[2, 2]) -> "
                         "(y: float32[2, 2], x2: float32[2, 3])")
        self.assertEqual(m.target, "cpu")
        self.assertEqual(m.manifest["target"], "cpu")
        self.assertGreater(m.compile_seconds, 0)

    def test_positional_keyword_and_dict(self):
        x, b = self.inputs()
        ry, rx2 = reference(x, b)
        y, x2 = self.model(x, b)
        np.testing.assert_allclose(y, ry, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(x2, rx2, rtol=1e-6)
        y, _ = self.model(b=b, x=x)
        np.testing.assert_allclose(y, ry, rtol=1e-5, atol=1e-5)
        out = self.model.run({"x": x, "b": b})
        self.assertEqual(list(out), ["y", "x2"])
        np.testing.assert_allclose(out["y"], ry, rtol=1e-5, atol=1e-5)
        self.assertGreater(self.model.last_run_seconds, 0)

    def test_non_contiguous_input(self):
        x, b = self.inputs(1)
        xt = np.asfortranarray(x)
        self.assertFalse(xt.flags.c_contiguous)
        y, _ = self.model(xt, b)
        np.testing.assert_allclose(y, reference(x, b)[0], rtol=1e-5, atol=1e-5)

    def test_input_errors(self):
        x, b = self.inputs()
        with self.assertRaisesRegex(tessera.RunError, "input 'x': expected float32, got float64"):
            self.model(x.astype(np.float64), b)
        with self.assertRaisesRegex(tessera.RunError, "expected 2 inputs, got 1"):
            self.model(x)
        with self.assertRaisesRegex(tessera.RunError, "no input named 'z'"):
            self.model(x=x, b=b, z=b)
        with self.assertRaisesRegex(tessera.RunError, "missing inputs b"):
            self.model(x=x)
        with self.assertRaises(tessera.RunError) as cm:
            self.model(np.zeros((3, 3), np.float32), b)
        self.assertEqual(cm.exception.code, "TSR_ERR_SHAPE_MISMATCH")
        self.assertIn("input 'x'", str(cm.exception))

    def test_threads_share_one_model(self):
        errors = []

        def worker(seed):
            for i in range(50):
                x, b = self.inputs(seed * 1000 + i)
                y, x2 = self.model(x, b)
                ry, rx2 = reference(x, b)
                if not (np.allclose(y, ry, atol=1e-5) and np.allclose(x2, rx2)):
                    errors.append((seed, i))

        threads = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])


class Options(unittest.TestCase):
    def test_listed(self):
        opts = tessera.options()
        for name in ("target", "precision", "memory-budget", "mesh", "derive", "input-shape"):
            self.assertIn(name, opts)
            self.assertTrue(opts[name])

    def test_unknown_and_bad_values(self):
        with self.assertRaises(tessera.CompileError) as cm:
            tessera.compile(MLIR.encode(), format="mlir", no_such_option=1)
        self.assertEqual(cm.exception.code, "TSC_ERR_INVALID_OPTION")
        self.assertIn("unknown option 'no-such-option'", str(cm.exception))
        with self.assertRaisesRegex(tessera.CompileError, "option 'opt-level': '7'"):
            tessera.compile(MLIR.encode(), format="mlir", opt_level=7)
        with self.assertRaisesRegex(tessera.CompileError, "need --train"):
            tessera.compile(MLIR.encode(), format="mlir", optimizer="adam")
        with self.assertRaises(tessera.CompileError) as cm:
            tessera.compile(MLIR.encode(), format="mlir", precision="f8")
        self.assertEqual(cm.exception.code, "TSC_ERR_INVALID_OPTION")
        self.assertEqual(str(cm.exception),
                         "--precision=f8 is not supported (f32, bf16, f16)")
        with self.assertRaisesRegex(tessera.CompileError, "emit must be 'artifact'"):
            tessera.compile(MLIR.encode(), format="mlir", emit="linalg")
        with self.assertRaisesRegex(tessera.CompileError, "unknown format 'tflite'"):
            tessera.compile(b"", format="tflite")
        with self.assertRaises(TypeError):
            tessera.compile(42)

    def test_options_change_the_build(self):
        # bf16 storage: close to, not equal to, the f32 result.
        m = tessera.compile(MLIR.encode(), format="mlir", precision="bf16", opt_level=1)
        x = np.array([[0.3, -0.7, 1.1], [2.5, 0.1, -0.2]], np.float32)
        b = np.full((2, 2), 0.1, np.float32)
        y, _ = m(x, b)
        np.testing.assert_allclose(y, reference(x, b)[0], rtol=2e-2, atol=2e-2)
        # input-shape fixes a dynamic ONNX dim.
        lin = torch.nn.Linear(4, 3)
        buf = tessera.torch.export_onnx(lin, (torch.randn(2, 4),))
        dyn = _make_batch_dynamic(buf)
        m5 = tessera.compile(dyn, input_shape={"input_0": (5, 4)})
        self.assertEqual(m5.inputs[0].shape, (5, 4))
        with self.assertRaisesRegex(tessera.CompileError, "option 'input-shape'"):
            tessera.compile(dyn, input_shape="input_0=5xfour")


def _make_batch_dynamic(onnx_bytes):
    import onnx
    m = onnx.load_from_string(onnx_bytes)
    for v in list(m.graph.input) + list(m.graph.output):
        v.type.tensor_type.shape.dim[0].dim_param = "batch"
    return m.SerializeToString()


class Diagnostics(unittest.TestCase):
    BAD = b'func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {\n  %0 = tessera.nope %x : tensor<2xf32>\n  return %0 : tensor<2xf32>\n}\n'

    def test_located_error(self):
        with self.assertRaises(tessera.CompileError) as cm:
            tessera.compile(self.BAD, format="mlir", name="bad.mlir")
        e = cm.exception
        self.assertEqual(e.code, "TSC_ERR_COMPILE")
        errs = [d for d in e.diagnostics if d.severity == "error"]
        self.assertEqual((errs[0].file, errs[0].line, errs[0].column), ("bad.mlir", 2, 8))
        self.assertIn("tessera.nope", errs[0].message)
        self.assertIn("bad.mlir:2:8: error:", str(e))

    def test_callback_exceptions_propagate(self):
        def boom(d):
            raise KeyError("from the callback")
        with self.assertRaisesRegex(KeyError, "from the callback"):
            tessera.compile(MLIR.encode(), format="mlir", verbose=True, on_diagnostic=boom)

    def test_error_text(self):
        with self.assertRaises(tessera.CompileError) as cm:
            tessera.compile(MLIR.encode(), format="mlir", memory_budget="12",
                            train=True, optimizer=None)
        # One line per diagnostic, no tool name; the note follows its error.
        lines = str(cm.exception).splitlines()
        self.assertRegex(lines[0], r"^<buffer>:\d+:\d+: error: tessera-remat: "
                         "the memory budget of 12 bytes")
        self.assertIn(": note: here ", lines[1])
        self.assertTrue(any(ln.startswith("error: stage 'tessera-graph-cleanup' failed")
                            for ln in lines), lines)

    def test_callback_and_progress(self):
        seen = []
        tessera.compile(MLIR.encode(), format="mlir", verbose=True, on_diagnostic=seen.append)
        remarks = [d.message for d in seen if d.severity == "remark"]
        self.assertTrue(any(r.startswith("import") for r in remarks), remarks)
        self.assertTrue(any(r.startswith("llvm codegen") for r in remarks), remarks)

    def test_bad_inputs(self):
        with self.assertRaisesRegex(tessera.CompileError, "not a valid ONNX model"):
            tessera.compile(b"\x00garbage", format="onnx")
        with self.assertRaises(tessera.CompileError) as cm:
            tessera.compile("/nonexistent/model.onnx")
        self.assertEqual(cm.exception.code, "TSC_ERR_IO")
        with self.assertRaisesRegex(tessera.RunError, "not a Tessera artifact"):
            tessera.load(b"definitely not an artifact")


class PathsAndArtifacts(unittest.TestCase):
    def test_compile_path_and_load_file(self):
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "m.mlir")
            with open(src, "w") as f:
                f.write(MLIR)
            m = tessera.compile(src)
            self.assertEqual(m.inputs[0].name, "x")
            # A suffix that does not say the format, with format= given.
            txt = os.path.join(d, "m.txt")
            os.rename(src, txt)
            self.assertEqual(tessera.compile(txt, format="mlir").inputs[0].name, "x")
            os.rename(txt, src)
            # The same model as an artifact file, through tessera-compile.
            art = os.path.join(d, "m.tsr")
            bindir = os.environ.get("TESSERA_BIN_DIR")
            if not bindir:
                self.skipTest("TESSERA_BIN_DIR (tessera-compile's directory) is not set")
            tool = os.path.join(bindir, "tessera-compile")
            self.assertEqual(os.system(f"'{tool}' -q '{src}' -o '{art}'"), 0)
            m2 = tessera.load(art)
            x = np.ones((2, 3), np.float32)
            b = np.zeros((2, 2), np.float32)
            np.testing.assert_allclose(m2(x, b)[0], m(x, b)[0])


class TorchIntegration(unittest.TestCase):
    def check(self, module, inputs, atol=1e-4, **options):
        torch.manual_seed(0)
        compiled = tessera.torch.compile(module, inputs, **options)
        with torch.no_grad():
            want = module.eval()(*inputs)
        got = compiled(*inputs)
        if isinstance(want, torch.Tensor):
            want, got = (want,), (got,)
        self.assertEqual(len(got), len(want))
        for g, w in zip(got, want):
            self.assertIsInstance(g, torch.Tensor)
            self.assertEqual(g.shape, w.shape)
            scale = max(1.0, float(w.abs().max()))
            self.assertLess(float((g - w).abs().max()) / scale, atol)
        return compiled

    def test_mlp(self):
        torch.manual_seed(1)
        m = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(),
                                torch.nn.Linear(64, 10), torch.nn.Softmax(dim=-1))
        c = self.check(m, (torch.randn(4, 32),))
        self.assertEqual(c.model.outputs[0].shape, (4, 10))

    def test_cnn(self):
        torch.manual_seed(2)
        m = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
            torch.nn.MaxPool2d(2), torch.nn.Conv2d(8, 16, 3, stride=2), torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(16, 5))
        self.check(m, (torch.randn(2, 3, 16, 16),))

    def test_transformer_layer_two_outputs(self):
        torch.manual_seed(3)

        class Block(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.layer = torch.nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0,
                                                              batch_first=True)
                self.head = torch.nn.Linear(32, 3)

            def forward(self, x, scale):
                h = self.layer(x)
                return self.head(h) * scale, h.mean(dim=1)

        self.check(Block(), (torch.randn(2, 6, 32), torch.full((1,), 0.5)))

    def test_bf16_precision(self):
        torch.manual_seed(4)
        m = torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.Tanh(), torch.nn.Linear(16, 4))
        self.check(m, (torch.randn(3, 16),), atol=3e-2, precision="bf16")

    def test_wrong_inputs(self):
        c = tessera.torch.compile(torch.nn.Linear(4, 2), (torch.randn(3, 4),))
        with self.assertRaisesRegex(tessera.RunError, "expected 1 tensors, got 2"):
            c(torch.randn(3, 4), torch.randn(3, 4))
        with self.assertRaisesRegex(tessera.RunError, "expected float32, got float64"):
            c(torch.randn(3, 4, dtype=torch.float64))
        with self.assertRaises(TypeError):
            tessera.torch.compile(lambda x: x, (torch.randn(1),))


if __name__ == "__main__":
    unittest.main()
