#!/usr/bin/env python3
"""Record (or check) the reference results of the WASI test programs.

For every <name>.wasm with a <name>.json spec in this directory, run it under
Python wasmtime (via run_wasmtime.py) and write:

  <name>.expected   the program's stdout, byte for byte
  <name>.status     its exit status as a decimal number (134 for a trap)
  <name>.stderr     what the program itself wrote to stderr (only if non-empty;
                    the "trap: ..." line that run_wasmtime.py adds is not included)
  <name>.trap       the wasmtime trap code (e.g. INTEGER_DIVISION_BY_ZERO),
                    only for programs that trap

Usage: record.py [--check] [NAME ...]
  --check   compare against the recorded files instead of writing them;
            exits 1 on any difference.
Each program is run twice; results that differ between the runs are an error.
"""
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_wasmtime  # noqa: E402


def result_files(name, status, out, err, trap):
    files = {name + ".expected": out, name + ".status": ("%d\n" % status).encode()}
    if trap is not None:
        files[name + ".trap"] = (trap + "\n").encode()
        # drop the line run_wasmtime.py appended
        marker = ("trap: %s: " % trap).encode()
        if marker in err:
            err = err[: err.rfind(marker)]
    if err:
        files[name + ".stderr"] = err
    return files


def main(argv):
    check = "--check" in argv
    names = [a for a in argv[1:] if not a.startswith("--")]
    if not names:
        names = sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(HERE, "*.json")))
    bad = 0
    for name in names:
        spec_path = os.path.join(HERE, name + ".json")
        with open(spec_path) as f:
            spec = json.load(f)
        wasm = os.path.join(HERE, name + ".wasm")
        runs = [run_wasmtime.run(wasm, spec, HERE) for _ in range(2)]
        if runs[0] != runs[1]:
            print("%-14s NONDETERMINISTIC" % name)
            bad += 1
            continue
        status, out, err, trap = runs[0]
        files = result_files(name, status, out, err, trap)
        optional = [name + ext for ext in (".stderr", ".trap")]
        if check:
            diffs = []
            for fn, data in files.items():
                p = os.path.join(HERE, fn)
                if not os.path.exists(p) or open(p, "rb").read() != data:
                    diffs.append(fn)
            for fn in optional:
                if fn not in files and os.path.exists(os.path.join(HERE, fn)):
                    diffs.append(fn + " (unexpected)")
            print("%-14s %s" % (name, "ok" if not diffs else "DIFFERS: " + ", ".join(diffs)))
            bad += bool(diffs)
        else:
            for fn, data in files.items():
                with open(os.path.join(HERE, fn), "wb") as f:
                    f.write(data)
            for fn in optional:
                if fn not in files and os.path.exists(os.path.join(HERE, fn)):
                    os.remove(os.path.join(HERE, fn))
            print("%-14s status %-3d %s" % (name, status, "trap " + trap if trap else ""))
    print("%d passed, %d failed" % (len(names) - bad, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
