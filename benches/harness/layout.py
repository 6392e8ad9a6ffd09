"""Code placement: how much each workload's speed depends on where its code falls.

`wasmaot build --code-shift N` moves every function body N bytes further from the 64-byte
line the code starts on, without changing one instruction. Each workload runs at shifts 0,
16, 32 and 48 next to Wasmtime, interleaved, and the report shows the spread: on this host
the same code runs up to ~25-35% slower or faster with placement alone (benches/FINDINGS.md,
finding 30), which is more than the 3% line the Wasmtime target draws.

Wasmtime's code moves too: `wasmaot-bench pad-functions` defines K empty functions ahead of
the module's own, and Wasmtime, which lays out functions in index order at 32-byte
alignment, then places every original function K slots (32·K bytes) further on. Its
placements (K = 0 and 1 by default: the two that its alignment allows modulo 64) run in the
same rounds, so the report can set a median over wasmaot's placements against a median over
Wasmtime's (finding 40)."""
import os
import subprocess

from common import TARGET_VS_WASMTIME, log, median

RUNNER = "wasmaot+%d"


def wasmtime_runner(pads):
    """The runner name of Wasmtime on the module with `pads` empty functions ahead of its own
    (plain `wasmtime` for none)."""
    return "wasmtime" if pads == 0 else "wasmtime+pad%d" % pads


def wasmtime_runners(pads):
    """Wasmtime's runners at `pads` placements: K = 0 … pads-1."""
    return [wasmtime_runner(k) for k in range(pads)]


def runner_shift(runner):
    """The shift of a `wasmaot+N` runner, or None for any other runner."""
    if runner.startswith("wasmaot+"):
        return int(runner[len("wasmaot+"):])
    return None


def runner_pads(runner):
    """K of a `wasmtime+padK` runner, or None for any other runner."""
    if runner.startswith("wasmtime+pad"):
        return int(runner[len("wasmtime+pad"):])
    return None


def pad_module(bench_bin, wasm, out, pads):
    """Writes `wasm` with `pads` empty functions defined ahead of its own to `out`."""
    os.makedirs(os.path.dirname(out), exist_ok=True)
    subprocess.run([bench_bin, "pad-functions", wasm, out, str(pads)], check=True)


def wasmtime_shift(plain, padded, pads):
    """How far Wasmtime moved the first original function's code in the module padded with
    `pads` functions, in bytes, from the symbols of the two serialized modules (ELF objects;
    `nm` reads them), or None if that cannot be read."""
    def first_functions(module, n):
        import tempfile
        with tempfile.NamedTemporaryFile(suffix=".cwasm") as f:
            f.write(module.serialize())
            f.flush()
            out = subprocess.run(["nm", "-n", f.name], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        addrs = [int(line.split()[0], 16) for line in out.stdout.decode().splitlines()
                 if "::function[" in line and line.split()[0].strip("0123456789abcdef") == ""]
        return addrs[:n]
    try:
        # The padding functions come first in the layout; the next one is an original.
        a, b = first_functions(plain, 1), first_functions(padded, pads + 1)
        return b[pads] - a[0] if len(a) == 1 and len(b) == pads + 1 else None
    except (OSError, ValueError):
        return None


def measure_layout(runners, wls, shifts, pads, expected, runs):
    """Runs wasmaot at every shift (0 first) and Wasmtime at `pads` placements, `runs` rounds
    interleaved per workload; returns {(runner, name): Cell}."""
    from runners import Cell, measure  # runners imports this module
    cells = {}
    order = []
    for name, src, _, _ in wls:
        for r in [RUNNER % s for s in [0] + shifts] + wasmtime_runners(pads):
            c = Cell(r, name, None, expected[name][1])
            c.src = src
            cells[(r, name)] = c
            order.append(c)
    log("code placement: %d workloads x shifts %s, %d runs each" %
        (len(wls), "/".join(str(s) for s in [0] + shifts), runs))
    measure(runners, order, runs, "layout")
    return cells


def median_vs_wasmtime(wls, cells, shifts, pads=1):
    """{workload: median over the placements (0 and `shifts`) of the CPU time of wasmaot's
    `_start`, over the median of Wasmtime's at its first `pads` placements (1: the plain
    module)}, for the workloads where every run's checksum matched."""
    out = {}
    for name, *_ in wls:
        cs = [cells[(RUNNER % s, name)] for s in [0] + shifts]
        ws = [cells[(r, name)] for r in wasmtime_runners(pads)]
        if all(c.ok and c.exec_cpu for c in cs + ws):
            out[name] = median([c.exec_cpu for c in cs]) / median([w.exec_cpu for w in ws])
    return out


def layout_section(L, wls, cells, shifts, pads, runs, fmt_s, fmt_r, wt_slot=None):
    """Appends the code-placement table; returns whether every run's checksum matched.
    `wt_slot` is how far one padding function moves Wasmtime's code (bytes), if known."""
    shifts = [0] + shifts
    runners_wt = wasmtime_runners(pads)

    def wt_label(k):
        return "+%d" % (k * wt_slot) if wt_slot is not None else "%d pads" % k

    L.append("## Code placement (informational)")
    L.append("")
    L.append("The same wasmaot code with every function body moved by %s bytes "
             "(`wasmaot build --code-shift N`; not one instruction changes), run next to Wasmtime, "
             "interleaved, CPU seconds of the `_start` call on both sides, median of %d. `spread` is slowest/fastest placement. A row "
             "whose spread is wider than 3%% cannot be judged against the %.2f× Wasmtime line on one "
             "placement: Wasmtime's own code placement is as arbitrary (FINDINGS, findings 30 and 40)." %
             (", ".join(str(s) for s in shifts), runs, TARGET_VS_WASMTIME))
    L.append("")
    if pads > 1:
        L.append("Wasmtime runs at %d placements in the same rounds: the module as it is, and the module "
                 "with K empty functions defined ahead of its own (`wasmaot-bench pad-functions`, K = 1 … %d), "
                 "each of which moves the code of every original function %s in Wasmtime's layout (%s). The "
                 "last column sets the median of wasmaot's placements against the median of Wasmtime's, so "
                 "neither engine's placement luck decides it." % (
                     pads, pads - 1,
                     "by %d bytes" % wt_slot if wt_slot is not None else "one alignment slot further",
                     "read from the serialized modules' symbols" if wt_slot is not None
                     else "the serialized modules' symbols could not be read"))
        L.append("")
    hdr = (["workload"] + ["+%d s" % s for s in shifts] +
           ["Wasmtime s"] + ["Wasmtime %s s" % wt_label(k) for k in range(1, pads)] +
           ["spread", "Wasmtime spread",
            "wasmaot/Wasmtime, best … worst placement", "median placement/Wasmtime",
            "median placement / Wasmtime's median placement"])
    medians = median_vs_wasmtime(wls, cells, shifts[1:])
    both = median_vs_wasmtime(wls, cells, shifts[1:], pads)
    L.append("| " + " | ".join(hdr) + " |")
    L.append("|" + " --- |" * len(hdr))
    ok = True
    wide, crossing, wt_wide = [], [], []

    def flagged(x):
        return fmt_r(x, 3) + (" ⚠" if x > TARGET_VS_WASMTIME else "") if x else "—"

    for name, *_ in wls:
        row = [name]
        times = []
        for s in shifts:
            c = cells[(RUNNER % s, name)]
            ok &= c.ok
            row.append(fmt_s(c.exec_cpu) if c.ok else "**DISQUALIFIED: %s**" % c.problem)
            if c.exec_cpu:
                times.append(c.exec_cpu)
        wts = []
        for r in runners_wt:
            w = cells[(r, name)]
            ok &= w.ok
            row.append(fmt_s(w.exec_cpu) if w.ok else "**DISQUALIFIED: %s**" % w.problem)
            if w.ok and w.exec_cpu:
                wts.append(w.exec_cpu)
        w = cells[("wasmtime", name)]
        row.append(fmt_r(max(times) / min(times), 3) if len(times) == len(shifts) else "—")
        if len(times) == len(shifts) and max(times) / min(times) > TARGET_VS_WASMTIME:
            wide.append((name, max(times) / min(times)))
        if len(wts) == len(runners_wt):
            row.append(fmt_r(max(wts) / min(wts), 3))
            if max(wts) / min(wts) > TARGET_VS_WASMTIME:
                wt_wide.append((name, max(wts) / min(wts)))
        else:
            row.append("—")
        if len(times) == len(shifts) and w.ok and w.exec_cpu:
            lo, hi = min(times) / w.exec_cpu, max(times) / w.exec_cpu
            row.append("%s … %s" % (fmt_r(lo, 3), fmt_r(hi, 3)))
            if lo <= TARGET_VS_WASMTIME < hi:
                crossing.append(name)
        else:
            row.append("—")
        row.append(flagged(medians.get(name)))
        row.append(flagged(both.get(name)))
        L.append("| " + " | ".join(row) + " |")
    L.append("")
    if wide:
        L.append("Placement alone moves wasmaot by more than 3%% on %d of %d workloads: %s." % (
            len(wide), len(wls), ", ".join("`%s` %s" % (n, fmt_r(x, 3)) for n, x in wide)))
    else:
        L.append("No workload moves wasmaot by more than 3% with placement in this run.")
    if wt_wide:
        L.append("Wasmtime's placements differ by more than 3%% on %d of %d: %s." % (
            len(wt_wide), len(wls), ", ".join("`%s` %s" % (n, fmt_r(x, 3)) for n, x in wt_wide)))
    if crossing:
        L.append("On %s the ratio to Wasmtime is on either side of the %.2f× line depending on "
                 "wasmaot's placement alone." % (", ".join("`%s`" % n for n in crossing), TARGET_VS_WASMTIME))
    L.append("")
    return ok
