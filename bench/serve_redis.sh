#!/usr/bin/env bash
# tollgate serve with the Redis store vs the in-process store, same wrk load,
# same run (issue 7's Redis row; goal: >= 0.5x the in-process requests/s).
#
# Both gateways: one worker thread pinned to SERVER_CORE (0), answering 200 on
# a GCRA route limited to 10,000,000 requests/s per client address (decided on
# every request, never reached), `headers: [ietf]`. One redis-server (no
# persistence) on its own free port, on REDIS_CORE (default "0,1": either
# core, as the scheduler sees fit; this machine has two cores, and pinning
# Redis to one of them makes it wait behind wrk or the gateway for whole
# scheduler slices -- 0.37x pinned with wrk, 0.43x pinned with the gateway,
# 0.54x unpinned in one trial; in production Redis runs on its own host).
# wrk: 1 thread, 64 keep-alive connections, on CLIENT_CORE (1).
# Runs alternate between the two gateways, RUNS (5) x DURATION (10 s) each;
# medians and the ratio are printed. Besides requests/s and p99, each run
# reports the gateway's CPU time per request, Redis' CPU time per request, and
# Redis commands per request from INFO commandstats (EVALSHA calls, and every
# command counted, those the script runs included).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TOLLGATE=${TOLLGATE:-$BENCH_ROOT/build/tollgate}
REDIS_CORE=${REDIS_CORE:-$SERVER_CORE,$CLIENT_CORE}
[[ -x $TOLLGATE ]] || { echo "build first: make (missing $TOLLGATE)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server is not installed" >&2; exit 1; }

local_port=$(free_port)
redis_gw_port=$(free_port)
redis_port=$(free_port)

taskset -c "$REDIS_CORE" redis-server --port "$redis_port" --bind 127.0.0.1 --save '' \
  --appendonly no --daemonize no >/dev/null &
BENCH_PIDS+=($!)
redis_pid=$!
wait_port "$redis_port"

# serve_config PORT STORE
serve_config() {
  cat <<YAML
listen: 127.0.0.1:$1
threads: 1
admin: "off"
headers: [ietf]
store: $2
limits:
  - name: never-reached
    match: {path: /limited}
    scope: [ip]
    algorithm: gcra
    rate: 10000000/s
routes:
  - path: /limited
    handler: static
    options: {status: 200, body: "ok"}
YAML
}
serve_config "$local_port" memory >"$BENCH_TMP/local.yaml"
serve_config "$redis_gw_port" "redis://127.0.0.1:$redis_port" >"$BENCH_TMP/redis.yaml"

declare -A pid url
for n in local redis; do
  taskset -c "$SERVER_CORE" "$TOLLGATE" serve --config "$BENCH_TMP/$n.yaml" --log-level warn &
  BENCH_PIDS+=($!)
  pid[$n]=$!
done
url[local]="http://127.0.0.1:$local_port/limited"
url[redis]="http://127.0.0.1:$redis_gw_port/limited"
wait_port "$local_port"
wait_port "$redis_gw_port"
names=(local redis)

cpu_ticks() {
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}
hz=$(getconf CLK_TCK)

# redis_calls: "EVALSHA-calls all-calls" so far, from INFO commandstats.
redis_calls() {
  redis-cli -p "$redis_port" info commandstats | tr -d '\r' | awk -F'[:=,]' '
    /^cmdstat_/ { all += $3; if ($1 == "cmdstat_evalsha") ev += $3 }
    END { printf "%d %d\n", ev, all }'
}

for n in "${names[@]}"; do
  curl -sf -o /dev/null "${url[$n]}"
  : >"$BENCH_TMP/$n"
done
# A request that went through Redis leaves its key there.
[[ $(redis-cli -p "$redis_port" dbsize) -ge 1 ]] || { echo "no decision reached Redis" >&2; exit 1; }

for run in $(seq 1 "$RUNS"); do
  for n in "${names[@]}"; do
    t0=$(cpu_ticks "${pid[$n]}")
    r0=$(cpu_ticks "$redis_pid")
    read -r ev0 all0 < <(redis_calls)
    read -r rps p99 < <(wrk_once "${url[$n]}")
    read -r ev1 all1 < <(redis_calls)
    r1=$(cpu_ticks "$redis_pid")
    t1=$(cpu_ticks "${pid[$n]}")
    line=$(awk -v t="$((t1 - t0))" -v rt="$((r1 - r0))" -v hz="$hz" -v r="$rps" -v d="$DURATION" \
      -v ev="$((ev1 - ev0))" -v all="$((all1 - all0))" \
      'BEGIN { n = r * d; printf "%.3f %.3f %.2f %.2f", t / hz * 1e6 / n, rt / hz * 1e6 / n, ev / n, all / n }')
    read -r us rus evr allr <<<"$line"
    echo "$rps $p99 $us $rus $evr $allr" >>"$BENCH_TMP/$n"
    printf 'run %d %-7s %9.0f req/s  p99 %7.3f ms  gw cpu %6.3f us/req  redis cpu %6.3f us/req  redis cmds/req %4.2f evalsha + %4.2f total\n' \
      "$run" "$n:" "$rps" "$p99" "$us" "$rus" "$evr" "$allr"
  done
done

echo
echo "medians of $RUNS x ${DURATION}s, wrk -t1 -c64, gateway on core $SERVER_CORE, wrk on core $CLIENT_CORE, redis-server on core $REDIS_CORE"
declare -A rps p99
for n in "${names[@]}"; do
  rps[$n]=$(cut -d' ' -f1 "$BENCH_TMP/$n" | median)
  p99[$n]=$(cut -d' ' -f2 "$BENCH_TMP/$n" | median)
  printf '%-7s %9.0f req/s  p99 %7.3f ms  gw cpu %6.3f us/req  redis cpu %6.3f us/req  evalsha/req %4.2f  redis cmds/req %4.2f\n' \
    "$n:" "${rps[$n]}" "${p99[$n]}" "$(cut -d' ' -f3 "$BENCH_TMP/$n" | median)" \
    "$(cut -d' ' -f4 "$BENCH_TMP/$n" | median)" "$(cut -d' ' -f5 "$BENCH_TMP/$n" | median)" \
    "$(cut -d' ' -f6 "$BENCH_TMP/$n" | median)"
done
awk -v a="${rps[redis]}" -v b="${rps[local]}" -v c="${p99[redis]}" -v d="${p99[local]}" \
  'BEGIN { printf "ratio redis/local: %.2fx requests/s (goal >= 0.5x), p99 %.2fx\n", a / b, c / d }'
