"""Writes malformed and unsupported ONNX models for the importer tests."""
import os
import sys

import onnx
from onnx import TensorProto, helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)

x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
nodes = [
    helper.make_node("Relu", ["x"], ["a"], name="relu0"),
    helper.make_node("Celu", ["a"], ["b"], name="celu0"),
    helper.make_node("Celu", ["b"], ["c"], name="celu1"),
    helper.make_node("Softsign", ["c"], ["d"], name="softsign0"),
    helper.make_node("Mish", ["d"], ["y"], name="mish0"),
]
g = helper.make_graph(nodes, "g", [x], [y])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
onnx.save(m, os.path.join(out, "unsupported.onnx"))

good = helper.make_model(
    helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="r")], "g", [x], [y]),
    opset_imports=[helper.make_opsetid("", 17)])
data = good.SerializeToString()
with open(os.path.join(out, "good.onnx"), "wb") as f:
    f.write(data)
with open(os.path.join(out, "truncated.onnx"), "wb") as f:
    f.write(data[: len(data) // 2])
with open(os.path.join(out, "garbage.onnx"), "wb") as f:
    f.write(b"this is not an onnx model at all\x00\xff\xfe" * 10)
open(os.path.join(out, "empty.onnx"), "wb").close()
