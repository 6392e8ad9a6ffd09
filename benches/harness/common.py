"""Suite definition and small helpers shared by the harness modules: paths, the workload
list, runner names, the issue's targets, logging and statistics."""
import math
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCHES = os.path.dirname(HERE)
ROOT = os.path.dirname(BENCHES)
WL = os.path.join(BENCHES, "workloads")

# name, source (relative to WL), interpreter argument, wasm-interp argument.
# The interpreter arguments cut the default work ~8-10x (wasmi, wasm3: native ~0.1 s) and
# ~30-70x (wasm-interp, the slowest by far); every ratio involving an interpreter is
# computed against wasmaot and native runs *at the same argument*.
WORKLOADS = [
    ("sieve", "sieve.c", "12000000", "1000000"),
    ("collatz", "collatz.c", "300000", "60000"),
    ("fib", "fib.c", "37", "34"),
    ("interp", "interp.c", "630", "280"),
    ("switchvm", "switchvm.c", "140000", "30000"),
    ("matmul", "matmul.c", "510", "300"),
    ("nbody", "nbody.c", "500000", "100000"),
    ("fft", "fft.c", "17", "14"),
    ("memstream", "memstream.c", "3", "1"),
    ("hashtable", "hashtable.c", "1000000", "100000"),
    ("sort", "sort.c", "200000", "50000"),
    ("tokenizer", "tokenizer.c", "1600", "160"),
    ("lz77", "lz77.c", "2400", "320"),
    ("bytes64", "mem64/bytes64.c", "8", "1"),
    ("matmul64", "mem64/matmul64.c", "420", "200"),
]
CHECK_RE = re.compile(rb"^checksum: (\d+)$", re.M)
INTERPRETERS = ["wasmi", "wasm3", "wasm-interp"]
MAIN = ["native", "wasmaot", "wasmtime"]
# Added to MAIN when `wasmaot build` has `--cpu`: portable x86-64-v2 code (`--cpu baseline`);
# the default `wasmaot build` uses this machine's CPU features, as Wasmtime's JIT does.
CPU_BASELINE = "wasmaot-cpu-baseline"
ALL_RUNNERS = MAIN + INTERPRETERS

TARGET_GEOMEAN_NATIVE = 1.25
TARGET_VS_WASMTIME = 1.03
TARGET_INTERP_GEOMEAN = 7.0
TARGET_INTERP_MIN = 4.0
TARGET_YOSYS_S = 40.0
TARGET_1MB_S = 1.0
TARGET_INSTANTIATE_US = 5.0
TARGET_GROW_US = 2.0
TARGET_REFUSED_GROW_US = 0.5
TARGET_MEMORY64 = 1.10

# Native `fib 42` on the project's machine kind when its host was quiet: the report prints this
# run's time next to it, because other VMs on the same host slow everything down without
# showing in the load average.
QUIET_FIB_S = 0.71
QUIET_FIB_WHEN = "2026-11-21 20:30"

# Memory-system variants of two workloads, measured beside the suite but outside the targets:
# the same programs with one big array instead of cache-sized windows or rounds, so every
# engine mostly waits for the memory system. name, source, argument, what it is.
BEYOND = [
    ("sieve", "sieve.c", "50000000 0", "one 25 MB array (the textbook sieve)"),
    ("hashtable", "hashtable.c", "2000000 0", "one table of 2^21 slots (32 MiB)"),
]
BEYOND_RUNNERS = ["native", "wasmaot", "wasmtime", "wasmi"]


def interp_size(interp, args):
    """Which argument an interpreter runs: `default` (the main table's work), `reduced`
    (native ~0.1 s) or `tiny` (wasm-interp)."""
    if interp == "wasm-interp":
        return "tiny"
    if interp == "wasmi" or args.interp_default_size:
        return "default"
    return "reduced"


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def checksum_of(out):
    m = CHECK_RE.search(out or b"")
    return m.group(1).decode() if m else None


def median(xs):
    return statistics.median(xs) if xs else None


def geomean(xs):
    xs = [x for x in xs if x is not None and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def load_expected(path):
    exp = {}
    for line in open(path):
        parts = line.split()
        if len(parts) >= 2 and not line.startswith("#"):
            exp[parts[0]] = (parts[1] if len(parts) == 3 else None, parts[-1])
    return exp


def default_arg(src):
    text = open(os.path.join(WL, src)).read()
    return re.search(r"default \w+ = (\d+)", text).group(1)


def first_line(cmd):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        return p.stdout.decode(errors="replace").strip().split("\n")[0]
    except Exception as e:  # noqa: BLE001
        return "unavailable (%s)" % e


_BUILD_TIMES = {}


def args_build_time(cells, name):
    return _BUILD_TIMES.get(name)
