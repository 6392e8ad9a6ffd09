"""Writing report.md and the slowdown chart from measured cells."""
import datetime
import math
import os
import re

from common import (  # noqa: E402
    QUIET_FIB_S,
    QUIET_FIB_WHEN,
    BENCHES,
    CPU_BASELINE,
    INTERPRETERS,
    MAIN,
    TARGET_1MB_S,
    TARGET_GEOMEAN_NATIVE,
    TARGET_GROW_US,
    TARGET_INSTANTIATE_US,
    TARGET_MEMORY64,
    TARGET_REFUSED_GROW_US,
    TARGET_INTERP_GEOMEAN,
    TARGET_INTERP_MIN,
    TARGET_VS_WASMTIME,
    TARGET_YOSYS_S,
    args_build_time,
    default_arg,
    geomean,
    median,
)
from layout import layout_section, median_vs_wasmtime
from sections import compile_wall, memory_bench_rows


# --------------------------------------------------------------------------------------
# report


def fmt_s(x):
    if x is None:
        return "—"
    return "%.3f" % x if x < 10 else "%.1f" % x


def fmt_r(x, digits=2):
    if x is None:
        return "—"
    if x >= 100:
        return "%.0f×" % x
    if x >= 10:
        return "%.1f×" % x
    return ("%%.%df×" % digits) % x


def svg_chart(rows, runners, path, note=""):
    """Grouped bar chart: slowdown vs native (log scale), one group per workload."""
    colors = {"wasmaot": "#d62728", CPU_BASELINE: "#ff9896", "wasmtime": "#1f77b4", "wasmi": "#2ca02c",
              "wasm3": "#9467bd", "wasm-interp": "#8c564b"}
    series = [r for r in runners if r != "native"]
    groups = rows  # list of (label, {runner: ratio})
    lo, hi = 0.5, 1.0
    for _, vals in groups:
        for v in vals.values():
            if v:
                hi = max(hi, v)
                lo = min(lo, v)
    lo = 10 ** math.floor(math.log10(lo) * 2) / 2 if lo < 0.5 else 0.5
    lo = min(lo, 0.5)
    hi = 10 ** math.ceil(math.log10(hi))
    W, H = 1100, 520
    ml, mr, mt, mb = 70, 20, 50, 110
    pw, ph = W - ml - mr, H - mt - mb
    gw = pw / len(groups)
    bw = min(14.0, (gw - 8) / len(series))

    def y(v):
        return mt + ph * (1 - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)))

    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
         'font-family="sans-serif" font-size="11">' % (W, H, W, H),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="%d" y="22" font-size="15" text-anchor="middle">Slowdown vs native cc -O2 '
         '(CPU time, median; log scale; lower is better)</text>' % (W / 2)]
    t = 10 ** math.floor(math.log10(lo))
    ticks = []
    while t <= hi * 1.001:
        for m in (1, 2, 5):
            v = t * m
            if lo <= v <= hi * 1.001:
                ticks.append(v)
        t *= 10
    for v in ticks:
        yy = y(v)
        strong = v == 1
        o.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="%s"/>' %
                 (ml, W - mr, yy, yy, "#444" if strong else "#ddd", "1.5" if strong else "1"))
        o.append('<text x="%d" y="%.1f" text-anchor="end">%s×</text>' % (ml - 6, yy + 4, ("%g" % v)))
    base = y(lo)
    for gi, (label, vals) in enumerate(groups):
        gx = ml + gi * gw + (gw - bw * len(series)) / 2
        for si, s in enumerate(series):
            v = vals.get(s)
            x = gx + si * bw
            if not v:
                o.append('<text x="%.1f" y="%.1f" font-size="9" text-anchor="middle" fill="%s">×</text>' %
                         (x + bw / 2, base - 3, colors.get(s, "#777")))
                continue
            yy = y(max(v, lo))
            o.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %.2f×</title></rect>'
                     % (x, yy, bw - 1, base - yy, colors.get(s, "#777"), label, s, v))
        cx = ml + gi * gw + gw / 2
        bold = ' font-weight="bold"' if label == "geomean" else ""
        o.append('<text x="%.1f" y="%d" text-anchor="end" transform="rotate(-40 %.1f %d)"%s>%s</text>' %
                 (cx, H - mb + 16, cx, H - mb + 16, bold, label))
    o.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#000"/>' % (ml, ml, mt, H - mb))
    lx = ml + 10
    for s in series:
        o.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>' % (lx, H - 22, colors.get(s, "#777")))
        o.append('<text x="%d" y="%d">%s</text>' % (lx + 16, H - 12, s))
        lx += 30 + 8 * len(s)
    o.append('<text x="%d" y="%d" fill="#666">%s</text>' % (lx + 20, H - 12, note))
    o.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")



def memory_target_rows(mb, m64, pf):
    """The issue's instantiation, `memory.grow` and Memory64 targets, judged on the memory
    microbenchmarks' table `mb` (best of interleaved repetitions); `m64` (the Memory64 section's
    medians, and its ratios across code placements) is shown beside the Memory64 one."""
    def us(name):
        v = mb.get(name)
        return None if v is None else v[0] * {"µs": 1.0, "ms": 1e3, "s": 1e6}[v[1]]

    def worst(names):
        vals = [(us(n), n) for n in names if us(n) is not None]
        return max(vals) if vals else None

    def describe(vals):
        return ", ".join("%s %.3f µs" % (n, v) for n, v in vals)

    rows = []
    inst = [(n, us("instantiate+drop, 1-page module (%s, pool on)" % n)) for n in ("guard", "explicit")]
    inst = [(n, v) for n, v in inst if v is not None]
    off = us("instantiate+drop, 1-page module (guard, pool off)")
    rows.append("| instantiate a 1-page module ≤ %.0f µs (default: reservation pool on) | %s%s | %s |" % (
        TARGET_INSTANTIATE_US, describe(inst) or "not measured",
        "; pool off %.1f µs" % off if off is not None else "",
        pf(max(v for _, v in inst) <= TARGET_INSTANTIATE_US if inst else None)))
    grow = [n for n in mb if re.search(r"grow(\(1\)| 1) at ", n)]
    w = worst(grow)
    rows.append("| `memory.grow` by one page ≤ %.0f µs at any size | %s | %s |" % (
        TARGET_GROW_US, "worst %.3f µs (%s)" % w if w else "not measured", pf(w[0] <= TARGET_GROW_US if w else None)))
    w = worst([n for n in mb if "refused" in n])
    rows.append("| refused grow ≤ %.1f µs | %s | %s |" % (
        TARGET_REFUSED_GROW_US, "worst %.3f µs (%s)" % w if w else "not measured",
        pf(w[0] <= TARGET_REFUSED_GROW_US if w else None)))
    ratios = []
    for n, (_, _, note) in mb.items():
        m = re.match(r"^([0-9.]+)× guard", note)
        if n.endswith("wasm64 (memory64)") and m:
            ratios.append((float(m.group(1)), n.split(" run(")[0]))
    medians = []
    for r in m64 or []:
        a32, a64 = r["cols"].get("wasmaot wasm32"), r["cols"].get("wasmaot wasm64")
        if a32 and a64 and a32[0] and a64[0]:
            medians.append("%s %.3f×" % (r["name"], a64[0] / a32[0]))
    placed = []
    for r in m64 or []:
        q = placement_ratios(r)
        if q:
            placed.append("%s %.3f× / %.3f×" % (r["name"], q["best"], q["median"]))
    rows.append("| Memory64 ≤ %.2f× the same kernel on a 32-bit memory | %s%s%s | %s |" % (
        TARGET_MEMORY64, ", ".join("%s %.3f×" % (n, x) for x, n in ratios) or "not measured",
        " (best of interleaved runs; the Memory64 section's medians: %s)" % ", ".join(medians) if medians else "",
        "; across code placements, best against best / median against median: %s" % ", ".join(placed)
        if placed else "",
        pf(max(ratios)[0] <= TARGET_MEMORY64 if ratios else None)))
    return rows


def placement_ratios(row):
    """wasm64/wasm32 of one Memory64 row across code placements: `same` (each placement
    against the same one, a list), `best` (fastest against fastest) and `median` (median of
    the placements' medians against the same), or None without a complete placement run."""
    p = row.get("placement") or {}
    shifts = sorted({s for _, s in p})
    t32 = [p.get(("wasm32", s)) for s in shifts]
    t64 = [p.get(("wasm64", s)) for s in shifts]
    if not shifts or not all(isinstance(t, float) and t > 0 for t in t32 + t64):
        return None
    return {"shifts": shifts, "t32": t32, "t64": t64,
            "same": [b / a for a, b in zip(t32, t64)],
            "best": min(t64) / min(t32), "median": median(t64) / median(t32)}


def placement_table(L, m64, runs):
    """The Memory64 section's table of both builds at each code placement."""
    rows = [(r, placement_ratios(r)) for r in m64 if r.get("placement")]
    if not rows:
        return
    shifts = sorted({s for r, _ in rows for _, s in r["placement"]})
    L.append("The same two builds with their code moved by %s bytes (`wasmaot-bench invoke … SHIFT`, as in the "
             "code-placement section; not one instruction changes), CPU seconds, median of %d interleaved rounds. "
             "Where the code falls moves these kernels by more than the 1.10× target (FINDINGS, finding 33), so "
             "a wasm64/wasm32 ratio on one placement mixes the cost of 64-bit addresses with the luck of two "
             "layouts." % ("/".join(str(s) for s in shifts), runs))
    L.append("")
    L.append("| workload | build | " + " | ".join("+%d s" % s for s in shifts) + " |")
    L.append("|" + " --- |" * (len(shifts) + 2))
    for r, q in rows:
        for kind in ("wasm32", "wasm64"):
            cells = []
            for s in shifts:
                v = r["placement"].get((kind, s))
                cells.append(fmt_s(v) if isinstance(v, float) else "**%s**" % v)
            L.append("| %s | %s | %s |" % (r["name"], kind, " | ".join(cells)))
        if q:
            L.append("| %s | wasm64/wasm32 | %s |" % (r["name"], " | ".join(fmt_r(x, 3) for x in q["same"])))
    L.append("")
    for r, q in rows:
        if q:
            L.append("- `%s`: wasm64/wasm32 %.3f× best placement against best, %.3f× median against median, "
                     "%.3f…%.3f× placement against the same placement." % (
                         r["name"], q["best"], q["median"], min(q["same"]), max(q["same"])))
    L.append("")


def line_over_wasmtime(label, ratios, fmt_r):
    """The targets table's row for the Wasmtime line judged on `ratios` ({workload: ratio});
    no row when no workload has one."""
    if not ratios:
        return []
    worst = max((x, n) for n, x in ratios.items())
    over = [(n, x) for n, x in ratios.items() if x > TARGET_VS_WASMTIME]
    return ["| %s | worst %s (%s)%s | %s |" % (
        label, fmt_r(worst[0], 3), worst[1],
        "; over: " + ", ".join("%s %s" % (n, fmt_r(x, 3)) for n, x in over) if over else "",
        "pass" if not over else "fail")]


def write_report(args, env, wls, cells, icells, unavailable, comp, m64, mem_cmd, mem_out, elapsed, beyond=(),
                 placement=None):
    L = []
    quick = args.quick
    L.append("# wasmaot benchmark report%s" % (" (--quick: small sizes, smoke check only)" if quick else ""))
    L.append("")
    L.append("Generated %s by `benches/run.sh%s` in %.0f s." %
             (datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), " --quick" if quick else "", elapsed))
    L.append("")
    L.append("| | |\n| --- | --- |")
    L.append("| CPU | %s; cache %s; %s |" % (env["cpu"], env["cache"], env["flags"]))
    L.append("| kernel | %s |" % env["kernel"])
    L.append("| commit | %s |" % env["git"])
    L.append("| load average | %s at start, %s at end (2 cores: above ~1 the machine was shared with other work) |" %
             (" ".join(env["loadavg"]), " ".join(env.get("loadavg_end", []))))
    fib = cells.get(("native", "fib"))
    if fib is not None and fib.cpu and not quick:
        L.append("| host speed | native `fib 42`: %.2f s CPU, median of this run (%.2f s when this VM's host was "
                 "quiet, %s): the load average does not show other VMs on the same host, this does |" %
                 (fib.cpu, QUIET_FIB_S, QUIET_FIB_WHEN))
    for k, v in env["tools"]:
        L.append("| %s | %s |" % (k, v))
    L.append("")
    L.append("Times are **CPU seconds (user+sys), median of %d run%s**, of the program run: native and wasmaot "
             "as whole processes (including process start-up, a millisecond or two); Wasmtime, wasmi and wasm3 "
             "time only the `_start` call after compilation and instantiation; wasm-interp is the whole process "
             "(parsing a ~35 KB module is negligible). The wasmaot runtime also times its own `_start` call "
             "(`WASMAOT_START_TIME=1`: this thread's CPU time, after instantiation and before teardown), and every "
             "wasmaot/Wasmtime ratio compares that span on both sides; ratios to native compare whole processes. CPU time is used because the machine is shared; wall-clock "
             "medians are listed further down." % (args.runs, "" if args.runs == 1 else "s"))
    confirmed = env.get("confirmed", [])
    if confirmed:
        L.append("")
        L.append("Rows marked † (%s) were over the %.2f× Wasmtime line after those %d rounds and ran %d more "
                 "rounds of every runner, interleaved as before: their medians and best-ofs are over %d runs." % (
                     ", ".join(confirmed), TARGET_VS_WASMTIME, args.runs, args.runs, 2 * args.runs))
    L.append("")
    all_ok = True

    # ---- main table
    def cell(r, n):
        return cells.get((r, n))

    interps = [i for i in INTERPRETERS if i not in unavailable]
    L.append("## Execution time")
    L.append("")
    cn = CPU_BASELINE in MAIN
    hdr = ["workload", "arg", "native s", "wasmaot s", "wasmaot `_start` s", "Wasmtime s", "wasmaot/native",
           "Wasmtime/native", "wasmaot/Wasmtime"]
    if cn:
        hdr += ["wasmaot --cpu baseline s", "…/native", "…/Wasmtime"]
    hdr += ["%s/native" % i for i in interps] + ["interp: fastest/wasmaot"]
    L.append("| " + " | ".join(hdr) + " |")
    L.append("|" + " --- |" * len(hdr))
    r_native, r_wt, r_vs_wt, r_int = [], [], [], []
    c_native, c_vs_wt = [], []
    chart = []
    for name, src, iarg, targ in wls:
        n, a, w = cell("native", name), cell("wasmaot", name), cell("wasmtime", name)
        row = [name + (" †" if name in confirmed else ""), a.arg or default_arg(src)]
        for c in (n, a, w):
            all_ok &= c.ok
            row.append(fmt_s(c.cpu) if c.ok else "**%s**" % ("DISQUALIFIED: " + c.problem))
        row.insert(4, fmt_s(a.exec_cpu) if a.ok else "—")
        an = a.cpu / n.cpu if a.cpu and n.cpu else None
        wn = w.cpu / n.cpu if w.cpu and n.cpu else None
        aw = a.exec_cpu / w.exec_cpu if a.exec_cpu and w.exec_cpu else None
        r_native.append(an)
        r_wt.append(wn)
        r_vs_wt.append(aw)
        row += [fmt_r(an), fmt_r(wn), fmt_r(aw, 3) + (" ⚠" if aw and aw > TARGET_VS_WASMTIME else "")]
        ch = {"wasmaot": an, "wasmtime": wn}
        if cn:
            c = cell(CPU_BASELINE, name)
            all_ok &= c.ok
            cnn = c.cpu / n.cpu if c.cpu and n.cpu else None
            cnw = c.exec_cpu / w.exec_cpu if c.exec_cpu and w.exec_cpu else None
            c_native.append(cnn)
            c_vs_wt.append(cnw)
            ch[CPU_BASELINE] = cnn
            row += [fmt_s(c.cpu) if c.ok else "**DISQUALIFIED: %s**" % c.problem, fmt_r(cnn),
                    fmt_r(cnw, 3) + (" ⚠" if cnw and cnw > TARGET_VS_WASMTIME else "")]
        best = None
        for i in interps:
            ic = icells.get((i, name))
            if ic is None or not ic.ok:
                row.append("**DISQUALIFIED: %s**" % (ic.problem if ic else "not run"))
                ch[i] = None
                continue
            nref, aref = ic.ref
            ratio = ic.cpu / nref.cpu if nref.cpu else None
            ch[i] = ratio
            row.append(fmt_r(ratio))
            sp = ic.cpu / aref.cpu if aref.cpu else None
            if sp is not None and (best is None or sp < best[0]):
                best = (sp, i)
        r_int.append(best[0] if best else None)
        row.append("%s (%s)" % (fmt_r(best[0]), best[1]) if best else "—")
        chart.append((name, ch))
        L.append("| " + " | ".join(row) + " |")
    g_an, g_wn, g_aw, g_int = geomean(r_native), geomean(r_wt), geomean(r_vs_wt), geomean(r_int)
    grow = ["**geomean**", "", "", "", "", "", "**%s**" % fmt_r(g_an), fmt_r(g_wn), "**%s**" % fmt_r(g_aw, 3)]
    gch = {"wasmaot": g_an, "wasmtime": g_wn}
    if cn:
        grow += ["", "**%s**" % fmt_r(geomean(c_native)), "**%s**" % fmt_r(geomean(c_vs_wt), 3)]
        gch[CPU_BASELINE] = geomean(c_native)
    for i in interps:
        vals = []
        for name, *_ in wls:
            ic = icells.get((i, name))
            vals.append(ic.cpu / ic.ref[0].cpu if ic and ic.ok and ic.ref[0].cpu else None)
        gch[i] = geomean(vals)
        grow.append(fmt_r(gch[i]))
    grow.append("**%s**" % fmt_r(g_int))
    L.append("| " + " | ".join(grow) + " |")
    chart.append(("geomean", gch))
    L.append("")
    L.append("Columns: `X/native` is the slowdown relative to native `cc -O2` (1.00× = as fast as native); "
             "`wasmaot/Wasmtime` < 1 means wasmaot is faster (⚠: more than 3%% slower); "
             "`interp: fastest/wasmaot` is how many times faster wasmaot is than the fastest interpreter "
             "on that workload. `wasmaot` is the default `wasmaot build`, which may use every CPU feature of "
             "this machine, as Wasmtime's JIT does; `wasmaot --cpu baseline` is portable x86-64-v2 code "
             "(SSE4.2, POPCNT). %s" % (
                 "The interpreters run the small sizes too." if quick else
                 "wasmi runs the default size once; %s wasm-interp (by far the slowest) run a reduced argument "
                 "(table below), and their ratios use native and wasmaot runs at that same argument (median of %d), "
                 "so every ratio compares the same work." % (
                     "wasm3 and" if not args.interp_default_size else "(wasm3 also runs the default size);", args.runs)))
    L.append("")

    # ---- targets
    L.append("## Targets (issue 5)")
    L.append("")
    worst_wt = max(((x, n[0]) for x, n in zip(r_vs_wt, wls) if x), default=None)
    slower = [(n[0], x) for x, n in zip(r_vs_wt, wls) if x and x > TARGET_VS_WASMTIME]
    min_int = min(((x, n[0]) for x, n in zip(r_int, wls) if x), default=None)

    def pf(b):
        if quick:
            return "n/a (--quick)"
        return "—" if b is None else ("**pass**" if b else "**FAIL**")
    L.append("| target | measured | |")
    L.append("| --- | --- | --- |")
    L.append("| geomean slowdown vs native ≤ %.2f× | %s | %s |" % (TARGET_GEOMEAN_NATIVE, fmt_r(g_an),
                                                                 pf(g_an <= TARGET_GEOMEAN_NATIVE if g_an else None)))
    L.append("| every workload no slower than Wasmtime (≤ %.2f×) | worst %s (%s)%s | %s |" % (
        TARGET_VS_WASMTIME, fmt_r(worst_wt[0], 3) if worst_wt else "—", worst_wt[1] if worst_wt else "",
        "; over: " + ", ".join("%s %s" % (n, fmt_r(x, 3)) for n, x in slower) if slower else "",
        pf(not slower if worst_wt else None)))
    best_wt = []
    for name, *_ in wls:
        a, w = cell("wasmaot", name), cell("wasmtime", name)
        if a.exec_best and w.exec_best:
            best_wt.append((a.exec_best / w.exec_best, name))
    best_over = [(n, x) for x, n in best_wt if x > TARGET_VS_WASMTIME]
    if cn:
        g_cn = geomean(c_native)
        worst_cn = max(((x, n[0]) for x, n in zip(c_vs_wt, wls) if x), default=None)
        slower_cn = [(n[0], x) for x, n in zip(c_vs_wt, wls) if x and x > TARGET_VS_WASMTIME]
        L.append("| (`--cpu baseline`, informational) geomean slowdown vs native ≤ %.2f× | %s | %s |" % (
            TARGET_GEOMEAN_NATIVE, fmt_r(g_cn), pf(g_cn <= TARGET_GEOMEAN_NATIVE if g_cn else None)))
        L.append("| (`--cpu baseline`, informational) every workload no slower than Wasmtime | worst %s (%s)%s | %s |" % (
            fmt_r(worst_cn[0], 3) if worst_cn else "—", worst_cn[1] if worst_cn else "",
            "; over: " + ", ".join("%s %s" % (n, fmt_r(x, 3)) for n, x in slower_cn) if slower_cn else "",
            pf(not slower_cn if worst_cn else None)))
    if best_wt:
        L.append("| (same, on best-of-%d instead of medians; informational) | worst %s (%s)%s | %s |" % (
            args.runs, fmt_r(max(best_wt)[0], 3), max(best_wt)[1],
            "; over: " + ", ".join("%s %s" % (n, fmt_r(x, 3)) for n, x in best_over) if best_over else "",
            "n/a (--quick)" if quick else ("pass" if not best_over else "fail")))
    if placement:
        cells_p, shifts_p, pads_p = placement[0], placement[1], placement[2]
        n = len(shifts_p) + 1
        L.extend(line_over_wasmtime(
            "(same, on the median of the %d code placements; informational)" % n,
            median_vs_wasmtime(wls, cells_p, shifts_p), fmt_r))
        if pads_p > 1:
            L.extend(line_over_wasmtime(
                "(same, median of wasmaot's %d code placements against the median of Wasmtime's %d; "
                "informational)" % (n, pads_p), median_vs_wasmtime(wls, cells_p, shifts_p, pads_p), fmt_r))
    L.append("| ≥ %.0f× faster than the fastest interpreter, geomean | %s | %s |" % (
        TARGET_INTERP_GEOMEAN, fmt_r(g_int), pf(g_int >= TARGET_INTERP_GEOMEAN if g_int else None)))
    L.append("| ≥ %.0f× faster than the fastest interpreter on every workload | min %s (%s) | %s |" % (
        TARGET_INTERP_MIN, fmt_r(min_int[0]) if min_int else "—", min_int[1] if min_int else "",
        pf(min_int[0] >= TARGET_INTERP_MIN if min_int else None)))
    y2 = compile_wall(comp, "yosys.wasm", "wasmaot compile -j2")
    L.append("| compile the 68 MB `yosys.wasm` on 2 cores ≤ %.0f s | %s | %s |" % (
        TARGET_YOSYS_S, fmt_s(y2) + " s" if y2 else "not measured (run with --yosys)",
        pf(y2 <= TARGET_YOSYS_S if y2 else None)))
    b2 = compile_wall(comp, "boolector.wasm", "wasmaot compile -j2")
    L.append("| compile a 1 MB module (`boolector.wasm`, 1.26 MB) ≤ %.1f s | %s | %s |" % (
        TARGET_1MB_S, fmt_s(b2) + " s" if b2 else "not measured", pf(b2 <= TARGET_1MB_S if b2 else None)))
    L.extend(memory_target_rows(memory_bench_rows(mem_out if mem_cmd else ""), m64, pf))
    if quick:
        L.append("")
        L.append("(--quick runs take milliseconds, so process start-up dominates; the ratios above mean nothing "
                 "in this mode, only the checksums do.)")
    L.append("")

    # ---- interpreters detail
    if icells or unavailable:
        L.append("## Interpreters")
        L.append("")
        for i in INTERPRETERS:
            if i in unavailable:
                L.append("- **%s**: %s" % (i, unavailable[i]))
        L.append("- wasmi: in process (`wasmaot-bench wasmi`), WASI shims written for the harness.")
        L.append("- wasm3: PyPI `pywasm3` in process, WASI shims in Python (`harness/wasm3_run.py`); the module "
                 "goes through a `wasm2wat`/`wat2wasm` round trip first, because wasm3 rejects the padded LEB "
                 "that LLVM emits for `call_indirect`'s table index (\"LEB encoded value overflow\").")
        L.append("- wasm-interp: Debian's WABT is built without `--wasi` (\"wasi support not compiled in\"), so "
                 "`harness/wabt_shim.py` replaces the module's WASI imports with functions defined in the module "
                 "(argv baked in; `fd_write` hands bytes to `host.print`); the workload code is unchanged.")
        L.append("")
        if icells:
            hdr = ["workload"] + ["%s arg" % i for i in interps] + ["%s s" % i for i in interps] + \
                  ["native s @arg", "wasmaot s @arg"]
            L.append("| " + " | ".join(hdr) + " |")
            L.append("|" + " --- |" * len(hdr))
            for name, *_ in wls:
                ics = [icells.get((i, name)) for i in interps]
                row = [name] + [(c.arg or "default") if c else "—" for c in ics]
                row += [fmt_s(c.cpu) if c and c.ok else "**%s**" % (c.problem if c else "—") for c in ics]
                refs = []
                seen = set()
                for c in ics:
                    if c and c.arg not in seen:
                        seen.add(c.arg)
                        refs.append(c.ref)
                row.append(" / ".join(fmt_s(r[0].cpu) for r in refs))
                row.append(" / ".join(fmt_s(r[1].cpu) for r in refs))
                L.append("| " + " | ".join(row) + " |")
                for c in ics:
                    if c:
                        all_ok &= c.ok
            L.append("")
            L.append("(`@arg`: at the interpreter arguments, in column order of distinct arguments.)")
            L.append("")

    # ---- memory-system variants
    if beyond:
        all_ok &= beyond_section(L, beyond, args.runs)
    if placement:
        all_ok &= layout_section(L, wls, placement[0], placement[1], placement[2], args.runs, fmt_s, fmt_r,
                                 placement[3])

    # ---- wall clock and spread
    L.append("## Wall-clock medians and run-to-run spread")
    L.append("")
    L.append("Best-of-%d ratios use the fastest run of each runner: interference from other work only ever "
             "slows a run down, so on a busy machine the minimum is the steadier estimate (the targets above use "
             "medians, as specified)." % args.runs)
    L.append("")
    L.append("| workload | native wall s | wasmaot wall s | Wasmtime wall s | spread native / wasmaot / Wasmtime "
             "(max−min)/median of CPU time | best-of-N wasmaot/native | best-of-N wasmaot/Wasmtime | "
             "wasmaot build s (compile+link) |")
    L.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
    b_an, b_aw = [], []
    for name, *_ in wls:
        cs = [cell(r, name) for r in ("native", "wasmaot", "wasmtime")]
        n, a, w = cs
        ban = a.best / n.best if a.best and n.best else None
        baw = a.exec_best / w.exec_best if a.exec_best and w.exec_best else None
        b_an.append(ban)
        b_aw.append(baw)
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, *(fmt_s(c.wall) for c in cs),
            " / ".join("%.0f%%" % (100 * c.spread) if c.spread is not None else "—" for c in cs),
            fmt_r(ban), fmt_r(baw, 3), fmt_s(args_build_time(cells, name))))
    L.append("| **geomean** | | | | | **%s** | **%s** | |" % (fmt_r(geomean(b_an)), fmt_r(geomean(b_aw), 3)))
    L.append("")

    # ---- compile throughput
    L.append("## Compile throughput")
    L.append("")
    if comp is None:
        L.append("Skipped (--no-compile).")
    else:
        for name, size, err, dt in comp["rejected"]:
            L.append("- `%s` (%.1f MB) is **rejected** by wasmaot after %.1f s: `%s`" % (name, size / 1e6, dt, err))
        L.append("Wall-clock medians; the machine has 2 cores. Objects from `-j1` and `-j2` must be "
                 "byte-identical. Wasmtime 48.0.0 compiles with Cranelift 0.135, the version wasmaot "
                 "uses; the current Python wasmtime has a newer Cranelift.")
        L.append("")
        L.append("| module | MB | compiler | runs | wall s | CPU s | MB of Wasm / s (wall) | output |")
        L.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for mod in comp["modules"]:
            name, size = mod["module"]
            all_ok &= mod["identical"] is not False
            for label, wall, cpu, mbs, note in mod["rows"]:
                L.append("| `%s` | %.2f | %s | %d | %s | %s | %.2f | %s |" % (
                    name, size / 1e6, label, mod["runs"], fmt_s(wall), fmt_s(cpu), mbs, note))
        L.append("")
        for mod in comp["modules"]:
            L.append("- `%s`: `-j1` and `-j2` objects byte-identical: %s" % (
                mod["module"][0], {True: "**yes**", False: "**NO**", None: "—"}[mod["identical"]]))
        for n in comp["notes"]:
            L.append("- %s" % n)
    L.append("")

    # ---- memory64
    L.append("## Memory64 vs 32-bit")
    L.append("")
    if m64:
        L.append("The freestanding `mem64/*.wasm32.wasm` and `*.wasm64.wasm` builds (same C source, `run(n)` "
                 "export), compiled with the wasmaot library and called in process (`wasmaot-bench invoke`): CPU "
                 "seconds of `run(n)`, median of %d, each call on a fresh instance (the modules grow memory on "
                 "every call). Wasmtime runs the same modules for reference." % (1 if quick else args.runs))
        L.append("")
        keys = []
        for r in m64:
            for k in r["cols"]:
                if k not in keys:
                    keys.append(k)
        L.append("| workload | n | " + " | ".join(keys) + " | wasm64/wasm32 (wasmaot) | wasm32-wasi command (main table) |")
        L.append("|" + " --- |" * (len(keys) + 4))
        for r in m64:
            row = [r["name"], r["arg"]]
            for k in keys:
                v = r["cols"].get(k)
                if v is None:
                    row.append("—")
                elif v[2]:
                    row.append("**%s**" % v[2])
                    all_ok = False
                else:
                    row.append(fmt_s(v[0]))
            a32 = r["cols"].get("wasmaot wasm32")
            a64 = r["cols"].get("wasmaot wasm64")
            row.append(fmt_r(a64[0] / a32[0], 3) if a32 and a64 and a32[0] and a64[0] else "—")
            row.append(fmt_s(r["wasi"]))
            L.append("| " + " | ".join(row) + " |")
        L.append("")
        placement_table(L, m64, args.runs)
        inst = [(r["name"], k, v[1]) for r in m64 for k, v in r["cols"].items() if v and v[1] is not None]
        if inst:
            L.append("Instantiation (wasmaot, median): " + "; ".join("%s %s %.0f µs" % (n, k.split(" ", 1)[1], 1e6 * t)
                                                                   for n, k, t in inst) + ".")
            L.append("")
    else:
        L.append("Not run.")
        L.append("")

    # ---- memory microbenchmarks
    L.append("## Instantiation latency and memory.grow")
    L.append("")
    if mem_cmd:
        L.append("Output of %s (the compiler crate's `memory` bench):" % mem_cmd)
        L.append("")
        if "| --- |" in mem_out:
            L.append(mem_out.strip())
        else:
            L.append("```")
            L.append(mem_out.rstrip())
            L.append("```")
    else:
        L.append("Not included: %s." % mem_out)
    L.append("")

    # ---- findings
    L.append("## Findings")
    L.append("")
    if slower:
        L.append("In this run wasmaot is more than 3% slower than Wasmtime on: " +
                 ", ".join("`%s` (%s)" % (n, fmt_r(x, 3)) for n, x in slower) + ".")
    else:
        L.append("In this run wasmaot is within 3% of Wasmtime or faster on every workload.")
    L.append("")
    fpath = os.path.join(BENCHES, "FINDINGS.md")
    if os.path.exists(fpath):
        text = open(fpath).read()
        # Drop the file's own title.
        text = re.sub(r"\A# .*\n+", "", text)
        L.append(text.rstrip())
    L.append("")

    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    svg_chart(chart, ["native", "wasmaot"] + ([CPU_BASELINE] if cn else []) + ["wasmtime"] + interps,
              os.path.join(args.out, "slowdown.svg"),
              "--quick: small sizes, start-up dominated" if quick else
              "wasm3, wasm-interp: on a reduced argument, vs native at that argument")
    status = "all checksums ok" if all_ok else "SOME RUNS FAILED OR WERE DISQUALIFIED"
    print("bench: %s; wasmaot geomean %s native, %s Wasmtime; %s faster than the fastest interpreter" %
          (status, fmt_r(g_an), fmt_r(g_aw, 3), fmt_r(g_int)))
    # Summary line in the plain format test runners understand (checksum checks only).
    n_cells = len([c for c in cells.values()]) + len(icells)
    n_bad = len([c for c in list(cells.values()) + list(icells.values()) if not c.ok])
    print("checksums: %d passed, %d failed" % (n_cells - n_bad, n_bad))
    return all_ok


def beyond_section(L, beyond, runs):
    """Appends the memory-system variants' table to L; returns whether every checksum matched."""
    ok = True
    L.append("## Beyond the cache (informational, outside the targets)")
    L.append("")
    L.append("The same programs with one big array instead of cache-sized windows or rounds: every engine "
             "mostly waits for the memory system, so compiled code and interpreters move closer together and "
             "no code generator changes the outcome much. CPU seconds, median of %d (wasmi: one run); every "
             "runner must print native's checksum." % runs)
    L.append("")
    L.append("| workload | variant | arg | native s | wasmaot/native | Wasmtime/native | wasmi/native | "
             "wasmi/wasmaot |")
    L.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, arg, what, row in beyond:
        by = {c.runner: c for c in row}
        ok &= all(c.ok for c in row)
        n = by.get("native")

        def ratio(a, b):
            x, y = by.get(a), by.get(b)
            if x is None or y is None:
                return "—"
            if not x.ok:
                return "**%s**" % x.problem
            return fmt_r(x.cpu / y.cpu) if x.cpu and y.cpu else "—"
        L.append("| %s | %s | `%s` | %s | %s | %s | %s | %s |" % (
            name, what, arg, fmt_s(n.cpu) if n and n.ok else "**%s**" % (n.problem if n else "—"),
            ratio("wasmaot", "native"), ratio("wasmtime", "native"), ratio("wasmi", "native"),
            ratio("wasmi", "wasmaot")))
    L.append("")
    return ok
