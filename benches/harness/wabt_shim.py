"""Make a WASI command runnable by a wasm-interp that lacks WASI support.

Debian's WABT (1.0.32) `wasm-interp` is built without `--wasi` ("wasi support not
compiled in").  `shim(wasm, argv)` rewrites a wasm32 WASI command (via
`wasm2wat --generate-names` / `wat2wasm`) so that its `wasi_snapshot_preview1`
imports become small functions defined *inside* the module:

  args_sizes_get / args_get   return the fixed argv baked in at rewrite time
  fd_write                    passes every byte to the import `host.print(i32)`,
                              which `wasm-interp --host-print` logs as
                              `called host host.print(i32:N) =>`
  fd_close / fd_seek / fd_fdstat_get   stubs (0 / ESPIPE / a character device)
  proc_exit                   traps (the workloads only call it on failure)

Only the handful of imports the workloads use are supported; anything else
raises.  The hot code of the module is untouched: only imported functions
become defined ones.  `decode_output(stdout)` turns the host.print log back
into the program's output bytes.
"""
import os
import re
import subprocess
import tempfile

IMPORT_RE = re.compile(
    r'^\s*\(import "wasi_snapshot_preview1" "(\w+)" \(func (\$\S+) \(type (\$\w+)\)\)\)\s*$')


def _args_bodies(argv):
    blob = b"".join(a.encode() + b"\0" for a in argv)
    sizes = ("local.get 0 i32.const %d i32.store\n"
             "local.get 1 i32.const %d i32.store\n"
             "i32.const 0" % (len(argv), len(blob)))
    ops = []
    off = 0
    for i, a in enumerate(argv):
        ops.append("local.get 0 local.get 1 i32.const %d i32.add i32.store offset=%d" % (off, 4 * i))
        off += len(a.encode()) + 1
    for i, b in enumerate(blob):
        ops.append("local.get 1 i32.const %d i32.store8 offset=%d" % (b, i))
    ops.append("i32.const 0")
    return sizes, "\n".join(ops)


def _bodies(argv):
    sizes, get = _args_bodies(argv)
    return {
        "args_sizes_get": ("", sizes),
        "args_get": ("", get),
        # fd_write(fd, iovs, iovs_len, nwritten): print every byte, report the total.
        "fd_write": ("(local $i i32) (local $p i32) (local $e i32) (local $n i32)", """
    block $done
      loop $iov
        local.get $i local.get 2 i32.ge_u br_if $done
        local.get 1 local.get $i i32.const 8 i32.mul i32.add
        local.tee $p i32.load local.set $e
        local.get $n local.get $p i32.load offset=4 i32.add local.set $n
        local.get $e local.get $p i32.load offset=4 i32.add local.set $p
        block $bdone
          loop $byte
            local.get $e local.get $p i32.ge_u br_if $bdone
            local.get $e i32.load8_u call $__host_print
            local.get $e i32.const 1 i32.add local.set $e
            br $byte
          end
        end
        local.get $i i32.const 1 i32.add local.set $i
        br $iov
      end
    end
    local.get 3 local.get $n i32.store
    i32.const 0"""),
        "fd_close": ("", "i32.const 0"),
        "fd_seek": ("", "i32.const 70"),        # ESPIPE
        # fd_fdstat_get(fd, buf): a character device (line-buffered stdout).
        "fd_fdstat_get": ("", "local.get 1 i64.const 2 i64.store local.get 1 i64.const 0 i64.store offset=8 "
                              "local.get 1 i64.const 0 i64.store offset=16 i32.const 0"),
        "proc_exit": ("", "unreachable"),
    }


def shim(wasm_path, argv, out_path):
    wat = subprocess.run(["wasm2wat", "--generate-names", wasm_path],
                         check=True, stdout=subprocess.PIPE).stdout.decode()
    bodies = _bodies(argv)
    lines, defs, inserted = [], [], False
    for line in wat.split("\n"):
        m = IMPORT_RE.match(line)
        if m:
            name, fname, ty = m.groups()
            if name not in bodies:
                raise ValueError("wabt_shim: unsupported import %s" % name)
            locs, body = bodies[name]
            defs.append("  (func %s (type %s) %s\n%s)" % (fname, ty, locs, body))
            if not inserted:
                lines.append('  (import "host" "print" (func $__host_print (param i32)))')
                inserted = True
            continue
        if '(import "wasi_snapshot_preview1"' in line:
            raise ValueError("wabt_shim: unrecognised import line: " + line.strip())
        lines.append(line)
    text = "\n".join(lines).rstrip()
    assert text.endswith(")")
    text = text[:-1] + "\n" + "\n".join(defs) + ")\n"
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "m.wat")
        with open(src, "w") as f:
            f.write(text)
        subprocess.run(["wat2wasm", src, "-o", out_path], check=True)


PRINT_RE = re.compile(rb"called host host\.print\(i32:(-?\d+)\)")


def decode_output(stdout):
    return bytes(int(m.group(1)) & 0xFF for m in PRINT_RE.finditer(stdout))
