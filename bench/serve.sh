#!/usr/bin/env bash
# tollgate serve vs nginx limit_req, same wrk load, same run.
#
# Both servers: one worker thread pinned to SERVER_CORE (0), answering 200 on a
# route limited to 10,000,000 requests/s per client address (a limit that is
# checked on every request and never reached). wrk: 1 thread, 64 keep-alive
# connections, pinned to CLIENT_CORE (1). Runs alternate between the servers,
# RUNS (5) x DURATION (10 s) each; the medians and their ratio are printed.
# Besides requests/s and p99, each run reports the server's CPU time per request
# (user + system, from /proc/PID/stat), which a busy machine disturbs far less
# than throughput. tollgate runs twice: with its default ietf rate-limit headers (RateLimit and
# RateLimit-Policy on every response), and with `headers: []`, which sends what
# nginx sends (no rate-limit headers) and isolates the cost of the headers.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TOLLGATE=${TOLLGATE:-$BENCH_ROOT/build/tollgate}
[[ -x $TOLLGATE ]] || { echo "build first: make (missing $TOLLGATE)" >&2; exit 1; }
command -v nginx >/dev/null || { echo "nginx is not installed" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }

tg_port=$(free_port)
tn_port=$(free_port)
ng_port=$(free_port)

# serve_config PORT HEADERS
serve_config() {
  cat <<YAML
listen: 127.0.0.1:$1
threads: 1
admin: "off"
headers: $2
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
serve_config "$tg_port" "[ietf]" >"$BENCH_TMP/serve.yaml"
serve_config "$tn_port" "[]" >"$BENCH_TMP/serve-noheaders.yaml"

declare -A pid
for cfg in serve serve-noheaders; do
  taskset -c "$SERVER_CORE" "$TOLLGATE" serve --config "$BENCH_TMP/$cfg.yaml" --log-level warn &
  BENCH_PIDS+=($!)
  pid[$cfg]=$!
done
wait_port "$tg_port"
wait_port "$tn_port"

start_nginx "$ng_port" 'limit_req zone=never burst=10000000 nodelay; return 200 "ok";' \
  'limit_req_zone $binary_remote_addr zone=never:10m rate=10000000r/s;'
nginx_master=${BENCH_PIDS[-1]}

declare -A url=(
  [tollgate]="http://127.0.0.1:$tg_port/limited"
  [tollgate-noheaders]="http://127.0.0.1:$tn_port/limited"
  [nginx]="http://127.0.0.1:$ng_port/limited"
)
names=(tollgate tollgate-noheaders nginx)
pid[tollgate]=${pid[serve]}
pid[tollgate-noheaders]=${pid[serve-noheaders]}
pid[nginx]=$(pgrep -P "$nginx_master" | head -n 1) # the one worker

# cpu_ticks PID: user + system time of a process so far, in clock ticks.
cpu_ticks() {
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}
hz=$(getconf CLK_TCK)

for n in "${names[@]}"; do
  curl -sf -o /dev/null "${url[$n]}" # every server answers 200 before measuring
  : >"$BENCH_TMP/$n"
done

for run in $(seq 1 "$RUNS"); do
  for n in "${names[@]}"; do
    t0=$(cpu_ticks "${pid[$n]}")
    read -r rps p99 < <(wrk_once "${url[$n]}")
    t1=$(cpu_ticks "${pid[$n]}")
    us=$(awk -v t="$((t1 - t0))" -v hz="$hz" -v r="$rps" -v d="$DURATION" \
      'BEGIN { printf "%.3f", t / hz * 1e6 / (r * d) }')
    echo "$rps $p99 $us" >>"$BENCH_TMP/$n"
    printf 'run %d %-19s %10.0f req/s  p99 %7.3f ms  cpu %6.3f us/req\n' "$run" "$n:" "$rps" \
      "$p99" "$us"
  done
done

echo
echo "medians of $RUNS x ${DURATION}s, wrk -t1 -c64, server on core $SERVER_CORE, wrk on core $CLIENT_CORE"
declare -A rps p99 cpu
for n in "${names[@]}"; do
  rps[$n]=$(cut -d' ' -f1 "$BENCH_TMP/$n" | median)
  p99[$n]=$(cut -d' ' -f2 "$BENCH_TMP/$n" | median)
  cpu[$n]=$(cut -d' ' -f3 "$BENCH_TMP/$n" | median)
  printf '%-19s %10.0f req/s  p99 %7.3f ms  cpu %6.3f us/req\n' "$n:" "${rps[$n]}" "${p99[$n]}" \
    "${cpu[$n]}"
done
for n in tollgate tollgate-noheaders; do
  awk -v n="$n" -v a="${rps[$n]}" -v b="${rps[nginx]}" -v c="${p99[$n]}" -v d="${p99[nginx]}" \
    -v e="${cpu[$n]}" -v f="${cpu[nginx]}" \
    'BEGIN { printf "ratio %s/nginx: %.2fx requests/s, p99 %.2fx, cpu/req %.2fx\n", n, a / b, c / d, e / f }'
done
