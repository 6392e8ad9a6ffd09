#!/usr/bin/env bash
# Rebuild every benchmark workload .wasm from its C source.
#
#   benches/workloads/<name>.wasm            wasm32-wasi (wasi-libc), prints "checksum: N"
#   benches/workloads/mem64/<name>.wasm      wasm32-wasi build of the mem64 workloads
#   benches/workloads/mem64/<name>.wasm32.wasm  freestanding wasm32, exports run(n) -> i64
#   benches/workloads/mem64/<name>.wasm64.wasm  freestanding wasm64 (memory64), exports run(n) -> i64
#
# Idempotent and deterministic: the compiler runs with a private PATH that
# contains only clang and wasm-ld, so clang never post-processes its output
# with a wasm-opt (binaryen) that happens to be installed, and debug info is
# stripped.  Needs clang-19, wasm-ld-19 (lld-19), wasi-libc (sysroot /usr) and
# libclang-rt-19-dev-wasm32.  Override with CLANG=..., WASM_LD=...,
# WASI_SYSROOT=...
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
# clang looks the linker up as wasm-ld-<major> (Debian) or wasm-ld.
for name in wasm-ld wasm-ld-19 "$(basename "$ld_path")"; do
    [ -e "$tooldir/$name" ] || ln -s "$ld_path" "$tooldir/$name"
done

cc_wasm() { env PATH="$tooldir" clang "$@"; }

WASI_FLAGS=(--target=wasm32-wasi "--sysroot=$WASI_SYSROOT" -O2 -Wall -Wl,--strip-debug)
FREE_FLAGS=(-O2 -Wall -ffreestanding -fno-builtin -nostdlib -DFREESTANDING
            -Wl,--no-entry -Wl,--export=run -Wl,--strip-debug)

WORKLOADS=(sieve collatz fib interp switchvm matmul nbody fft memstream hashtable sort tokenizer lz77)
MEM64=(bytes64 matmul64)

for w in "${WORKLOADS[@]}"; do
    echo "  wasm32-wasi  $w.wasm"
    cc_wasm "${WASI_FLAGS[@]}" -o "$w.wasm" "$w.c" -lm
done
for w in "${MEM64[@]}"; do
    echo "  wasm32-wasi  mem64/$w.wasm"
    cc_wasm "${WASI_FLAGS[@]}" -o "mem64/$w.wasm" "mem64/$w.c" -lm
    echo "  wasm32       mem64/$w.wasm32.wasm"
    cc_wasm --target=wasm32-unknown-unknown "${FREE_FLAGS[@]}" -o "mem64/$w.wasm32.wasm" "mem64/$w.c"
    echo "  wasm64       mem64/$w.wasm64.wasm"
    cc_wasm --target=wasm64-unknown-unknown "${FREE_FLAGS[@]}" -o "mem64/$w.wasm64.wasm" "mem64/$w.c"
done
echo "built ${#WORKLOADS[@]} workloads and ${#MEM64[@]} mem64 workloads (x3)"
