#!/usr/bin/env bash
# Runs every libFuzzer target built in BUILD_DIR for SECONDS each, starting from
# its seed corpus fuzz/corpus/<target>/ (and dictionary fuzz/<target>.dict if
# present). Fails on the first crash, leak or sanitizer report.
set -euo pipefail
build=${1:-build-fuzz}
secs=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
for bin in "$build"/fuzz_*; do
  [[ -x $bin ]] || continue
  name=$(basename "$bin")
  seeds="$root/fuzz/corpus/$name"
  work="$root/fuzz/corpus-run/$name"
  mkdir -p "$work"
  args=(-max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$root/fuzz/corpus-run/$name-")
  [[ -f $root/fuzz/$name.dict ]] && args+=(-dict="$root/fuzz/$name.dict")
  echo "== $name (${secs}s)"
  if "$bin" "${args[@]}" "$work" "$seeds" >"$work.log" 2>&1; then
    grep -E 'stat::number_of_executed_units|Done' "$work.log" | tail -n 2 || true
  else
    echo "$name: FAILED, see $work.log"; tail -n 40 "$work.log"; status=1
  fi
done
exit $status
