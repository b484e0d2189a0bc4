#!/usr/bin/env bash
# tollgate run against nginx (1 worker, `return 200`, pinned to SERVER_CORE), the
# client pinned to CLIENT_CORE:
#   1. closed loop, 1 thread, 64 connections, DURATION s: tollgate run --vus 64 vs
#      wrk -t1 -c64, alternating, RUNS runs each: requests/s medians and ratio
#      (goal >= 1.0x);
#   2. open model at RATE/s for DURATION s: achieved rate against the target
#      (goal within +-0.5 %) and the send lateness (actual send - intended
#      start; goal p99 < 1 ms), RUNS runs, medians.
# Needs the release build (make build): build/tollgate.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
RATE=${RATE:-10000}
TG="$BENCH_ROOT/build/tollgate"
[[ -x $TG ]] || { echo "build/tollgate is missing: run make" >&2; exit 1; }

port=$(free_port)
start_nginx "$port" 'return 200 "ok";'
url="http://127.0.0.1:$port/"

# tg_closed: prints tollgate's achieved requests/s of one closed-loop run.
tg_closed() {
  local json="$BENCH_TMP/closed.json"
  taskset -c "$CLIENT_CORE" "$TG" run --url "$url" --vus 64 --duration "${DURATION}s" \
    --threads 1 --quiet --json "$json" >/dev/null
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rate"]["achieved"])' "$json"
}

# tg_open: prints "achieved_rate lateness_p50_ms lateness_p99_ms dropped" of one open-model run.
tg_open() {
  local json="$BENCH_TMP/open.json" out
  out=$(taskset -c "$CLIENT_CORE" "$TG" run --url "$url" --rate "$RATE/s" \
    --duration "${DURATION}s" --threads 1 --quiet --json "$json")
  python3 - "$json" "$out" <<'PY'
import json, re, sys
rep = json.load(open(sys.argv[1]))
m = re.search(r"send lateness\s+p50 ([0-9.]+) ms.*p99 ([0-9.]+) ms", sys.argv[2])
# Sends over the planned window: every arrival is sent once (none dropped).
rate = (rep["requests"]["sent"]) / rep["planned_duration_s"]
print(rate, m.group(1), m.group(2), rep["requests"]["dropped"])
PY
}

echo "== closed loop: tollgate run --vus 64 --threads 1 vs wrk -t1 -c64, ${DURATION} s, $RUNS runs"
echo "   nginx 1 worker on core $SERVER_CORE, clients on core $CLIENT_CORE"
: >"$BENCH_TMP/tg" ; : >"$BENCH_TMP/wrk"
for i in $(seq 1 "$RUNS"); do
  t=$(tg_closed)
  w=$(wrk_once "$url" | awk '{print $1}')
  echo "$t" >>"$BENCH_TMP/tg"
  echo "$w" >>"$BENCH_TMP/wrk"
  printf "run %d: tollgate %10.1f/s   wrk %10.1f/s\n" "$i" "$t" "$w"
done
tm=$(median <"$BENCH_TMP/tg")
wm=$(median <"$BENCH_TMP/wrk")
printf "median: tollgate %.1f/s   wrk %.1f/s   ratio %.3fx (goal >= 1.0x)\n" "$tm" "$wm" \
  "$(echo "$tm $wm" | awk '{print $1 / $2}')"

echo "== open model: tollgate run --rate $RATE/s --threads 1, ${DURATION} s, $RUNS runs"
: >"$BENCH_TMP/rate" ; : >"$BENCH_TMP/p99"
for i in $(seq 1 "$RUNS"); do
  read -r rate p50 p99 dropped < <(tg_open)
  echo "$rate" >>"$BENCH_TMP/rate"
  echo "$p99" >>"$BENCH_TMP/p99"
  printf "run %d: sent %.1f/s (%+.3f %%)   dropped %s   send lateness p50 %.3f ms  p99 %.3f ms\n" \
    "$i" "$rate" "$(echo "$rate $RATE" | awk '{print ($1 - $2) * 100 / $2}')" "$dropped" "$p50" "$p99"
done
rm_=$(median <"$BENCH_TMP/rate")
pm=$(median <"$BENCH_TMP/p99")
printf "median: sent %.1f/s (%+.3f %% of %d/s; goal within +-0.5 %%)   p99 lateness %.3f ms (goal < 1 ms)\n" \
  "$rm_" "$(echo "$rm_ $RATE" | awk '{print ($1 - $2) * 100 / $2}')" "$RATE" "$pm"
