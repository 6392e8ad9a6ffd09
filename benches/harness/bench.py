#!/usr/bin/env python3
"""wasmaot benchmark harness (issue 5).  Run it through `benches/run.sh`, which builds
the binaries it needs and passes their paths.

Runs every workload in benches/workloads under
    native     cc -O2 x.c -lm                       (built now)
    wasmaot    `wasmaot build x.wasm -o x`          (built now)
    wasmtime   Python `wasmtime`, module compiled once, only `_start` timed
    wasmi      wasmi 2.0 in process (`wasmaot-bench wasmi`), only `_start` timed
    wasm3      PyPI `pywasm3` in process (harness/wasm3_run.py), only `_start` timed
    wasm-interp  WABT's interpreter on a WASI-shimmed module (harness/wabt_shim.py)
compares every checksum with expected.txt (or the native run at the same argument),
measures compile throughput, memory64 vs wasm32, and writes report.md + slowdown.svg.

The primary metric is CPU time (user+sys) of the run, median of N runs: the machine is
shared, and CPU time is much less sensitive to other load than wall time (both are
recorded; wall medians are in the report too).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (  # noqa: E402
    BEYOND,
    BEYOND_RUNNERS,
    CPU_BASELINE,
    INTERPRETERS,
    MAIN,
    ROOT,
    TARGET_VS_WASMTIME,
    WL,
    WORKLOADS,
    _BUILD_TIMES,
    interp_size,
    load_expected,
    log,
)
import layout  # noqa: E402
from runners import Runners, Cell, measure  # noqa: E402
from sections import compile_throughput, mem64_section, memory_microbenchmarks, environment  # noqa: E402
from report import write_report  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wasmaot", required=True)
    ap.add_argument("--bench-bin", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--runs", type=int)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only")
    ap.add_argument("--no-interp", action="store_true")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--interp-default-size", action="store_true",
                    help="run wasm3 at the default size too (wasmi always does; adds ~2-3 min)")
    ap.add_argument("--no-cpu-baseline", action="store_true",
                    help="do not also measure portable code (`wasmaot build --cpu baseline`)")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    ap.add_argument("--third-party", default=os.path.join(ROOT, "target", "third_party"))
    ap.add_argument("--wasmtime-same-cranelift", default=os.path.join(ROOT, "target", "peers", "wasmtime48"),
                    help="PYTHONPATH of wasmtime 48.0.0 (Cranelift 0.135, as wasmaot) for the compile section")
    ap.add_argument("--layout-shifts", default="16,32,48",
                    help="code shifts (bytes, multiples of 16) the code-placement section and the Memory64 "
                         "section's placement table run wasmaot at besides 0; empty to skip both (skipped "
                         "with --quick)")
    ap.add_argument("--wasmtime-pads", type=int, default=2,
                    help="placements the code-placement section runs Wasmtime at: its module with "
                         "0 … N-1 empty functions defined ahead of its own (each moves its code 32 bytes)")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--compiler-build", default="`--profile release-lto`",
                    help="how the measured wasmaot executable was built (for the report)")
    args = ap.parse_args()
    if args.runs is None:
        args.runs = 1 if args.quick else 5
    t_start = time.time()
    os.makedirs(args.out, exist_ok=True)
    helptext = subprocess.run([args.wasmaot, "build", "--help"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT).stdout.decode(errors="replace")
    if "--cpu" in helptext and not args.no_cpu_baseline:
        MAIN.insert(2, CPU_BASELINE)
    shifts = [int(x) for x in args.layout_shifts.split(",") if x.strip()]
    if args.quick or "--code-shift" not in helptext:
        shifts = []
    env = environment(args)
    log("machine: %s; load average %s" % (env["cpu"], " ".join(env["loadavg"])))
    expected = load_expected(os.path.join(WL, "expected.txt"))
    small = load_expected(os.path.join(WL, "expected-small.txt"))
    only = set(args.only.split(",")) if args.only else None
    wls = [w for w in WORKLOADS if not only or w[0] in only]

    # Availability of the interpreters.
    unavailable = {}
    try:
        import wasm3  # noqa: F401
    except ImportError as e:
        unavailable["wasm3"] = "not available: Python package pywasm3 not installed (%s)" % e
    for tool in ("wasm-interp", "wasm2wat", "wat2wasm"):
        if shutil.which(tool) is None:
            unavailable["wasm-interp" if tool == "wasm-interp" else "wasm3"] = "not available: `%s` not found (apt-get install wabt)" % tool
    if args.no_interp:
        for i in INTERPRETERS:
            unavailable[i] = "skipped (--no-interp)"

    work = tempfile.mkdtemp(prefix="wasmaot-bench-")
    try:
        runners = Runners(args, work)
        runners.layout_shifts = shifts
        runners.wasmtime_pads = max(1, args.wasmtime_pads) if shifts else 1
        log("building %d workloads (native cc -O2, wasmaot build, wasmtime compile)" % len(wls))
        for name, src, _, _ in wls:
            runners.build(name, src)
            _BUILD_TIMES[name] = runners.build_times.get((name, "wasmaot"))

        cells = {}
        # Main table: default size (or the small size with --quick).
        main_cells = []
        for name, src, iarg, targ in wls:
            arg, exp = (small[name][0], small[name][1]) if args.quick else (None, expected[name][1])
            for r in MAIN:
                c = Cell(r, name, arg, exp)
                c.src = src
                cells[(r, name)] = c
                main_cells.append(c)
        log("main runs: %d workloads x %s, %d runs each" % (len(wls), "/".join(MAIN), args.runs))
        measure(runners, main_cells, args.runs, "main")
        # A workload over the Wasmtime line after one set of rounds gets as many again, every
        # runner interleaved as before: single rows move by up to ±25% between runs of a shared
        # host, so a flag should rest on more than five samples (the report marks these rows).
        env["confirmed"] = [] if args.quick or args.runs < 2 else over_wasmtime(cells, wls)
        if env["confirmed"]:
            log("confirmation rounds for %s" % ", ".join(env["confirmed"]))
            measure(runners, [c for c in main_cells if c.name in env["confirmed"]], args.runs, "confirm")

        # Interpreters, at a reduced argument; wasmaot and native rerun at that argument.
        icells = {}
        if len([i for i in INTERPRETERS if i not in unavailable]):
            log("interpreter runs")
            ref_cells = []
            plan = []
            for name, src, iarg, targ in wls:
                for interp in INTERPRETERS:
                    if interp in unavailable:
                        continue
                    if args.quick:
                        arg = small[name][0]
                    else:
                        size = interp_size(interp, args)
                        arg = {"default": None, "reduced": iarg, "tiny": targ}[size]
                    plan.append((interp, name, src, arg))
            # Reference runs (native, wasmaot) at each distinct reduced argument.
            refs = {}
            for interp, name, src, arg in plan:
                if (name, arg) in refs:
                    continue
                if args.quick or arg is None:
                    # Same argument as the main table: reuse its runs.
                    refs[(name, arg)] = (cells[("native", name)], cells[("wasmaot", name)])
                    continue
                ncell = Cell("native", name, arg, None)
                ncell.src = src
                r0 = runners.run("native", name, src, arg)
                ncell.expected = r0.checksum
                ncell.results.append(r0)
                acell = Cell("wasmaot", name, arg, r0.checksum)
                acell.src = src
                ref_cells += [ncell, acell]
                refs[(name, arg)] = (ncell, acell)
            if ref_cells:
                measure(runners, [c for c in ref_cells if c.runner == "wasmaot"], args.runs, "interp-ref wasmaot")
                measure(runners, [c for c in ref_cells if c.runner == "native"], args.runs - 1, "interp-ref native")
            for interp, name, src, arg in plan:
                ncell, acell = refs[(name, arg)]
                c = Cell(interp, name, arg, ncell.expected)
                c.src = src
                c.ref = (ncell, acell)
                icells[(interp, name)] = c
                t = time.perf_counter()
                measure(runners, [c], 1, "interp")
                log("  %s %s(%s): %.1fs %s" % (interp, name, arg or "default", time.perf_counter() - t,
                                                "ok" if c.ok else c.problem))

        beyond = beyond_runs(args, runners, wls, unavailable)
        placement = None
        if shifts:
            # One figure for the report when every padding function moved Wasmtime's code alike.
            moved = set(runners.wt_pad_shift.values())
            pads = runners.wasmtime_pads
            placement = (layout.measure_layout(runners, wls, shifts, pads, expected, args.runs), shifts,
                         pads, moved.pop() if len(moved) == 1 else None)

        comp = None
        if not args.no_compile:
            log("compile throughput")
            comp = compile_throughput(args, work, args.quick)
        log("memory64")
        try:
            m64 = mem64_section(args, cells, args.quick, shifts) if not only or {"bytes64", "matmul64"} & only else []
        except Exception as e:  # noqa: BLE001
            m64 = []
            log("memory64 section failed: %s" % e)
        log("memory microbenchmarks")
        try:
            mem_cmd, mem_out = memory_microbenchmarks(args)
        except Exception as e:  # noqa: BLE001
            mem_cmd, mem_out = None, "failed: %s" % e
        env["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
        ok = write_report(args, env, wls, cells, icells, unavailable, comp, m64, mem_cmd, mem_out,
                          time.time() - t_start, beyond, placement)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log("report: %s" % os.path.join(args.out, "report.md"))
    return 0 if ok else 1


def over_wasmtime(cells, wls):
    """Workloads where a wasmaot runner's median `_start` CPU time is over the Wasmtime target
    line."""
    out = []
    for name, *_ in wls:
        w = cells.get(("wasmtime", name))
        for r in ("wasmaot", CPU_BASELINE):
            a = cells.get((r, name))
            if a and w and a.exec_cpu and w.exec_cpu and a.exec_cpu / w.exec_cpu > TARGET_VS_WASMTIME:
                out.append(name)
                break
    return out


def beyond_runs(args, runners, wls, unavailable):
    """The BEYOND variants (not with --quick): one native run fixes the checksum every runner
    must print; native, wasmaot and Wasmtime then run `--runs` times interleaved, wasmi once
    (it is the slow one)."""
    if args.quick:
        return []
    names = {w[0] for w in wls}
    rows = []
    for name, src, arg, what in BEYOND:
        if name not in names:
            continue
        log("beyond the cache: %s(%s)" % (name, arg))
        expected = runners.run("native", name, src, arg).checksum
        row = []
        for r in BEYOND_RUNNERS:
            if r not in unavailable:
                row.append(Cell(r, name, arg, expected))
                row[-1].src = src
        measure(runners, [c for c in row if c.runner != "wasmi"], args.runs, "beyond")
        measure(runners, [c for c in row if c.runner == "wasmi"], 1, "beyond wasmi")
        rows.append((name, arg, what, row))
    return rows

if __name__ == "__main__":
    sys.exit(main())
