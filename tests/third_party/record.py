#!/usr/bin/env python3
"""Record (or check) the outputs of the third-party WASI programs.

Each cases/<name>.json is a run_wasmtime.py spec with one extra key, "wasm":
the file name of the program inside target/third_party/ (see fetch.sh).
"slow": true marks cases that take several seconds even under wasmtime
(benchmark-sized inputs).  For every case this writes cases/<name>.expected
(stdout) and cases/<name>.status (exit status), or compares with --check.
Cases whose .wasm has not been fetched are skipped.

Usage: record.py [--check] [--skip-slow] [NAME ...]
"""
import glob
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "wasi-programs"))
import run_wasmtime  # noqa: E402


def main(argv):
    check = "--check" in argv
    skip_slow = "--skip-slow" in argv
    names = [a for a in argv[1:] if not a.startswith("--")]
    cases_dir = os.path.join(HERE, "cases")
    if not names:
        names = sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(cases_dir, "*.json")))
    wasm_dir = os.environ.get("WASMAOT_THIRD_PARTY", os.path.join(ROOT, "target", "third_party"))
    passed = failed = skipped = 0
    for name in names:
        with open(os.path.join(cases_dir, name + ".json")) as f:
            spec = json.load(f)
        wasm = os.path.join(wasm_dir, spec["wasm"])
        if not os.path.exists(wasm) or (skip_slow and spec.get("slow")):
            print("%-24s skipped" % name)
            skipped += 1
            continue
        t = time.perf_counter()
        status, out, err, trap = run_wasmtime.run(wasm, spec, cases_dir)
        dt = time.perf_counter() - t
        files = {name + ".expected": out, name + ".status": ("%d\n" % status).encode()}
        if check:
            diffs = [fn for fn, data in files.items()
                     if not os.path.exists(os.path.join(cases_dir, fn))
                     or open(os.path.join(cases_dir, fn), "rb").read() != data]
            ok = not diffs
            print("%-24s %s  (%.1fs)" % (name, "ok" if ok else "DIFFERS: " + ", ".join(diffs), dt))
        else:
            for fn, data in files.items():
                with open(os.path.join(cases_dir, fn), "wb") as f:
                    f.write(data)
            ok = True
            print("%-24s status %d  (%.1fs)%s" % (name, status, dt, "  trap " + trap if trap else ""))
        if err and not check:
            sys.stderr.write(err.decode("utf-8", "replace"))
        passed += ok
        failed += not ok
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
