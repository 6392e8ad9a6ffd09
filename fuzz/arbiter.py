#!/usr/bin/env python3
"""Replays a divergent seed on Wasmtime (the Python package): a third opinion when wasmaot
and wasmi disagree. `python3 fuzz/arbiter.py target/fuzz-divergences/seed-N.wasm` reads the
calls from `seed-N.calls` (written by wasmaot-fuzz), refills the fuel global before each
call as the fuzzer does, and prints each call's results or trap and the exported globals
after it, one line each, in the form `wasmaot-fuzz` compares (`arbiter::lines` in
src/arbiter.rs): this is how the fuzzer asks for a third opinion by itself.
Python's wasmtime cannot pass or read `v128` values, so every call goes through a small
generated shim module that holds the arguments as constants and returns each `v128` result
as two `i64` halves, and `v128` globals are read by a module that imports them. (Until
session 23 those globals printed as `v128:?`, which src/arbiter.rs lets match anything: a
divergence in a `v128` global then matched both engines and was reported as "agrees with
neither"; seeds 602834 and 603955 are such cases, where Wasmtime agrees with wasmaot.)
"""
import struct
import sys

import wasmtime

FUEL_EXPORT = "wasmaot-fuzz fuel"
FUEL = 1000


def const(text):
    kind, bits = text.split(":")
    if bits == "null":
        return f"(ref.null {kind[:-3]})"
    n = int(bits, 16)
    if kind in ("i32", "f32"):
        return f"(i32.const {n})" + ("(f32.reinterpret_i32)" if kind == "f32" else "")
    if kind in ("i64", "f64"):
        return f"(i64.const {n})" + ("(f64.reinterpret_i64)" if kind == "f64" else "")
    return f"(v128.const i64x2 {n & (2**64 - 1)} {n >> 64})"


def shim(args, results):
    """A module importing the function as `t.f` and exporting `call`, with no v128 in its
    signature."""
    params = " ".join(a.split(":")[0] for a in args)
    out_types = " ".join("i64 i64" if r == "v128" else r for r in results)
    locals_ = " ".join(results)
    body = "".join(const(a) for a in args)
    body += "(call $f)"
    for i in reversed(range(len(results))):
        body += f"(local.set {i})"
    for i, r in enumerate(results):
        if r == "v128":
            body += f"(i64x2.extract_lane 0 (local.get {i}))(i64x2.extract_lane 1 (local.get {i}))"
        else:
            body += f"(local.get {i})"
    return f"""(module
      (import "t" "f" (func $f (param {params}) (result {' '.join(results)})))
      (func (export "call") (result {out_types}) (local {locals_}) {body}))"""


TRAPS = {
    "UNREACHABLE": "Unreachable",
    "MEMORY_OUT_OF_BOUNDS": "MemoryOutOfBounds",
    "TABLE_OUT_OF_BOUNDS": "TableOutOfBounds",
    "INDIRECT_CALL_TO_NULL": "NullElement",
    "BAD_SIGNATURE": "BadSignature",
    "INTEGER_OVERFLOW": "IntegerOverflow",
    "INTEGER_DIVISION_BY_ZERO": "DivisionByZero",
    "BAD_CONVERSION_TO_INTEGER": "BadConversion",
    "NULL_REFERENCE": "NullReference",
    "STACK_OVERFLOW": "StackOverflow",
}


def token(v, ty):
    """One value as `wasmaot-fuzz` writes it (`v128:?` when Python cannot read it)."""
    if ty == "v128":
        return "v128:?" if v is None else f"v128:{v:x}"
    if ty in ("funcref", "externref", "ref"):
        return "ref:null" if v is None else "ref:nonnull"
    if ty == "f32":
        return f"f32:{struct.unpack('<I', struct.pack('<f', v))[0]:x}"
    if ty == "f64":
        return f"f64:{struct.unpack('<Q', struct.pack('<d', v))[0]:x}"
    return f"{ty}:{v & (2**(32 if ty == 'i32' else 64) - 1):x}"


def lines(path):
    store = wasmtime.Store(wasmtime.Engine())
    module = wasmtime.Module.from_file(store.engine, path)
    try:
        instance = wasmtime.Instance(store, module, [])
    except wasmtime.Trap as t:
        print(f"instantiation trapped {TRAPS.get(t.trap_code.name, t.trap_code.name)}")
        return
    exports = instance.exports(store)
    names = [e.name for e in module.exports]
    globals_ = [n for n in names if isinstance(exports[n], wasmtime.Global)]
    header, *calls = open(path[: -len(".wasm")] + ".calls").read().splitlines()
    types = header.split()[1:]

    def v128_global(n):
        """A `v128` global's value, read through a module that imports it (Python's
        wasmtime cannot read one itself)."""
        g = exports[n]
        mut = "(mut v128)" if g.type(store).mutable else "v128"
        reader = wasmtime.Module(
            store.engine,
            f"""(module (import "t" "g" (global $g {mut}))
              (func (export "lo") (result i64) (i64x2.extract_lane 0 (global.get $g)))
              (func (export "hi") (result i64) (i64x2.extract_lane 1 (global.get $g))))""",
        )
        r = wasmtime.Instance(store, reader, [g]).exports(store)
        return (r["lo"](store) & (2**64 - 1)) | ((r["hi"](store) & (2**64 - 1)) << 64)

    def global_tokens():
        return " ".join(
            token(v128_global(n) if t == "v128" else exports[n].value(store), t)
            for n, t in zip(globals_, types)
        )

    for i, line in enumerate(calls):
        name_hex, *args = line.split(" =>")[0].split()
        results = line.split(" =>")[1].split()
        name = bytes.fromhex("" if name_hex == "-" else name_hex).decode()
        if FUEL_EXPORT in names:
            exports[FUEL_EXPORT].set_value(store, FUEL)
        func = exports[name]
        caller = wasmtime.Module(store.engine, shim(args, results))
        call = wasmtime.Instance(store, caller, [func]).exports(store)["call"]
        try:
            out = call(store)
            width = sum(2 if r == "v128" else 1 for r in results)
            out = [] if width == 0 else [out] if width == 1 else list(out)
            toks = []
            for r in results:
                if r == "v128":
                    lo, hi = out.pop(0), out.pop(0)
                    toks.append(token((lo & (2**64 - 1)) | ((hi & (2**64 - 1)) << 64), "v128"))
                else:
                    toks.append(token(out.pop(0), r))
            print(f"#{i} returned {' '.join(toks)}".rstrip())
        except wasmtime.Trap as t:
            kind = TRAPS.get(t.trap_code.name, t.trap_code.name)
            print(f"#{i} trapped {kind}")
            if kind == "StackOverflow":
                return
        print(f"#{i} globals {global_tokens()}".rstrip())


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: arbiter.py target/fuzz-divergences/seed-N.wasm")
    lines(sys.argv[1])


main()
