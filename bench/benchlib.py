"""Helpers shared by the benchmark scripts (bench/cpu/bench.py, bench/gpu/bench.py)."""

import datetime
import os
import platform
import re
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


_NUM_UNIT = re.compile(r"([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(ms|us|µs|ns|s)\b")
_TO_MS = {"s": 1e3, "ms": 1.0, "us": 1e-3, "µs": 1e-3, "ns": 1e-6}


def parse_median_ms(text):
    """Median latency in ms from tessera-run --bench output, or None.

    Assumption (the tessera-run contract): it prints a line containing the word `median`
    followed (on the same line, possibly after other words, punctuation or numbers) by a
    number with a time unit, e.g. `median 1.234 ms`, `latency: median=1.234ms`,
    `median (50 runs): 1234 us`. Units s/ms/us/µs/ns are converted; the first number that
    carries a unit after `median` wins. A JSON field "median_ms": X is accepted as well.
    """
    m = re.search(r'"median_ms"\s*:\s*([0-9.eE+-]+)', text)
    if m:
        try:
            return float(m.group(1))
        except ValueError:
            pass
    for line in text.splitlines():
        i = line.lower().find("median")
        if i < 0:
            continue
        m = _NUM_UNIT.search(line, i + len("median"))
        if m:
            return float(m.group(1)) * _TO_MS[m.group(2)]
    return None


# --------------------------------------------------------------------------- environment

def sh(cmd, cwd=None):
    try:
        return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info():
    lscpu = sh(["lscpu"])
    model = re.search(r"^Model name:\s*(.+)$", lscpu, re.M)
    cpus = re.search(r"^CPU\(s\):\s*(\d+)$", lscpu, re.M)
    tpc = re.search(r"^Thread\(s\) per core:\s*(\d+)$", lscpu, re.M)
    commit = sh(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO) or "none (no commit yet)"
    if sh(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO):
        commit += "+dirty"
    return {
        "cpu": model.group(1).strip() if model else platform.processor() or "unknown",
        "cpus": int(cpus.group(1)) if cpus else os.cpu_count(),
        "threads_per_core": int(tpc.group(1)) if tpc else None,
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "kernel": platform.release(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
    }


def thread_env(t):
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[k] = str(t)
    return env


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def ratio(a, b):
    return None if a is None or b is None or b <= 0 else a / b


def update_doc(path, section, begin, end):
    """Replaces the text between `begin` and `end` in the Markdown file `path` (appends the
    section when absent), atomically."""
    if os.path.isfile(path):
        text = open(path).read()
        if begin in text and end in text:
            pre = text[:text.index(begin)]
            post = text[text.index(end) + len(end):].lstrip("\n")
            text = pre + section + ("\n" + post if post else "")
        else:
            text = text.rstrip("\n") + "\n\n" + section
    else:
        text = ("# Benchmarks\n\nFigures are reported, not asserted. Each section is written "
                "by the script named in its heading; rerun it to refresh.\n\n" + section)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
