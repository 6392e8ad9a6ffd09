#!/usr/bin/env python3
"""Run a WASI preview1 program under Python wasmtime, as described by a spec file.

Usage:
    run_wasmtime.py <prog.wasm> [<spec.json>] [<workdir>]

This is the reference ("peer") runner that the Rust test harness compares
wasmaot against.  Behaviour:

* stdout of the program is written to our stdout, stderr of the program to our
  stderr (both flushed after the program has finished).
* Our exit status is the program's exit status: the value passed to
  proc_exit (or returned from main), 0 if _start returns normally.
* If the program traps, "trap: <TRAP_CODE>: <message>" is printed to stderr
  and we exit with status 134 (128 + SIGABRT, the same convention as the
  wasmtime CLI).  TRAP_CODE is the wasmtime trap-code name, e.g.
  INTEGER_DIVISION_BY_ZERO, MEMORY_OUT_OF_BOUNDS, UNREACHABLE,
  STACK_OVERFLOW; <message> is wasmtime's, e.g. "wasm trap: integer divide
  by zero".
* Errors of this script itself (bad spec, module fails to compile/link)
  exit with status 125.

Spec file (JSON; every key optional):

    {
      "argv0": "args",              # argv[0]; default: file stem of the wasm
      "args": ["a", "b c"],         # argv[1..]
      "env": {"KEY": "value"},      # exact environment (nothing inherited)
      "dirs": [                     # preopened directories
        {"host": "TMP", "guest": "/sandbox", "readonly": false},
        {"host": "fixtures/data", "guest": "/data", "readonly": true}
      ],
      "setup": [                    # applied inside the TMP dir before the run
        {"op": "file", "path": "hello.txt", "content": "hi\\n"},
        {"op": "mkdir", "path": "sub"},
        {"op": "symlink", "path": "link", "target": "/etc/passwd"}
      ],
      "stdin": "text fed to stdin"  # default: empty stdin
    }

"host" is either the literal "TMP" - a fresh, empty temporary directory
(or <workdir> when given on the command line; it is then used as is, so the
caller can inspect it afterwards) - or a path relative to the directory
containing the spec file (absolute paths are used as they are).
"readonly": true maps to wasmtime's fs_mutable=False.  Unknown keys are
ignored (tests/third_party/cases/*.json add "wasm" and "slow").

Environment: WASMAOT_PEER_CACHE=1 turns on wasmtime's on-disk compilation
cache, which makes repeated runs of big modules (boolector, yosys) fast.
"""

import json
import os
import shutil
import sys
import tempfile

EXIT_TRAP = 134
EXIT_HARNESS = 125


def _apply_setup(root, steps):
    for step in steps:
        op = step["op"]
        path = os.path.join(root, step["path"])
        if op == "file":
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(step.get("content", "").encode("utf-8"))
        elif op == "mkdir":
            os.makedirs(path, exist_ok=True)
        elif op == "symlink":
            os.symlink(step["target"], path)
        else:
            raise ValueError("unknown setup op %r" % op)


def run(wasm_path, spec, spec_dir, workdir=None):
    """Run the module. Returns (exit_status, stdout_bytes, stderr_bytes, trap_code_name or None)."""
    import wasmtime

    cleanup = []
    try:
        scratch = tempfile.mkdtemp(prefix="wasmaot-peer-")
        cleanup.append(scratch)

        config = wasmtime.Config()
        config.wasm_memory64 = True
        config.wasm_exceptions = True
        if os.environ.get("WASMAOT_PEER_CACHE") == "1":
            config.cache = True  # wasmtime's on-disk compilation cache (~/.cache/wasmtime)
        engine = wasmtime.Engine(config)
        with open(wasm_path, "rb") as f:
            module = wasmtime.Module(engine, f.read())

        wasi = wasmtime.WasiConfig()
        argv0 = spec.get("argv0")
        if argv0 is None:
            argv0 = os.path.splitext(os.path.basename(wasm_path))[0]
        wasi.argv = [argv0] + [str(a) for a in spec.get("args", [])]
        env = spec.get("env", {})
        wasi.env = [(str(k), str(v)) for k, v in sorted(env.items())]

        tmp_dir = None
        for d in spec.get("dirs", []):
            host = d["host"]
            if host == "TMP":
                if tmp_dir is None:
                    if workdir is not None:
                        tmp_dir = os.path.abspath(workdir)
                        os.makedirs(tmp_dir, exist_ok=True)
                    else:
                        tmp_dir = tempfile.mkdtemp(prefix="wasmaot-sandbox-")
                        cleanup.append(tmp_dir)
                    _apply_setup(tmp_dir, spec.get("setup", []))
                host_path = tmp_dir
            elif os.path.isabs(host):
                host_path = host
            else:
                host_path = os.path.normpath(os.path.join(spec_dir, host))
            wasi.preopen_dir(host_path, d["guest"], not d.get("readonly", False))

        stdin_path = os.path.join(scratch, "stdin")
        with open(stdin_path, "wb") as f:
            f.write(spec.get("stdin", "").encode("utf-8"))
        stdout_path = os.path.join(scratch, "stdout")
        stderr_path = os.path.join(scratch, "stderr")
        wasi.stdin_file = stdin_path
        wasi.stdout_file = stdout_path
        wasi.stderr_file = stderr_path

        store = wasmtime.Store(engine)
        store.set_wasi(wasi)
        linker = wasmtime.Linker(engine)
        linker.define_wasi()
        instance = linker.instantiate(store, module)
        start = instance.exports(store)["_start"]

        status = 0
        trap_code = None
        trap_msg = None
        try:
            start(store)
        except wasmtime.ExitTrap as e:
            status = e.code
        except wasmtime.Trap as e:
            status = EXIT_TRAP
            code = e.trap_code
            trap_code = code.name if code is not None else "UNKNOWN"
            lines = [l.strip() for l in (e.message or "").splitlines() if l.strip()]
            trap_msg = next((l for l in lines if l.startswith("wasm trap:")), lines[-1] if lines else "")
        except wasmtime.WasmtimeError as e:
            # Traps raised from host functions (e.g. proc_raise) end up here.
            status = EXIT_TRAP
            trap_code = "HOST"
            lines = [l.strip() for l in str(e).splitlines() if l.strip()]
            trap_msg = lines[-1] if lines else ""

        del store, instance
        with open(stdout_path, "rb") as f:
            out = f.read()
        with open(stderr_path, "rb") as f:
            err = f.read()
        if trap_code is not None:
            err += ("trap: %s: %s\n" % (trap_code, trap_msg)).encode("utf-8")
        return status, out, err, trap_code
    finally:
        for p in cleanup:
            shutil.rmtree(p, ignore_errors=True)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        sys.stderr.write(__doc__)
        return EXIT_HARNESS if len(argv) < 2 else 0
    wasm_path = argv[1]
    spec = {}
    spec_dir = os.getcwd()
    if len(argv) > 2 and argv[2]:
        with open(argv[2]) as f:
            spec = json.load(f)
        spec_dir = os.path.dirname(os.path.abspath(argv[2]))
    workdir = argv[3] if len(argv) > 3 else None
    try:
        status, out, err, _ = run(wasm_path, spec, spec_dir, workdir)
    except Exception as e:  # harness error, not a program result
        sys.stderr.write("run_wasmtime.py: error: %s\n" % e)
        return EXIT_HARNESS
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    sys.stderr.buffer.write(err)
    sys.stderr.flush()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
