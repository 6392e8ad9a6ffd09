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
import datetime
import hashlib
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCHES = os.path.dirname(HERE)
ROOT = os.path.dirname(BENCHES)
WL = os.path.join(BENCHES, "workloads")
sys.path.insert(0, HERE)
import wabt_shim  # noqa: E402

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


# --------------------------------------------------------------------------------------
# running things


class Result:
    """One run: cpu/wall seconds, checksum (None if absent), error text (None if ok)."""

    def __init__(self, cpu, wall, checksum, error=None):
        self.cpu, self.wall, self.checksum, self.error = cpu, wall, checksum, error


def spawn_timed(argv, timeout=None, env=None):
    """Runs argv; returns (user+sys cpu, wall, status, stdout, stderr) of the child."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    # Drain both pipes ourselves, then reap with wait4 to get the child's rusage
    # (Popen.communicate would reap it without rusage).
    out_chunks, err_chunks = [], []
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ, out_chunks)
    sel.register(p.stderr, selectors.EVENT_READ, err_chunks)
    open_fds = 2
    deadline = None if timeout is None else t0 + timeout
    while open_fds:
        left = None if deadline is None else max(0.0, deadline - time.perf_counter())
        if left == 0.0:
            p.kill()
            break
        for key, _ in sel.select(timeout=left if left is not None else 1.0):
            data = os.read(key.fileobj.fileno(), 1 << 16)
            if data:
                key.data.append(data)
            else:
                sel.unregister(key.fileobj)
                open_fds -= 1
    sel.close()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    p.stdout.close()
    p.stderr.close()
    return ru.ru_utime + ru.ru_stime, wall, p.returncode, b"".join(out_chunks), b"".join(err_chunks)


def bench_line(err):
    for line in reversed(err.decode(errors="replace").splitlines()):
        if line.startswith("BENCH "):
            return json.loads(line[6:])
    return None


class Runners:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.native_exe = {}
        self.aot_exe = {}
        self.aot_baseline_exe = {}
        self.wt_module = {}
        self.wabt_cache = {}
        self.wasm3_module = {}
        self.build_times = {}
        self.unavailable = {}
        self.engine = None

    # ---- builds
    def build(self, name, src):
        wasm = os.path.join(WL, src[:-2] + ".wasm")
        exe = os.path.join(self.work, "native", name)
        os.makedirs(os.path.dirname(exe), exist_ok=True)
        t = time.perf_counter()
        subprocess.run([self.args.cc, "-O2", "-o", exe, os.path.join(WL, src), "-lm"], check=True)
        self.build_times[(name, "native")] = time.perf_counter() - t
        self.native_exe[name] = exe
        exe = os.path.join(self.work, "wasmaot", name)
        os.makedirs(os.path.dirname(exe), exist_ok=True)
        t = time.perf_counter()
        p = subprocess.run([self.args.wasmaot, "build", wasm, "-o", exe],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.build_times[(name, "wasmaot")] = time.perf_counter() - t
        if p.returncode == 0:
            self.aot_exe[name] = exe
        else:
            self.aot_exe[name] = None
            self.unavailable[(name, "wasmaot")] = "build failed: " + p.stderr.decode(errors="replace").strip()
        if CPU_BASELINE in MAIN:
            exe = os.path.join(self.work, "wasmaot-baseline", name)
            os.makedirs(os.path.dirname(exe), exist_ok=True)
            p = subprocess.run([self.args.wasmaot, "build", "--cpu", "baseline", wasm, "-o", exe],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if p.returncode == 0:
                self.aot_baseline_exe[name] = exe
            else:
                self.unavailable[(name, CPU_BASELINE)] = "build failed: " + p.stderr.decode(errors="replace").strip()
        import wasmtime
        if self.engine is None:
            self.engine = wasmtime.Engine()
        t = time.perf_counter()
        try:
            self.wt_module[name] = wasmtime.Module.from_file(self.engine, wasm)
        except Exception as e:  # noqa: BLE001
            self.wt_module[name] = None
            self.unavailable[(name, "wasmtime")] = "compile failed: %s" % e
        self.build_times[(name, "wasmtime")] = time.perf_counter() - t

    # ---- runs
    def run(self, runner, name, src, arg):
        argv_tail = [arg] if arg is not None else []
        wasm = os.path.join(WL, src[:-2] + ".wasm")
        if (name, runner) in self.unavailable:
            return Result(None, None, None, self.unavailable[(name, runner)])
        if runner == "native":
            return self._proc([self.native_exe[name]] + argv_tail)
        if runner == "wasmaot":
            return self._proc([self.aot_exe[name]] + argv_tail)
        if runner == CPU_BASELINE:
            return self._proc([self.aot_baseline_exe[name]] + argv_tail)
        if runner == "wasmtime":
            return self._wasmtime(name, wasm, argv_tail)
        if runner == "wasmi":
            return self._inproc([self.args.bench_bin, "wasmi", wasm] + argv_tail)
        if runner == "wasm3":
            key = wasm
            if key not in self.wasm3_module:
                # wasm3 0.5 rejects the padded LEB that LLVM writes for call_indirect's
                # table index ("LEB encoded value overflow"); a wasm2wat/wat2wasm round
                # trip re-encodes it minimally and changes nothing else.
                out = os.path.join(self.work, "wasm3", name + ".wasm")
                os.makedirs(os.path.dirname(out), exist_ok=True)
                wat = out[:-5] + ".wat"
                subprocess.run(["wasm2wat", wasm, "-o", wat], check=True)
                subprocess.run(["wat2wasm", wat, "-o", out], check=True)
                self.wasm3_module[key] = out
            return self._inproc([sys.executable, os.path.join(HERE, "wasm3_run.py"),
                                 self.wasm3_module[key]] + argv_tail)
        if runner == "wasm-interp":
            out = os.path.join(self.work, "wabt", "%s-%s.wasm" % (name, arg))
            if out not in self.wabt_cache:
                os.makedirs(os.path.dirname(out), exist_ok=True)
                wabt_shim.shim(wasm, [name] + argv_tail, out)
                self.wabt_cache[out] = True
            cpu, wall, code, stdout, err = spawn_timed(
                ["wasm-interp", "--host-print", "--run-all-exports", out], timeout=self.args.timeout)
            text = wabt_shim.decode_output(stdout)
            if code != 0 or b"_start() => error" in stdout:
                return Result(cpu, wall, checksum_of(text), "exit %d: %s" % (code, err.decode(errors="replace")[-300:]))
            return Result(cpu, wall, checksum_of(text))
        raise ValueError(runner)

    def _proc(self, argv):
        cpu, wall, code, out, err = spawn_timed(argv, timeout=self.args.timeout)
        if code != 0:
            return Result(cpu, wall, checksum_of(out), "exit %d: %s" % (code, err.decode(errors="replace")[-300:]))
        return Result(cpu, wall, checksum_of(out))

    def _inproc(self, argv):
        cpu, wall, code, out, err = spawn_timed(argv, timeout=self.args.timeout)
        b = bench_line(err)
        if code != 0 or b is None:
            return Result(None, wall, checksum_of(out), "exit %d: %s" % (code, err.decode(errors="replace")[-300:]))
        return Result(b["cpu"], b["wall"], checksum_of(out))

    def _wasmtime(self, name, wasm, argv_tail):
        import wasmtime
        module = self.wt_module[name]
        wasi = wasmtime.WasiConfig()
        wasi.argv = [name] + argv_tail
        out_path = os.path.join(self.work, "wasmtime.stdout")
        wasi.stdout_file = out_path
        store = wasmtime.Store(self.engine)
        store.set_wasi(wasi)
        linker = wasmtime.Linker(self.engine)
        linker.define_wasi()
        inst = linker.instantiate(store, module)
        start = inst.exports(store)["_start"]
        err = None
        c0, w0 = time.thread_time(), time.perf_counter()
        try:
            start(store)
        except wasmtime.ExitTrap as e:
            if e.code != 0:
                err = "exit %d" % e.code
        except Exception as e:  # noqa: BLE001
            err = "trap: %s" % str(e).split("\n")[0]
        cpu, wall = time.thread_time() - c0, time.perf_counter() - w0
        del inst, store
        with open(out_path, "rb") as f:
            return Result(cpu, wall, checksum_of(f.read()), err)


# --------------------------------------------------------------------------------------
# measurements


class Cell:
    """Runs of one runner on one workload at one argument."""

    def __init__(self, runner, name, arg, expected):
        self.runner, self.name, self.arg, self.expected = runner, name, arg, expected
        self.results = []

    @property
    def ok(self):
        return bool(self.results) and all(r.error is None and r.checksum == self.expected for r in self.results)

    @property
    def problem(self):
        for r in self.results:
            if r.error is not None:
                return r.error.strip().split("\n")[0][:200]
            if r.checksum != self.expected:
                return "wrong checksum %s (expected %s)" % (r.checksum, self.expected)
        return None if self.results else "not run"

    @property
    def cpu(self):
        return median([r.cpu for r in self.results if r.cpu is not None]) if self.ok else None

    @property
    def wall(self):
        return median([r.wall for r in self.results if r.wall is not None]) if self.ok else None

    @property
    def best(self):
        xs = [r.cpu for r in self.results if r.cpu is not None]
        return min(xs) if self.ok and xs else None

    @property
    def spread(self):
        xs = [r.cpu for r in self.results if r.cpu is not None]
        if not self.ok or len(xs) < 2:
            return None
        return (max(xs) - min(xs)) / statistics.median(xs)


def measure(runners, cells, rounds, label):
    """Runs every cell `rounds` times, interleaving cells within each round."""
    for r in range(rounds):
        for c in cells:
            res = runners.run(c.runner, c.name, c.src, c.arg)
            c.results.append(res)
            if res.error is not None or res.checksum != c.expected:
                log("%s %s %s(%s): %s" % (label, c.name, c.runner, c.arg,
                                          res.error or "checksum %s != %s" % (res.checksum, c.expected)))
        log("%s: round %d/%d done" % (label, r + 1, rounds))


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


def mem64_section(args, cells, quick):
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
    return rows


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
            ("wasmaot", first_line([args.wasmaot, "--version"]) + " (-O2, `wasmaot build`)"),
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
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    if args.runs is None:
        args.runs = 1 if args.quick else 5
    t_start = time.time()
    os.makedirs(args.out, exist_ok=True)
    helptext = subprocess.run([args.wasmaot, "build", "--help"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT).stdout.decode(errors="replace")
    if "--cpu" in helptext and not args.no_cpu_baseline:
        MAIN.insert(2, CPU_BASELINE)
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

        comp = None
        if not args.no_compile:
            log("compile throughput")
            comp = compile_throughput(args, work, args.quick)
        log("memory64")
        try:
            m64 = mem64_section(args, cells, args.quick) if not only or {"bytes64", "matmul64"} & only else []
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
                          time.time() - t_start)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log("report: %s" % os.path.join(args.out, "report.md"))
    return 0 if ok else 1


def write_report(args, env, wls, cells, icells, unavailable, comp, m64, mem_cmd, mem_out, elapsed):
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
    for k, v in env["tools"]:
        L.append("| %s | %s |" % (k, v))
    L.append("")
    L.append("Times are **CPU seconds (user+sys), median of %d run%s**, of the program run: native and wasmaot "
             "as whole processes (including process start-up, a millisecond or two); Wasmtime, wasmi and wasm3 "
             "time only the `_start` call after compilation and instantiation; wasm-interp is the whole process "
             "(parsing a ~35 KB module is negligible). CPU time is used because the machine is shared; wall-clock "
             "medians are listed further down." % (args.runs, "" if args.runs == 1 else "s"))
    L.append("")
    all_ok = True

    # ---- main table
    def cell(r, n):
        return cells.get((r, n))

    interps = [i for i in INTERPRETERS if i not in unavailable]
    L.append("## Execution time")
    L.append("")
    cn = CPU_BASELINE in MAIN
    hdr = ["workload", "arg", "native s", "wasmaot s", "Wasmtime s", "wasmaot/native", "Wasmtime/native",
           "wasmaot/Wasmtime"]
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
        row = [name, a.arg or default_arg(src)]
        for c in (n, a, w):
            all_ok &= c.ok
            row.append(fmt_s(c.cpu) if c.ok else "**%s**" % ("DISQUALIFIED: " + c.problem))
        an = a.cpu / n.cpu if a.cpu and n.cpu else None
        wn = w.cpu / n.cpu if w.cpu and n.cpu else None
        aw = a.cpu / w.cpu if a.cpu and w.cpu else None
        r_native.append(an)
        r_wt.append(wn)
        r_vs_wt.append(aw)
        row += [fmt_r(an), fmt_r(wn), fmt_r(aw, 3) + (" ⚠" if aw and aw > TARGET_VS_WASMTIME else "")]
        ch = {"wasmaot": an, "wasmtime": wn}
        if cn:
            c = cell(CPU_BASELINE, name)
            all_ok &= c.ok
            cnn = c.cpu / n.cpu if c.cpu and n.cpu else None
            cnw = c.cpu / w.cpu if c.cpu and w.cpu else None
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
    grow = ["**geomean**", "", "", "", "", "**%s**" % fmt_r(g_an), fmt_r(g_wn), "**%s**" % fmt_r(g_aw, 3)]
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
        if a.best and w.best:
            best_wt.append((a.best / w.best, name))
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
        baw = a.best / w.best if a.best and w.best else None
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
        inst = [(r["name"], k, v[1]) for r in m64 for k, v in r["cols"].items() if v and v[1] is not None]
        if inst:
            L.append("Instantiation (wasmaot, median): " + "; ".join("%s %s %.0f µs" % (n, k.split()[1], 1e6 * t)
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


_BUILD_TIMES = {}


def args_build_time(cells, name):
    return _BUILD_TIMES.get(name)


if __name__ == "__main__":
    sys.exit(main())
