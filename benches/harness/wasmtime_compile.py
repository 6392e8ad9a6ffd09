#!/usr/bin/env python3
"""Times Python wasmtime's Module() on one module: wasmtime_compile.py WASM RUNS PARALLEL(0|1).

Prints one JSON object: version, wall and CPU seconds of each run, serialized size. Run with
PYTHONPATH pointing at another wasmtime install to time that version (the benchmark times
both the current wasmtime and 48.0.0, whose Cranelift 0.135 is the one wasmaot uses).
"""
import json
import os
import sys
import time
from importlib import metadata

import wasmtime


def main():
    path, runs, par = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
    data = open(path, "rb").read()
    walls, cpus, size = [], [], 0
    for _ in range(runs):
        cfg = wasmtime.Config()
        cfg.parallel_compilation = par
        cfg.wasm_exceptions = True
        eng = wasmtime.Engine(cfg)
        c0, w0 = time.process_time(), time.perf_counter()
        m = wasmtime.Module(eng, data)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
        size = len(m.serialize())
        del m, eng
    # The distribution installed next to the imported package (PYTHONPATH may pick another).
    root = os.path.dirname(os.path.dirname(wasmtime.__file__))
    dists = [d for d in metadata.distributions(path=[root]) if d.metadata["Name"] == "wasmtime"]
    version = dists[0].version if dists else metadata.version("wasmtime")
    print(json.dumps({"version": version, "walls": walls, "cpus": cpus, "serialized": size}))


if __name__ == "__main__":
    main()
