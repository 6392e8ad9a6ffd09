"""The report's measurements beyond execution time: compile throughput, Memory64 vs
32-bit, the memory microbenchmarks, and the machine description."""
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import time

from common import (  # noqa: E402
    BENCHES,
    HERE,
    ROOT,
    WL,
    WORKLOADS,
    first_line,
    load_expected,
    log,
    median,
)
from runners import spawn_timed  # noqa: F401


# --------------------------------------------------------------------------------------
# the memory microbenchmarks' table, for the targets


def memory_bench_rows(text):
    """`{measurement: (number, unit, note)}` from the Markdown table `cargo bench --bench memory`
    prints (`| host Memory::grow(1) at 1 MiB | 0.947 µs | target ≤ 2 µs |`)."""
    rows = {}
    for line in (text or "").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3:
            continue
        m = re.match(r"^([0-9.]+) (µs|ms|s)$", cells[1])
        if m:
            rows[cells[0]] = (float(m.group(1)), m.group(2), cells[2])
    return rows


# --------------------------------------------------------------------------------------
# compile throughput and memory64


def compile_throughput(args, work, quick):
    """Compile time of each third-party module (yosys, boolector, icepll) with wasmaot -j1/-j2
    and Wasmtime (serial/parallel); the largest workload stands in when none is available."""
    sec = {"rejected": [], "modules": [], "notes": []}
    cands = [os.path.join(args.third_party, n) for n in ("yosys.wasm", "boolector.wasm", "icepll.wasm")]
    cands = [c for c in cands if os.path.exists(c)]
    if quick or not cands:
        if not quick:
            sec["notes"].append("third-party modules not found in %s (run tests/third_party/fetch.sh); "
                                "using the largest workload" % args.third_party)
        cands = [max((os.path.join(WL, s[:-2] + ".wasm") for _, s, _, _ in WORKLOADS), key=os.path.getsize)]
    for c in cands:
        size = os.path.getsize(c)
        # One run of the 68 MB module per configuration (each takes 30-80 s); 3 of the others.
        runs = 1 if quick or size > 20e6 else min(3, args.runs)
        mod = {"module": (os.path.basename(c), size), "rows": [], "identical": None, "runs": runs}
        hashes = {}
        for j in ("2", "1"):
            walls, cpus = [], []
            for i in range(runs):
                out = os.path.join(work, "c-j%s-%d.o" % (j, i))
                cpu, wall, code, _, err = spawn_timed([args.wasmaot, "compile", "-j" + j, c, "-o", out])
                if code != 0:
                    msg = err.decode(errors="replace").strip().split("\n")[0]
                    sec["rejected"].append((os.path.basename(c), size, msg, wall))
                    break
                walls.append(wall)
                cpus.append(cpu)
                hashes.setdefault(j, set()).add(hashlib.sha256(open(out, "rb").read()).hexdigest())
                objsize = os.path.getsize(out)
                os.unlink(out)
            if not walls:
                break
            mod["rows"].append(("wasmaot compile -j%s" % j, median(walls), median(cpus), size / median(walls) / 1e6,
                                "object %.1f MB" % (objsize / 1e6)))
        if not mod["rows"]:
            continue
        all_h = set().union(*hashes.values()) if hashes else set()
        mod["identical"] = (len(all_h) == 1) if len(hashes) == 2 else None
        for label, pypath in (("wasmtime", None), ("wasmtime (same Cranelift)", args.wasmtime_same_cranelift)):
            if label != "wasmtime" and not (pypath and os.path.isdir(pypath)):
                continue
            for par in (True, False):
                env = dict(os.environ)
                if pypath:
                    env["PYTHONPATH"] = pypath
                p = subprocess.run([sys.executable, os.path.join(HERE, "wasmtime_compile.py"), c, str(runs),
                                    "1" if par else "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
                if p.returncode != 0:
                    sec["notes"].append("%s compile of %s failed: %s" % (
                        label, os.path.basename(c), p.stderr.decode(errors="replace").strip().split("\n")[-1]))
                    break
                j = json.loads(p.stdout)
                mod["rows"].append(("wasmtime %s Module() %s" % (j["version"], "parallel" if par else "serial"),
                                    median(j["walls"]), median(j["cpus"]), size / median(j["walls"]) / 1e6,
                                    "serialized %.1f MB" % (j["serialized"] / 1e6)))
        sec["modules"].append(mod)
    return sec


def compile_wall(comp, module, label):
    """Wall seconds of `label` compiling `module` in a compile_throughput result, or None."""
    for mod in (comp or {}).get("modules", []):
        if mod["module"][0] == module:
            for row in mod["rows"]:
                if row[0] == label:
                    return row[1]
    return None


def mem64_section(args, cells, quick, shifts=()):
    """The Memory64 section's rows: each kernel's wasm32 (guard, explicit) and wasm64 builds
    in process, Wasmtime's for reference, and with `shifts`, wasm32 and wasm64 again with the
    code at 0 and each shift (interleaved rounds), as the code-placement section does."""
    rows = []
    import wasmtime
    cfg = wasmtime.Config()
    cfg.wasm_memory64 = True
    eng = wasmtime.Engine(cfg)
    expected = load_expected(os.path.join(WL, "expected.txt"))
    small = load_expected(os.path.join(WL, "expected-small.txt"))
    for name, arg in (("bytes64", "64"), ("matmul64", "900")):
        if quick:
            arg, want = small[name][0], small[name][1]
        else:
            want = expected[name][1]
        runs = 1 if quick else args.runs
        row = {"name": name, "arg": arg, "cols": {}}
        for kind, bounds in (("wasm32", "guard"), ("wasm32", "explicit"), ("wasm64", "guard")):
            path = os.path.join(WL, "mem64", "%s.%s.wasm" % (name, kind))
            cpu, wall, code, out, err = spawn_timed([args.bench_bin, "invoke", path, arg, str(runs), bounds])
            key = "wasmaot %s%s" % (kind, " (explicit bounds checks)" if bounds == "explicit" else "")
            if code != 0:
                row["cols"][key] = (None, None, "failed: " + err.decode(errors="replace").strip()[:200])
                continue
            j = json.loads(out)
            ok = j["result"] == want
            row["cols"][key] = (median(j["cpu"]), median(j["instantiate"]),
                                None if ok else "wrong result %s (expected %s)" % (j["result"], want))
        for kind in ("wasm32", "wasm64"):
            path = os.path.join(WL, "mem64", "%s.%s.wasm" % (name, kind))
            mod = wasmtime.Module.from_file(eng, path)
            cpus, res = [], None
            for _ in range(runs):
                store = wasmtime.Store(eng)
                inst = wasmtime.Instance(store, mod, [])
                f = inst.exports(store)["run"]
                c0 = time.thread_time()
                res = f(store, int(arg)) & 0xFFFFFFFFFFFFFFFF
                cpus.append(time.thread_time() - c0)
                del inst, store
            row["cols"]["wasmtime " + kind] = (median(cpus), None,
                                               None if str(res) == want else "wrong result %s" % res)
        cell = cells.get(("wasmaot", name))
        row["wasi"] = cell.cpu if cell is not None else None
        rows.append(row)
    if shifts and not quick:
        mem64_placement(args, rows, [0] + list(shifts), expected)
    return rows


def mem64_placement(args, rows, shifts, expected):
    """Adds `placement`, {(kind, shift): median CPU seconds or an error}, to each row: the
    wasm32 and wasm64 builds with the code moved by each shift, `args.runs` interleaved rounds."""
    times = {}
    for rnd in range(args.runs):
        for row in rows:
            for shift in shifts:
                for kind in ("wasm32", "wasm64"):
                    path = os.path.join(WL, "mem64", "%s.%s.wasm" % (row["name"], kind))
                    cmd = [args.bench_bin, "invoke", path, row["arg"], "1", "guard", str(shift)]
                    cpu, wall, code, out, err = spawn_timed(cmd)
                    key = (row["name"], kind, shift)
                    if code != 0:
                        times[key] = "failed: " + err.decode(errors="replace").strip()[:200]
                    elif not isinstance(times.get(key, []), str):
                        j = json.loads(out)
                        if j["result"] != expected[row["name"]][1]:
                            times[key] = "wrong result %s" % j["result"]
                        else:
                            times.setdefault(key, []).extend(j["cpu"])
        log("memory64 placement: round %d/%d done" % (rnd + 1, args.runs))
    for row in rows:
        row["placement"] = {}
        for kind in ("wasm32", "wasm64"):
            for shift in shifts:
                t = times.get((row["name"], kind, shift))
                row["placement"][(kind, shift)] = t if isinstance(t, str) else median(t)


def memory_microbenchmarks(args):
    """Output of the memory microbenchmarks (instantiation latency, memory.grow), if they
    exist: the `memory` bench of the compiler crate (`cargo bench -p wasmaot --bench
    memory`), or a `benches/memory*/` directory with a run.sh / run.py / Cargo.toml."""
    manifest = os.path.join(ROOT, "compiler", "Cargo.toml")
    if os.path.exists(os.path.join(ROOT, "compiler", "benches", "memory.rs")) and \
            re.search(r'\[\[bench\]\]\s*\nname\s*=\s*"memory"', open(manifest).read()):
        cmd = ["cargo", "bench", "-q", "-p", "wasmaot", "--bench", "memory"] + (["--", "--quick"] if args.quick else [])
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, timeout=900)
        # The bench prints its progress on stderr and a Markdown table on stdout.
        out = p.stdout.decode(errors="replace")
        if p.returncode != 0 or not out.strip():
            out += "\n" + p.stderr.decode(errors="replace")[-3000:] + "\n(exit status %d)" % p.returncode
        return "`%s`" % " ".join(cmd), out
    found = sorted(p for p in os.listdir(BENCHES) if p.startswith("memory"))
    if not found:
        return None, "neither `cargo bench -p wasmaot --bench memory` nor `benches/memory*` exists in this checkout"
    for d in found:
        full = os.path.join(BENCHES, d)
        if not os.path.isdir(full):
            continue
        for script in ("run.sh", "run.py"):
            s = os.path.join(full, script)
            if os.path.isfile(s):
                cmd = ["bash", s] if script.endswith(".sh") else [sys.executable, s]
                if args.quick:
                    cmd.append("--quick")
                p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT,
                                   timeout=900)
                return "`%s`" % os.path.relpath(s, ROOT), p.stdout.decode(errors="replace")
        man = os.path.join(full, "Cargo.toml")
        if os.path.isfile(man):
            pkg = re.search(r'^name\s*=\s*"([^"]+)"', open(man).read(), re.M).group(1)
            cmd = ["cargo", "run", "--release", "-q", "-p", pkg, "--"] + (["--quick"] if args.quick else [])
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT, timeout=900)
            return "`%s`" % " ".join(cmd), p.stdout.decode(errors="replace")
    return None, "found %s but no run.sh / run.py / Cargo.toml to run" % ", ".join(found)



def environment(args):
    cpu = {}
    try:
        for line in open("/proc/cpuinfo"):
            if ":" in line:
                k, v = [s.strip() for s in line.split(":", 1)]
                cpu.setdefault(k, v)
        ncpu = sum(1 for line in open("/proc/cpuinfo") if line.startswith("processor"))
    except OSError:
        ncpu = os.cpu_count()
    flags = set(cpu.get("flags", "").split())
    interesting = [f for f in ("sse4_2", "popcnt", "avx", "avx2", "bmi1", "bmi2", "lzcnt", "fma", "avx512f")
                   if f in flags or (f == "lzcnt" and "abm" in flags)]
    git = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"], stdout=subprocess.PIPE).stdout.decode().strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           stdout=subprocess.PIPE).stdout.decode().strip()
    subj = subprocess.run(["git", "-C", ROOT, "log", "-1", "--format=%s"], stdout=subprocess.PIPE).stdout.decode().strip()

    def pyver(pkg):
        try:
            from importlib.metadata import version
            return version(pkg)
        except Exception:  # noqa: BLE001
            return None

    lock = open(os.path.join(ROOT, "Cargo.lock")).read()
    m = re.search(r'name = "wasmi"\nversion = "([^"]+)"', lock)
    w3 = pyver("pywasm3")
    try:
        import wasm3
        w3 = "%s (pywasm3 %s)" % (wasm3.M3_VERSION, w3)
    except Exception:  # noqa: BLE001
        pass
    return {
        "cpu": "%s, %d logical CPUs%s" % (cpu.get("model name", "?"), ncpu,
                                           (", %s MHz" % cpu["cpu MHz"]) if "cpu MHz" in cpu else ""),
        "cache": cpu.get("cache size", "?"),
        "flags": " ".join(interesting),
        "kernel": platform.release(),
        "git": "%s%s — %s" % (git, " (+ uncommitted changes)" if dirty else "", subj),
        "tools": [
            ("wasmaot", first_line([args.wasmaot, "--version"]) + f" (-O2, `wasmaot build`; the compiler built with {args.compiler_build})"),
            ("native", first_line([args.cc, "--version"]) + " (`-O2 ... -lm`)"),
            ("wasmtime", "Python wasmtime %s (default config: Cranelift, opt_level speed)" % pyver("wasmtime")),
            ("wasmi", "wasmi %s (eager compilation, in-process Rust runner, codegen-units=1)" % (m.group(1) if m else "?")),
            ("wasm3", "wasm3 %s" % w3 if w3 else "not available"),
            ("wasm-interp", first_line(["wasm-interp", "--version"]).join(["WABT wasm-interp ", ""])),
            ("rustc", first_line(["rustc", "--version"])),
            ("python", sys.version.split()[0]),
        ],
        "loadavg": open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else [],
    }
