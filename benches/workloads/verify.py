#!/usr/bin/env python3
"""Check every benchmark workload: native `cc -O2` vs. the committed .wasm under
Python wasmtime.  Both must print the same "checksum: N" line (and, for the
mem64 workloads, the freestanding run(n) exports must return the same N).

Usage:
    verify.py [--small] [--update] [--only NAME[,NAME...]] [--cc CC]

  --small    run with each workload's small argument (fast; checks
             expected-small.txt instead of expected.txt)
  --update   (re)write expected.txt / expected-small.txt from the results
  --only     restrict to some workloads

Prints one line per workload with native and wasmtime run times (wasmtime
time excludes module compilation).  Exits non-zero on any mismatch.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# name -> (source relative to HERE, small argument)
WORKLOADS = [
    ("sieve", "sieve.c", "100000"),
    ("collatz", "collatz.c", "20000"),
    ("fib", "fib.c", "20"),
    ("interp", "interp.c", "60"),
    ("switchvm", "switchvm.c", "2000"),
    ("matmul", "matmul.c", "40"),
    ("nbody", "nbody.c", "2000"),
    ("fft", "fft.c", "10"),
    ("memstream", "memstream.c", "1"),
    ("hashtable", "hashtable.c", "20000"),
    ("sort", "sort.c", "10000"),
    ("tokenizer", "tokenizer.c", "16"),
    ("lz77", "lz77.c", "64"),
    ("bytes64", "mem64/bytes64.c", "1"),
    ("matmul64", "mem64/matmul64.c", "40"),
]
MEM64 = {"bytes64", "matmul64"}
CHECK_RE = re.compile(rb"^checksum: (\d+)$", re.M)


def checksum_of(out):
    m = CHECK_RE.search(out)
    return m.group(1).decode() if m else None


def run_native(cc, src, arg, tmp):
    exe = os.path.join(tmp, os.path.basename(src)[:-2])
    if not os.path.exists(exe):
        subprocess.run([cc, "-O2", "-o", exe, src, "-lm"], check=True)
    argv = [exe] + ([arg] if arg else [])
    t = time.perf_counter()
    out = subprocess.run(argv, check=True, stdout=subprocess.PIPE).stdout
    return checksum_of(out), time.perf_counter() - t


def run_wasi(engine, path, arg, tmp):
    import wasmtime
    module = wasmtime.Module.from_file(engine, path)
    wasi = wasmtime.WasiConfig()
    wasi.argv = [os.path.basename(path)[:-5]] + ([arg] if arg else [])
    out_path = os.path.join(tmp, "stdout")
    wasi.stdout_file = out_path
    store = wasmtime.Store(engine)
    store.set_wasi(wasi)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    inst = linker.instantiate(store, module)
    t = time.perf_counter()
    try:
        inst.exports(store)["_start"](store)
    except wasmtime.ExitTrap as e:
        if e.code != 0:
            raise
    dt = time.perf_counter() - t
    with open(out_path, "rb") as f:
        return checksum_of(f.read()), dt


def run_free(engine, path, arg):
    import wasmtime
    module = wasmtime.Module.from_file(engine, path)
    store = wasmtime.Store(engine)
    inst = wasmtime.Instance(store, module, [])
    t = time.perf_counter()
    r = inst.exports(store)["run"](store, int(arg))
    return str(r & 0xFFFFFFFFFFFFFFFF), time.perf_counter() - t


def default_arg(src):
    """The default size, read from the source's 'Usage:' comment."""
    with open(os.path.join(HERE, src)) as f:
        text = f.read()
    m = re.search(r"default \w+ = (\d+)", text)
    return m.group(1)


def load_expected(path):
    exp = {}
    if os.path.exists(path):
        for line in open(path):
            parts = line.split()
            if len(parts) >= 2 and not line.startswith("#"):
                exp[parts[0]] = parts[-1]
    return exp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--only")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    args = ap.parse_args()
    import wasmtime

    cfg = wasmtime.Config()
    cfg.wasm_memory64 = True
    engine = wasmtime.Engine(cfg)
    exp_path = os.path.join(HERE, "expected-small.txt" if args.small else "expected.txt")
    expected = load_expected(exp_path)
    only = set(args.only.split(",")) if args.only else None
    results = []
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, src, small in WORKLOADS:
            if only and name not in only:
                continue
            arg = small if args.small else None
            n_sum, n_t = run_native(args.cc, os.path.join(HERE, src), arg, tmp)
            wasm = os.path.join(HERE, src[:-2] + ".wasm")
            w_sum, w_t = run_wasi(engine, wasm, arg, tmp)
            extra = ""
            ok = n_sum is not None and n_sum == w_sum
            if name in MEM64:
                farg = arg if arg else default_arg(src)
                for kind in ("wasm32", "wasm64"):
                    f_sum, f_t = run_free(engine, os.path.join(HERE, src[:-2] + "." + kind + ".wasm"), farg)
                    ok = ok and f_sum == n_sum
                    extra += "  %s run(%s) %.2fs%s" % (kind, farg, f_t, "" if f_sum == n_sum else " MISMATCH " + f_sum)
            if not args.update and name in expected and expected[name] != n_sum:
                ok = False
                extra += "  (expected %s)" % expected[name]
            failed += not ok
            results.append((name, small if args.small else None, n_sum))
            print("%-10s %-4s native %6.2fs  wasmtime %6.2fs  checksum %s%s" %
                  (name, "ok" if ok else "FAIL", n_t, w_t, n_sum if n_sum == w_sum else "%s != %s" % (n_sum, w_sum), extra),
                  flush=True)
    if args.update:
        # Merge into the existing file so that --only updates just those lines.
        merged = {}
        if os.path.exists(exp_path):
            for line in open(exp_path):
                if line.strip() and not line.startswith("#"):
                    merged[line.split()[0]] = line.rstrip("\n")
        for name, small, s in results:
            merged[name] = "%s %s %s" % (name, small, s) if args.small else "%s %s" % (name, s)
        with open(exp_path, "w") as f:
            for name, _, _ in WORKLOADS:
                if name in merged:
                    f.write(merged[name] + "\n")
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
