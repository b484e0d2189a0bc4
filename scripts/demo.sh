#!/usr/bin/env bash
# make demo: the field reports against the built-in platform, then their fixes.
#
# Starts `tollgate serve` (the built-in contact-center profile) on a free port,
# runs every plan of plans/field-reports/ one after the other with
# `tollgate run PLAN --json --jtl --quiet`, stops the server (also when a plan
# fails, or on Ctrl-C), and prints a side-by-side table read from the JSON
# reports (scripts/demo_table.py). Everything lands in demo-out/.
#
# Plans name their target as http://127.0.0.1:8080 (the profile's default, so
# that they run as they are against `tollgate serve`); the copies in
# demo-out/plans/ have the free port instead. Exit status: 0 when every plan
# met its expectation, 1 when one did not, 130 on Ctrl-C.
#
# Environment: TOLLGATE_BIN (default build/tollgate), DEMO_OUT (demo-out),
# PYTHON (python3).
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${TOLLGATE_BIN:-build/tollgate}
OUT=${DEMO_OUT:-demo-out}
PY=${PYTHON:-python3}
PLANS=plans/field-reports
# The story's order: each report as run, then its fix. Plans not listed here
# run after these, so none is skipped silently.
ORDER=(
  script-updates-5rps script-updates-20rps script-updates-50rps script-updates-fix
  threads-150-no-ramp-up threads-150-fix
  same-script-20-threads same-script-fix
  flows-50-threads flows-fix
  analytics-summary-60 analytics-jobs-fix
)

t0=$(date +%s.%N)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

if [[ ! -x $BIN ]]; then
  echo "demo: $BIN is not built (run make)" >&2
  exit 1
fi

plans=()
for n in "${ORDER[@]}"; do
  [[ -f $PLANS/$n.yaml ]] && plans+=("$PLANS/$n.yaml")
done
for f in "$PLANS"/*.yaml; do
  n=$(basename "$f" .yaml)
  [[ " ${ORDER[*]} " == *" $n "* ]] || plans+=("$f")
done

rm -rf "$OUT"
mkdir -p "$OUT/plans"
[[ -d $PLANS/data ]] && cp -r "$PLANS/data" "$OUT/plans/"

port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
srv=
stop_server() {
  [[ -n $srv ]] || return 0
  if kill -0 "$srv" 2>/dev/null; then
    kill -TERM "$srv" 2>/dev/null || true
    for _ in $(seq 1 60); do
      kill -0 "$srv" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$srv" 2>/dev/null || true
  fi
  wait "$srv" 2>/dev/null || true
  srv=
}
trap stop_server EXIT
trap 'exit 130' INT TERM

echo "demo: tollgate serve (built-in profile contact-center) on 127.0.0.1:$port, log $OUT/serve.log"
"$BIN" serve --listen "127.0.0.1:$port" --admin off >"$OUT/serve.log" 2>&1 &
srv=$!
ready=0
for _ in $(seq 1 200); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    ready=1
    break
  fi
  kill -0 "$srv" 2>/dev/null || break
  sleep 0.05
done
if [[ $ready -eq 0 ]]; then
  echo "demo: tollgate serve is not listening on 127.0.0.1:$port; its log:" >&2
  cat "$OUT/serve.log" >&2
  exit 1
fi

interrupted() {
  echo
  echo "demo: interrupted; stopping the server; reports so far (the last one partial) in $OUT/" >&2
  exit 130
}
trap interrupted INT TERM

# The version of the entity at $1, or "?" when it cannot be read.
version_of() {
  "$PY" scripts/demo_table.py version "$port" "$1" 2>>"$OUT/demo.log" || echo "?"
}

i=0
for plan in "${plans[@]}"; do
  i=$((i + 1))
  name=$(basename "$plan" .yaml)
  if ! kill -0 "$srv" 2>/dev/null; then
    echo "demo: tollgate serve is gone before $name; its log:" >&2
    tail -n 20 "$OUT/serve.log" >&2
    exit 1
  fi
  copy="$OUT/plans/$name.yaml"
  sed "s#^target: http://127\.0\.0\.1:8080#target: http://127.0.0.1:$port#" "$plan" >"$copy"
  entity=$(sed -n 's/^# demo-entity: *//p' "$plan")
  before=
  if [[ -n $entity ]]; then
    before=$(version_of "$entity")
  fi
  printf 'demo: [%2d/%d] %-26s ' "$i" "${#plans[@]}" "$name"
  start=$(date +%s.%N)
  rc=0
  "$BIN" run "$copy" --json "$OUT/$name.json" --jtl "$OUT/$name.jtl" --quiet \
    >"$OUT/$name.txt" 2>&1 || rc=$?
  echo "$rc" >"$OUT/$name.rc"
  if [[ -n $entity ]]; then
    after=$(version_of "$entity")
    if [[ $before != "?" && $after != "?" ]]; then
      printf '{"entity": "%s", "before": %s, "after": %s}\n' "$entity" "$before" "$after" \
        >"$OUT/$name.entity.json"
    fi
  fi
  # tollgate run exits 130 after Ctrl-C (reports written, partial); bash does
  # not see the SIGINT itself then, so stop here.
  [[ $rc -eq 130 ]] && interrupted
  took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  if [[ $rc -eq 0 || $rc -eq 99 ]]; then
    echo "${took} s -> $OUT/$name.json"
  else
    echo "${took} s, tollgate run exited $rc:"
    sed 's/^/    /' "$OUT/$name.txt" | tail -n 5
  fi
done

stop_server
echo "demo: server stopped after $(elapsed) s"
echo
status=0
"$PY" scripts/demo_table.py table "$OUT" "${plans[@]}" || status=$?
echo
echo "demo: total $(elapsed) s"
exit "$status"
