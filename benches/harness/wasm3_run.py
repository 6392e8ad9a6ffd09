#!/usr/bin/env python3
"""Run a wasm32 WASI command under wasm3 (PyPI `pywasm3`), in process.

    wasm3_run.py FILE.wasm [ARGS...]

pywasm3 has no WASI of its own, so the few WASI preview1 functions the
benchmark workloads import (args_get, args_sizes_get, fd_close, fd_fdstat_get,
fd_seek, fd_write, proc_exit) are implemented here in Python; they are called
a handful of times per run, so their cost is negligible.  The program's stdout
goes to stdout; the last stderr line is `BENCH {"cpu":S,"wall":S,"exit":N}`,
timing only the `_start` call (parsing, loading and linking excluded).
"""
import json
import os
import struct
import sys
import time

import wasm3

M = "wasi_snapshot_preview1"
STACK_BYTES = 4 << 20


class Exit(Exception):
    def __init__(self, code):
        self.code = code


def main():
    path = sys.argv[1]
    argv = [os.path.basename(path)[:-5].encode()] + [a.encode() for a in sys.argv[2:]]
    env = wasm3.Environment()
    rt = env.new_runtime(STACK_BYTES)
    with open(path, "rb") as f:
        mod = env.parse_module(f.read())
    rt.load(mod)
    out = bytearray()
    state = {"exit": None}

    def mem():
        return rt.get_memory(0)

    def args_sizes_get(argc, size):
        m = mem()
        struct.pack_into("<I", m, argc, len(argv))
        struct.pack_into("<I", m, size, sum(len(a) + 1 for a in argv))
        return 0

    def args_get(argv_p, buf):
        m = mem()
        at = buf
        for i, a in enumerate(argv):
            struct.pack_into("<I", m, argv_p + 4 * i, at)
            m[at:at + len(a)] = a
            m[at + len(a)] = 0
            at += len(a) + 1
        return 0

    def fd_write(fd, iovs, n, nwritten):
        m = mem()
        total = 0
        for i in range(n):
            p, ln = struct.unpack_from("<II", m, iovs + 8 * i)
            data = bytes(m[p:p + ln])
            if fd == 1:
                out.extend(data)
            elif fd == 2:
                sys.stderr.buffer.write(data)
            else:
                return 8
            total += ln
        struct.pack_into("<I", m, nwritten, total)
        return 0

    def fd_fdstat_get(fd, p):
        # A character device (a terminal: line-buffered stdout).  With an error here
        # (not a tty, fully buffered) wasm3 never performs wasi-libc's flush at exit.
        m = mem()
        m[p:p + 24] = bytes(24)
        m[p] = 2
        return 0

    def proc_exit(code):
        state["exit"] = code
        raise Exit(code)

    for name, sig, fn in [
        ("args_sizes_get", "i(ii)", args_sizes_get),
        ("args_get", "i(ii)", args_get),
        ("fd_write", "i(iiii)", fd_write),
        ("fd_close", "i(i)", lambda fd: 0),
        ("fd_seek", "i(iIii)", lambda fd, off, wh, p: 70),      # ESPIPE
        ("fd_fdstat_get", "i(ii)", fd_fdstat_get),
        ("proc_exit", "v(i)", proc_exit),
    ]:
        mod.link_function(M, name, sig, fn)
    start = rt.find_function("_start")
    c0, w0 = time.process_time(), time.perf_counter()
    code = 0
    try:
        start()
    except Exception as e:  # proc_exit surfaces as a trap wrapping our exception
        if state["exit"] is not None:
            code = state["exit"]
        else:
            print("wasm3: trap: %s" % e, file=sys.stderr)
            code = 134
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    sys.stdout.buffer.write(bytes(out))
    sys.stdout.flush()
    print("BENCH " + json.dumps({"cpu": cpu, "wall": wall, "exit": code}), file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
