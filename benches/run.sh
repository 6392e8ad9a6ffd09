#!/usr/bin/env bash
# wasmaot benchmark suite (issue 5): builds what it needs, runs every workload under
# native cc -O2, wasmaot, Wasmtime, wasmi, wasm3 and wasm-interp, measures compile
# throughput and memory64, and writes <target>/bench-report/report.md and slowdown.svg.
#
#   benches/run.sh                 full run (~19 min on the 2-core machine; median of 5)
#   benches/run.sh --quick         small sizes, 1 run: a checksum smoke check (< 1 min),
#                                  written to <target>/bench-report-quick/ instead
#   benches/run.sh --runs 3 --only fib,sieve --no-interp --no-compile --yosys
#
# --yosys also fetches the 68 MB yosys.wasm for the compile-throughput section.
# --pgo measures the profile-guided compiler build (benches/pgo.sh, ~20 more minutes of
# building) instead of the plain release-lto one.
# Exit status: 0 when every checksum matched (and -j1/-j2 objects were identical).
# The target directory is $CARGO_TARGET_DIR or ./target; set CARGO_BUILD_JOBS=1 on a
# busy machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

args=()
yosys=()
pgo=0
for a in "$@"; do
    case "$a" in
        --yosys) yosys=(--yosys) ;;
        --pgo) pgo=1 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) args+=("$a") ;;
    esac
done

# Tools: WABT (wasm-interp, wasm2wat, wat2wasm), Python wasmtime and pywasm3.
if ! command -v wasm-interp >/dev/null || ! command -v wat2wasm >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wabt || true
fi
python3 -c 'import wasmtime' 2>/dev/null || python3 -m pip install --quiet wasmtime
python3 -c 'import wasm3' 2>/dev/null || python3 -m pip install --quiet pywasm3==0.5.0 || true

target=${CARGO_TARGET_DIR:-$root/target}
echo "run.sh: cargo build --profile release-lto (wasmaot, runtime), --release (wasmaot-bench) into $target" >&2
cargo build --profile release-lto -q -p wasmaot -p wasmaot-runtime
cargo build --release -q -p wasmaot-bench
wasmaot="$target/release-lto/wasmaot"
if [ "$pgo" = 1 ]; then
    wasmaot=$(benches/pgo.sh)
    args+=(--compiler-build "release-lto + PGO (benches/pgo.sh)")
fi

quick=0
for a in "${args[@]+"${args[@]}"}"; do [ "$a" = --quick ] && quick=1; done
if [ "$quick" = 0 ]; then
    # Third-party modules for the compile-throughput section (pip download; skipped offline).
    tests/third_party/fetch.sh "${yosys[@]+"${yosys[@]}"}" "$target/third_party" >&2 || \
        echo "run.sh: tests/third_party/fetch.sh failed; compile throughput uses a workload" >&2
    # Wasmtime 48.0.0 uses Cranelift 0.135, as wasmaot does: the compile section times it too.
    [ -d "$target/peers/wasmtime48/wasmtime" ] || \
        python3 -m pip install --quiet --target "$target/peers/wasmtime48" wasmtime==48.0.0 >&2 || \
        echo "run.sh: could not install wasmtime 48.0.0; compile section compares the current wasmtime only" >&2
fi

exec python3 benches/harness/bench.py \
    --wasmaot "$wasmaot" \
    --bench-bin "$target/release/wasmaot-bench" \
    --third-party "$target/third_party" \
    --out "$target/bench-report$([ "$quick" = 1 ] && echo -quick)" \
    "${args[@]+"${args[@]}"}"
