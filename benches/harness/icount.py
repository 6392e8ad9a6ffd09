#!/usr/bin/env python3
"""Deterministic instruction counts (valgrind callgrind) of wasm code: wasmaot vs Wasmtime.

    icount.py --wasmaot PATH [--wasmaot "PATH2 --cpu native" ...] [--only a,b] [--arg interp|tiny|small]

The timing tables are noisy on a shared 2-core machine; instruction counts are not.  For
each workload this builds the wasmaot executable (one per `--wasmaot` binary plus optional
`wasmaot build` flags, e.g. a baseline and an experimental compiler; `--cpu x86-64-v3` unless the
flags name a `--cpu`: AVX2 is what Wasmtime's feature detection finds under valgrind), runs it under callgrind and sums the Ir of the
compiled wasm functions (runtime and libc excluded); it runs the same module under Python
wasmtime and sums the Ir of the JIT code (callgrind's object `???`).  (Valgrind does
not emulate AVX-512, so `--cpu native` builds on an AVX-512 host are refused by the runtime's
start-up CPU check under valgrind; Wasmtime, detecting features at run time, sees
valgrind's CPU and uses AVX2 at most.)  Prints one table
(Markdown) with the per-workload counts, their ratio and the hottest functions.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import WORKLOADS, WL, load_expected  # noqa: E402

WT_RUN = r'''
import sys, wasmtime
e = wasmtime.Engine(); m = wasmtime.Module.from_file(e, sys.argv[1])
w = wasmtime.WasiConfig(); w.argv = ["x"] + sys.argv[3:]; w.stdout_file = sys.argv[2]
s = wasmtime.Store(e); s.set_wasi(w); l = wasmtime.Linker(e); l.define_wasi()
i = l.instantiate(s, m); i.exports(s)["_start"](s)
'''


def annotate(path):
    """(function, object, Ir) rows from callgrind_annotate."""
    out = subprocess.run(["callgrind_annotate", "--threshold=100", path], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL).stdout.decode(errors="replace")
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\([\s\d.]+%\)\s+(.*?):(.*) \[(.*)\]\s*$", line)
        if m:
            rows.append((m.group(3), m.group(4), int(m.group(1).replace(",", ""))))
    return rows


def is_wasm_fn(name):
    return not ("::" in name or name.startswith(("wasmaot", "<", "_ZN", "0x")) or name == "???")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wasmaot", required=True, action="append",
                    help="a wasmaot binary, optionally followed by `wasmaot build` flags; repeatable")
    ap.add_argument("--only")
    ap.add_argument("--arg", default="tiny", choices=["interp", "tiny", "small"])
    ap.add_argument("--top", type=int, default=3)
    args = ap.parse_args()
    aots = [shlex.split(a) for a in args.wasmaot]
    small = load_expected(os.path.join(WL, "expected-small.txt"))
    only = set(args.only.split(",")) if args.only else None
    tmp = tempfile.mkdtemp(prefix="icount-")
    hdr = ["workload", "arg"] + ["wasmaot%s Ir" % ("" if len(aots) == 1 else "#%d" % i) for i in range(len(aots))] + \
          ["Wasmtime Ir"] + ["ratio%s" % ("" if len(aots) == 1 else "#%d" % i) for i in range(len(aots))] + \
          ["hottest (wasmaot#0 / Wasmtime Ir, by name where it is known)"]
    print("| " + " | ".join(hdr) + " |")
    print("|" + " --- |" * len(hdr), flush=True)
    for name, src, iarg, targ in WORKLOADS:
        if only and name not in only:
            continue
        arg = {"interp": iarg, "tiny": targ, "small": small[name][0]}[args.arg]
        wasm = os.path.join(WL, src[:-2] + ".wasm")
        counts, hot = [], None
        for k, aot in enumerate(aots):
            exe = os.path.join(tmp, "%s.%d" % (name, k))
            flags = aot[1:] if "--cpu" in aot[1:] else aot[1:] + ["--cpu", "x86-64-v3"]
            subprocess.run([aot[0], "build"] + flags + [wasm, "-o", exe], check=True)
            cg = exe + ".cg"
            subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg, exe, arg],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            rows = [r for r in annotate(cg) if r[1] == exe and is_wasm_fn(r[0])]
            counts.append(sum(r[2] for r in rows))
            if k == 0:
                hot = sorted(rows, key=lambda r: -r[2])[:args.top]
        cg = os.path.join(tmp, name + ".wt.cg")
        py = os.path.join(tmp, "wt_run.py")
        with open(py, "w") as f:
            f.write(WT_RUN)
        subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg, sys.executable, py, wasm,
                        os.path.join(tmp, "wt.out"), arg],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        jit = [r for r in annotate(cg) if r[1] == "???"]
        wt = sum(r[2] for r in jit)
        # Match wasmaot's hottest functions with JIT blocks of (nearly) the same count.
        wt_sorted = sorted((r[2] for r in jit), reverse=True)
        desc = []
        for fn, _, ir in hot:
            near = min(wt_sorted, key=lambda x: abs(x - ir)) if wt_sorted else None
            desc.append("`%s` %.1fM / %s" % (fn, ir / 1e6, "%.1fM" % (near / 1e6) if near else "?"))
        print("| %s | %s | %s | %.1fM | %s | %s |" % (
            name, arg, " | ".join("%.1fM" % (c / 1e6) for c in counts), wt / 1e6,
            " | ".join("%.3f" % (c / wt) if wt else "—" for c in counts), "; ".join(desc)), flush=True)


if __name__ == "__main__":
    main()
