#!/usr/bin/env bash
# tollgate serve vs nginx limit_req, same wrk load, same run.
#
# Both servers: one worker thread pinned to SERVER_CORE (0), answering 200 on a
# route limited to 10,000,000 requests/s per client address (a limit that is
# checked on every request and never reached). wrk: 1 thread, 64 keep-alive
# connections, pinned to CLIENT_CORE (1). Runs alternate between the servers,
# RUNS (5) x DURATION (10 s) each; the medians and their ratio are printed.
# tollgate answers with its default ietf rate-limit headers; nginx sends none.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TOLLGATE=${TOLLGATE:-$BENCH_ROOT/build/tollgate}
[[ -x $TOLLGATE ]] || { echo "build first: make (missing $TOLLGATE)" >&2; exit 1; }
command -v nginx >/dev/null || { echo "nginx is not installed" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }

tg_port=$(free_port)
ng_port=$(free_port)

cat >"$BENCH_TMP/serve.yaml" <<YAML
listen: 127.0.0.1:$tg_port
threads: 1
admin: "off"
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

taskset -c "$SERVER_CORE" "$TOLLGATE" serve --config "$BENCH_TMP/serve.yaml" --log-level warn &
BENCH_PIDS+=($!)
wait_port "$tg_port"

start_nginx "$ng_port" 'limit_req zone=never burst=10000000 nodelay; return 200 "ok";' \
  'limit_req_zone $binary_remote_addr zone=never:10m rate=10000000r/s;'

tg_url="http://127.0.0.1:$tg_port/limited"
ng_url="http://127.0.0.1:$ng_port/limited"
# Both must answer 200 before measuring.
curl -sf -o /dev/null "$tg_url" && curl -sf -o /dev/null "$ng_url"

: >"$BENCH_TMP/tg" >"$BENCH_TMP/ng"
for run in $(seq 1 "$RUNS"); do
  read -r rps p99 < <(wrk_once "$tg_url")
  echo "$rps $p99" >>"$BENCH_TMP/tg"
  printf 'run %d tollgate: %10.0f req/s  p99 %7.3f ms\n' "$run" "$rps" "$p99"
  read -r rps p99 < <(wrk_once "$ng_url")
  echo "$rps $p99" >>"$BENCH_TMP/ng"
  printf 'run %d nginx:    %10.0f req/s  p99 %7.3f ms\n' "$run" "$rps" "$p99"
done

tg_rps=$(cut -d' ' -f1 "$BENCH_TMP/tg" | median)
tg_p99=$(cut -d' ' -f2 "$BENCH_TMP/tg" | median)
ng_rps=$(cut -d' ' -f1 "$BENCH_TMP/ng" | median)
ng_p99=$(cut -d' ' -f2 "$BENCH_TMP/ng" | median)
echo
echo "medians of $RUNS x ${DURATION}s, wrk -t1 -c64, server on core $SERVER_CORE, wrk on core $CLIENT_CORE"
printf 'tollgate serve: %10.0f req/s  p99 %7.3f ms\n' "$tg_rps" "$tg_p99"
printf 'nginx limit_req: %9.0f req/s  p99 %7.3f ms\n' "$ng_rps" "$ng_p99"
awk -v a="$tg_rps" -v b="$ng_rps" -v c="$tg_p99" -v d="$ng_p99" \
  'BEGIN { printf "ratio tollgate/nginx: %.2fx requests/s, p99 %.2fx\n", a / b, c / d }'
