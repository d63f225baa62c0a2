#!/usr/bin/env python3
"""Fails unless every ONNX operator the importer supports appears in at least one op-level
e2e case of test/e2e/ops.py (so a converter cannot land without a numerical test).

usage: check_op_coverage.py TESSERA_COMPILE
The supported list is read from `TESSERA_COMPILE --list-supported-ops` (the same table the
importer dispatches on); the cases' operator types are read from the graphs ops.py builds.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def supported_ops(tool):
    out = subprocess.run([tool, "--list-supported-ops"], check=True, capture_output=True,
                         text=True).stdout
    ops = re.findall(r"^\| ([A-Za-z0-9_]+) \|$", out, re.M)
    return {o for o in ops if o != "operator"}


def case_ops():
    import ops as ops_mod
    seen = {}
    for cid in ops_mod.CASES:
        spec, _ = ops_mod.build(cid)
        for node in spec.nodes:
            seen.setdefault(node.op_type, cid)
    return seen


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    supported = supported_ops(argv[1])
    if not supported:
        print("error: no operators parsed from %s --list-supported-ops" % argv[1],
              file=sys.stderr)
        return 2
    seen = case_ops()
    missing = sorted(supported - set(seen))
    print("%d supported operators, %d covered by op cases" %
          (len(supported), len(supported) - len(missing)))
    if missing:
        print("error: no op-level e2e case uses: " + ", ".join(missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
