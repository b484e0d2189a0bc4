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
#
# BENCH_RT=1 runs the whole benchmark (nginx, tollgate and wrk alike) under
# SCHED_FIFO (chrt -f 1, needs root): on a shared machine, CPU-bound
# neighbours on the pinned cores otherwise add their scheduler time slices
# (milliseconds) to every figure, and to the lateness of sends in particular,
# which then measures the machine rather than the pacer.
set -euo pipefail
if [[ ${BENCH_RT:-0} == 1 && -z ${TG_BENCH_RT_ON:-} ]]; then
  exec env TG_BENCH_RT_ON=1 chrt -f 1 "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
RATE=${RATE:-10000}
[[ -n ${TG_BENCH_RT_ON:-} ]] && echo "(everything under SCHED_FIFO: chrt -f 1)"
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

# tg_open: prints "sent_rate achieved_rate worst_1s_dev_% lateness_p50_ms lateness_p99_ms dropped"
# of one open-model run: sends over the planned window, attempts ended over the
# measured duration, the worst deviation of a whole timeline second from the
# target, and the lateness of sends.
tg_open() {
  local json="$BENCH_TMP/open.json" out
  out=$(taskset -c "$CLIENT_CORE" "$TG" run --url "$url" --rate "$RATE/s" \
    --duration "${DURATION}s" --threads 1 --quiet --json "$json")
  python3 - "$json" "$out" "$RATE" <<'PY'
import json, re, sys
rep = json.load(open(sys.argv[1]))
rate = float(sys.argv[3])
m = re.search(r"send lateness\s+p50 ([0-9.]+) ms.*p99 ([0-9.]+) ms", sys.argv[2])
sent = rep["requests"]["sent"] / rep["planned_duration_s"]
worst, prev = 0.0, 0.0
for row in rep["timeline"]:
    span = row["t"] - prev
    if 0.9 < span < 1.1 and row["t"] <= rep["planned_duration_s"]:
        worst = max(worst, abs(row["sent"] / span - rate) * 100 / rate)
    prev = row["t"]
print(sent, rep["rate"]["achieved"], worst, m.group(1), m.group(2), rep["requests"]["dropped"])
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
  read -r sent achieved worst p50 p99 dropped < <(tg_open)
  echo "$achieved" >>"$BENCH_TMP/rate"
  echo "$p99" >>"$BENCH_TMP/p99"
  printf "run %d: sent %.1f/s  achieved %.1f/s (%+.3f %%)  worst second %.3f %% off  dropped %s  send lateness p50 %.3f ms  p99 %.3f ms\n" \
    "$i" "$sent" "$achieved" "$(echo "$achieved $RATE" | awk '{print ($1 - $2) * 100 / $2}')" \
    "$worst" "$dropped" "$p50" "$p99"
done
am=$(median <"$BENCH_TMP/rate")
pm=$(median <"$BENCH_TMP/p99")
printf "median: achieved %.1f/s (%+.3f %% of %d/s; goal within +-0.5 %%)   p99 lateness %.3f ms (goal < 1 ms)\n" \
  "$am" "$(echo "$am $RATE" | awk '{print ($1 - $2) * 100 / $2}')" "$RATE" "$pm"
