#!/usr/bin/env bash
# Rebuild the WASI test programs (*.c -> *.wasm, wasm32-wasi, -O2).
# Deterministic: clang runs with a private PATH holding only clang and
# wasm-ld (so no wasm-opt post-processing), and debug info is stripped.
# Needs clang-19, wasm-ld-19, wasi-libc (sysroot /usr), libclang-rt-19-dev-wasm32.
# After rebuilding, run ./record.py to refresh the .expected/.status files.
set -euo pipefail
cd "$(dirname "$0")"

CLANG=${CLANG:-clang-19}
WASM_LD=${WASM_LD:-wasm-ld-19}
WASI_SYSROOT=${WASI_SYSROOT:-/usr}

clang_path=$(command -v "$CLANG") || { echo "build.sh: $CLANG not found" >&2; exit 1; }
ld_path=$(command -v "$WASM_LD") || { echo "build.sh: $WASM_LD not found" >&2; exit 1; }
tooldir=$(mktemp -d)
trap 'rm -rf "$tooldir"' EXIT
ln -s "$clang_path" "$tooldir/clang"
for name in wasm-ld wasm-ld-19 "$(basename "$ld_path")"; do
    [ -e "$tooldir/$name" ] || ln -s "$ld_path" "$tooldir/$name"
done

count=0
for src in *.c; do
    out="${src%.c}.wasm"
    env PATH="$tooldir" clang --target=wasm32-wasi "--sysroot=$WASI_SYSROOT" -O2 -Wall \
        -Wl,--strip-debug -o "$out" "$src"
    count=$((count + 1))
done
echo "built $count WASI test programs"
