"""Running one workload under one runner (native, wasmaot, Wasmtime, the interpreters) and
collecting timed, checksummed results."""
import json
import os
import statistics
import subprocess
import sys
import time

import layout
import wabt_shim
from common import (  # noqa: E402
    CPU_BASELINE,
    HERE,
    MAIN,
    WL,
    checksum_of,
    log,
    median,
)


# --------------------------------------------------------------------------------------
# running things


class Result:
    """One run: cpu/wall seconds, checksum (None if absent), error text (None if ok).
    `start` is (cpu, wall) of the `_start` call alone where the runner reports it (a wasmaot
    executable run with WASMAOT_START_TIME), else None."""

    def __init__(self, cpu, wall, checksum, error=None, start=None):
        self.cpu, self.wall, self.checksum, self.error = cpu, wall, checksum, error
        self.start = start


# The stderr line a wasmaot executable prints when WASMAOT_START_TIME is set
# (runtime/src/command.rs): `wasmaot-start-time: cpu=SECONDS wall=SECONDS`.
START_TIME_PREFIX = "wasmaot-start-time:"
START_TIME_ENV = dict(os.environ, WASMAOT_START_TIME="1")


def start_time_line(err):
    """(cpu, wall) from a wasmaot executable's start-time line on stderr, or None."""
    for line in reversed(err.decode(errors="replace").splitlines()):
        if line.startswith(START_TIME_PREFIX):
            kv = dict(f.split("=", 1) for f in line[len(START_TIME_PREFIX):].split())
            return float(kv["cpu"]), float(kv["wall"])
    return None


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
        # `wasmaot build --code-shift N` executables for the code-placement section.
        self.layout_shifts = []
        self.shifted_exe = {}
        # Wasmtime's placements for that section (`layout.wasmtime_runners`): the padded
        # modules and how far one padding function moved the code, per (workload, K).
        self.wasmtime_pads = 1
        self.wt_padded = {}
        self.wt_pad_shift = {}
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
        t = time.perf_counter()
        self.aot_exe[name] = self._build_aot(name, wasm, "wasmaot", [])
        self.build_times[(name, "wasmaot")] = time.perf_counter() - t
        if CPU_BASELINE in MAIN:
            self.aot_baseline_exe[name] = self._build_aot(name, wasm, CPU_BASELINE, ["--cpu", "baseline"])
        for shift in self.layout_shifts:
            runner = layout.RUNNER % shift
            self.shifted_exe[(name, shift)] = self._build_aot(name, wasm, runner, ["--code-shift", str(shift)])
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
        for k in range(1, self.wasmtime_pads if self.wt_module[name] is not None else 0):
            runner = layout.wasmtime_runner(k)
            padded = os.path.join(self.work, runner, name + ".wasm")
            try:
                layout.pad_module(self.args.bench_bin, wasm, padded, k)
                self.wt_padded[(name, k)] = wasmtime.Module.from_file(self.engine, padded)
                moved = layout.wasmtime_shift(self.wt_module[name], self.wt_padded[(name, k)], k)
                self.wt_pad_shift[(name, k)] = moved // k if moved is not None else None
            except Exception as e:  # noqa: BLE001
                self.unavailable[(name, runner)] = "padding failed: %s" % e

    def _build_aot(self, name, wasm, runner, flags):
        """`wasmaot build FLAGS` into <work>/<runner>/<name>; the executable's path, or None
        with the runner marked unavailable for this workload."""
        exe = os.path.join(self.work, runner, name)
        os.makedirs(os.path.dirname(exe), exist_ok=True)
        p = subprocess.run([self.args.wasmaot, "build"] + flags + [wasm, "-o", exe],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode == 0:
            return exe
        self.unavailable[(name, runner)] = "build failed: " + p.stderr.decode(errors="replace").strip()
        return None

    # ---- runs
    def run(self, runner, name, src, arg):
        argv_tail = arg.split() if arg is not None else []
        wasm = os.path.join(WL, src[:-2] + ".wasm")
        if (name, runner) in self.unavailable:
            return Result(None, None, None, self.unavailable[(name, runner)])
        if runner == "native":
            return self._proc([self.native_exe[name]] + argv_tail)
        if runner == "wasmaot":
            return self._aot([self.aot_exe[name]] + argv_tail)
        if runner == CPU_BASELINE:
            return self._aot([self.aot_baseline_exe[name]] + argv_tail)
        shift = layout.runner_shift(runner)
        if shift == 0:
            return self._aot([self.aot_exe[name]] + argv_tail)
        if shift is not None:
            return self._aot([self.shifted_exe[(name, shift)]] + argv_tail)
        if runner == "wasmtime":
            return self._wasmtime(self.wt_module[name], name, argv_tail)
        pads = layout.runner_pads(runner)
        if pads is not None:
            return self._wasmtime(self.wt_padded[(name, pads)], name, argv_tail)
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

    def _aot(self, argv):
        """A wasmaot executable, timed as a whole process and, by the runtime, its `_start`
        call alone (the span Wasmtime's runner times)."""
        cpu, wall, code, out, err = spawn_timed(argv, timeout=self.args.timeout, env=START_TIME_ENV)
        if code != 0:
            return Result(cpu, wall, checksum_of(out), "exit %d: %s" % (code, err.decode(errors="replace")[-300:]))
        start = start_time_line(err)
        if start is None:
            return Result(cpu, wall, checksum_of(out), "no `%s` line on stderr" % START_TIME_PREFIX)
        return Result(cpu, wall, checksum_of(out), start=start)

    def _inproc(self, argv):
        cpu, wall, code, out, err = spawn_timed(argv, timeout=self.args.timeout)
        b = bench_line(err)
        if code != 0 or b is None:
            return Result(None, wall, checksum_of(out), "exit %d: %s" % (code, err.decode(errors="replace")[-300:]))
        return Result(b["cpu"], b["wall"], checksum_of(out))

    def _wasmtime(self, module, name, argv_tail):
        import wasmtime
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

    # The `_start` call alone: what every comparison with Wasmtime uses, because Wasmtime's
    # runner times only that call (instantiation and teardown happen outside its clock).
    # Runners that do not report it (Wasmtime itself, whose whole timed span is `_start`)
    # give their CPU time.
    def _exec(self):
        xs = [r.start[0] if r.start else r.cpu for r in self.results]
        return [x for x in xs if x is not None]

    @property
    def exec_cpu(self):
        xs = self._exec()
        return median(xs) if self.ok and xs else None

    @property
    def exec_best(self):
        xs = self._exec()
        return min(xs) if self.ok and xs else None

    @property
    def spread(self):
        xs = [r.cpu for r in self.results if r.cpu is not None]
        if not self.ok or len(xs) < 2:
            return None
        return (max(xs) - min(xs)) / statistics.median(xs)


def measure(runners, cells, rounds, label):
    """Runs every cell `rounds` times, interleaving cells within each round. A workload's
    cells run back to back (their ratios compare the same moment of a shared machine), in
    an order rotated every round so that no runner always goes first."""
    groups = []
    for c in cells:
        if groups and groups[-1][0].name == c.name:
            groups[-1].append(c)
        else:
            groups.append([c])
    for r in range(rounds):
        for c in [c for g in groups for c in g[r % len(g):] + g[:r % len(g)]]:
            res = runners.run(c.runner, c.name, c.src, c.arg)
            c.results.append(res)
            if res.error is not None or res.checksum != c.expected:
                log("%s %s %s(%s): %s" % (label, c.name, c.runner, c.arg,
                                          res.error or "checksum %s != %s" % (res.checksum, c.expected)))
        log("%s: round %d/%d done" % (label, r + 1, rounds))
