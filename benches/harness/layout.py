"""Code placement: how much each workload's speed depends on where its code falls.

`wasmaot build --code-shift N` moves every function body N bytes further from the 64-byte
line the code starts on, without changing one instruction. Each workload runs at shifts 0,
16, 32 and 48 next to Wasmtime, interleaved, and the report shows the spread: on this host
the same code runs up to ~25-35% slower or faster with placement alone (benches/FINDINGS.md,
finding 30), which is more than the 3% line the Wasmtime target draws."""
from common import TARGET_VS_WASMTIME, log, median

RUNNER = "wasmaot+%d"


def runner_shift(runner):
    """The shift of a `wasmaot+N` runner, or None for any other runner."""
    if runner.startswith("wasmaot+"):
        return int(runner[len("wasmaot+"):])
    return None


def measure_layout(runners, wls, shifts, expected, runs):
    """Runs wasmaot at every shift (0 first) and Wasmtime, `runs` rounds interleaved per
    workload; returns {(runner, name): Cell}."""
    from runners import Cell, measure  # runners imports this module
    cells = {}
    order = []
    for name, src, _, _ in wls:
        for r in [RUNNER % s for s in [0] + shifts] + ["wasmtime"]:
            c = Cell(r, name, None, expected[name][1])
            c.src = src
            cells[(r, name)] = c
            order.append(c)
    log("code placement: %d workloads x shifts %s, %d runs each" %
        (len(wls), "/".join(str(s) for s in [0] + shifts), runs))
    measure(runners, order, runs, "layout")
    return cells


def median_vs_wasmtime(wls, cells, shifts):
    """{workload: median over the placements (0 and `shifts`) of the CPU time of wasmaot's
    `_start`, over Wasmtime's}, for the workloads where every run's checksum matched."""
    out = {}
    for name, *_ in wls:
        cs = [cells[(RUNNER % s, name)] for s in [0] + shifts]
        w = cells[("wasmtime", name)]
        if all(c.ok and c.exec_cpu for c in cs) and w.ok and w.exec_cpu:
            out[name] = median([c.exec_cpu for c in cs]) / w.exec_cpu
    return out


def layout_section(L, wls, cells, shifts, runs, fmt_s, fmt_r):
    """Appends the code-placement table; returns whether every run's checksum matched."""
    shifts = [0] + shifts
    L.append("## Code placement (informational)")
    L.append("")
    L.append("The same wasmaot code with every function body moved by %s bytes "
             "(`wasmaot build --code-shift N`; not one instruction changes), run next to Wasmtime, "
             "interleaved, CPU seconds of the `_start` call on both sides, median of %d. `spread` is slowest/fastest placement. A row "
             "whose spread is wider than 3%% cannot be judged against the %.2f× Wasmtime line on one "
             "placement: Wasmtime's own code placement is as arbitrary (FINDINGS, finding 30)." %
             (", ".join(str(s) for s in shifts), runs, TARGET_VS_WASMTIME))
    L.append("")
    hdr = ["workload"] + ["+%d s" % s for s in shifts] + ["Wasmtime s", "spread",
                                                          "wasmaot/Wasmtime, best … worst placement",
                                                          "median placement/Wasmtime"]
    medians = median_vs_wasmtime(wls, cells, shifts[1:])
    L.append("| " + " | ".join(hdr) + " |")
    L.append("|" + " --- |" * len(hdr))
    ok = True
    wide, crossing = [], []
    for name, *_ in wls:
        row = [name]
        times = []
        for s in shifts:
            c = cells[(RUNNER % s, name)]
            ok &= c.ok
            row.append(fmt_s(c.exec_cpu) if c.ok else "**DISQUALIFIED: %s**" % c.problem)
            if c.exec_cpu:
                times.append(c.exec_cpu)
        w = cells[("wasmtime", name)]
        ok &= w.ok
        row.append(fmt_s(w.exec_cpu) if w.ok else "**DISQUALIFIED: %s**" % w.problem)
        if len(times) == len(shifts):
            spread = max(times) / min(times)
            row.append(fmt_r(spread, 3))
            if spread > TARGET_VS_WASMTIME:
                wide.append((name, spread))
            if w.exec_cpu:
                lo, hi = min(times) / w.exec_cpu, max(times) / w.exec_cpu
                row.append("%s … %s" % (fmt_r(lo, 3), fmt_r(hi, 3)))
                if lo <= TARGET_VS_WASMTIME < hi:
                    crossing.append(name)
            else:
                row.append("—")
        else:
            row += ["—", "—"]
        x = medians.get(name)
        row.append(fmt_r(x, 3) + (" ⚠" if x > TARGET_VS_WASMTIME else "") if x else "—")
        L.append("| " + " | ".join(row) + " |")
    L.append("")
    if wide:
        L.append("Placement alone moves %d of %d workloads by more than 3%%: %s." % (
            len(wide), len(wls), ", ".join("`%s` %s" % (n, fmt_r(x, 3)) for n, x in wide)))
    else:
        L.append("No workload moves by more than 3% with placement in this run.")
    if crossing:
        L.append("On %s the ratio to Wasmtime is on either side of the %.2f× line depending on "
                 "placement alone." % (", ".join("`%s`" % n for n in crossing), TARGET_VS_WASMTIME))
    L.append("")
    return ok
