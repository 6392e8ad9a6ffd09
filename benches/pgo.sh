#!/usr/bin/env bash
# Builds a profile-guided (PGO) distribution build of the wasmaot compiler, as rustc and
# clang ship theirs: an instrumented `release-lto` build compiles the Wasm modules committed
# in this repository (benches/workloads, tests/wasi-programs), LLVM merges the profile, and a
# second `release-lto` build uses it. Generated code is unchanged (same objects byte for
# byte); only the compiler runs faster. The modules the benchmark's compile section times
# (yosys, boolector, icepll) are not in the training set.
#
#   benches/pgo.sh            prints the path of the PGO-built `wasmaot` on stdout
#
# Needs rustup's llvm-tools component (installed here when missing). Two release-lto builds:
# about 20 minutes on the 2-core machine. The target directory is $CARGO_TARGET_DIR or
# ./target; everything goes under <target>/pgo/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

target=${CARGO_TARGET_DIR:-$root/target}
work="$target/pgo"
host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
if [ ! -x "$profdata" ]; then
    rustup component add llvm-tools >&2
fi
[ -x "$profdata" ] || { echo "pgo.sh: $profdata not found (rustup component add llvm-tools)" >&2; exit 1; }

# `--target` keeps build scripts and proc-macros out of the instrumentation.
build() { # <rustflags> <target-dir>
    RUSTFLAGS="$1" cargo build -q --profile release-lto -p wasmaot --target "$host" --target-dir "$2" >&2
}

echo "pgo.sh: instrumented build into $work/gen" >&2
rm -rf "$work/raw"
build "-Cprofile-generate=$work/raw" "$work/gen"
gen="$work/gen/$host/release-lto/wasmaot"

echo "pgo.sh: training on the committed modules" >&2
mapfile -t corpus < <(find benches/workloads tests/wasi-programs -name '*.wasm' | sort)
[ "${#corpus[@]}" -gt 0 ] || { echo "pgo.sh: no training modules found" >&2; exit 1; }
for m in "${corpus[@]}"; do
    # What users run: `compile` (portable baseline code) and `build` (host CPU) at -j1/-j2.
    "$gen" compile -j1 "$m" -o "$work/train.o"
    "$gen" compile -j2 --cpu native "$m" -o "$work/train.o"
done
rm -f "$work/train.o"
"$profdata" merge -o "$work/wasmaot.profdata" "$work/raw"

echo "pgo.sh: optimised build into $work/use" >&2
build "-Cprofile-use=$work/wasmaot.profdata" "$work/use"
out="$work/use/$host/release-lto/wasmaot"
# `wasmaot build` looks for the runtime next to the executable; the runtime itself is the
# ordinary release-lto build (a profile without it would mark all its code cold).
cargo build -q --profile release-lto -p wasmaot-runtime >&2
cp "$target/release-lto/libwasmaot_runtime.a" "$(dirname "$out")/"
echo "$out"
