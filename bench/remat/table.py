#!/usr/bin/python3
"""Prints bench/remat/results.json as the one-row-per-graph-and-budget table of
docs/benchmarks.md: no-remat peak / budget, Chen's sqrt(n) (overhead, peak / budget), then
each method's compute overhead with its solve time ("none" when it found no schedule within
the budget, "below lower bound" when the budget is under the largest single-op footprint).

Usage: python3 bench/remat/table.py [results.json]
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
METHODS = ["greedy", "greedy-restarts", "moccasin", "checkmate-milp"]


def label(graph):
    """Short names for the paper's instances (RL100, VGG16 train (Checkmate), ...)."""
    if graph.startswith("random_layered_n"):
        return "RL%s (Moccasin)" % graph[len("random_layered_n"):].split("_")[0]
    if "(MLSys)" in graph:
        return "%s train (Checkmate)" % graph.split(" ")[0]
    return graph


def cell(r, timed):
    if r is None:
        return "-"
    if "below the lower bound" in r["note"]:
        return "below lower bound"
    t = " (%.1f s%s)" % (r["seconds"], ", optimal" if r["optimal"] else "")
    if not r["fits"]:
        return "none" + (t if timed else "")
    return "%.4f%s" % (r["overhead"], t if timed else "")


def main(argv):
    path = argv[1] if len(argv) > 1 else os.path.join(HERE, "results.json")
    with open(path) as f:
        rows = json.load(f)
    by = {}
    order = []
    for r in rows:
        key = (r["graph"], r["budget_fraction"])
        if key not in by:
            by[key] = {}
            order.append(key)
        by[key][r["method"]] = r
    print("| graph | n | budget | no-remat peak / budget | Chen sqrt(n): overhead, peak / "
          "budget | greedy | greedy + restarts | Moccasin (Z3) | Checkmate MILP (CBC) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for key in order:
        m = by[key]
        any_row = next(iter(m.values()))
        plain, chen = m.get("no-remat"), m.get("chen-sqrt-n")
        budget = any_row["budget_bytes"]
        print("| %s | %d | %d%% | %s | %s | %s |" % (
            label(key[0]), any_row["nodes"], round(100 * key[1]),
            "%.3f" % (plain["peak_bytes"] / budget) if plain else "-",
            "%.2f, %.3f" % (chen["overhead"], chen["peak_bytes"] / budget) if chen else "-",
            " | ".join(cell(m.get(x), x != "greedy") for x in METHODS)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
