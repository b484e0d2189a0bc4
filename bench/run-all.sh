#!/usr/bin/env bash
# Runs every micro-benchmark built in build/ (bench_*), then every peer
# comparison script bench/*.sh. Figures go to stdout; bench/RESULTS.md keeps
# the current ones.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
for bin in "$root"/build/bench_*; do
  [[ -x $bin ]] || continue
  echo "== $(basename "$bin")"
  taskset -c 1 "$bin"
done
for script in "$root"/bench/*.sh; do
  case $(basename "$script") in run-all.sh | lib.sh) continue ;; esac
  echo "== $(basename "$script")"
  "$script"
done
