# Shared helpers for the peer benchmarks (sourced, not run).
# Client and server are pinned to different cores: server on core 0, client on core 1.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_TMP=$(mktemp -d /tmp/tollgate-bench.XXXXXX)
BENCH_PIDS=()
SERVER_CORE=${SERVER_CORE:-0}
CLIENT_CORE=${CLIENT_CORE:-1}
RUNS=${RUNS:-5}
DURATION=${DURATION:-10}

bench_cleanup() {
  for pid in "${BENCH_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT

# free_port: prints a currently free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT: waits up to 5 s for something to listen on 127.0.0.1:PORT.
wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}

# start_nginx PORT LOCATION_BODY [HTTP_EXTRA]: one worker, pinned to SERVER_CORE.
start_nginx() {
  local port=$1 location=$2 extra=${3:-}
  local dir="$BENCH_TMP/nginx-$port"
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
worker_cpu_affinity auto;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir;
  uwsgi_temp_path $dir; scgi_temp_path $dir;
  $extra
  server {
    listen 127.0.0.1:$port reuseport;
    location / { $location }
  }
}
CONF
  taskset -c "$SERVER_CORE" nginx -c "$dir/nginx.conf" -e "$dir/error.log" &
  BENCH_PIDS+=($!)
  wait_port "$port"
}

# wrk_once URL [ARGS...]: one wrk run pinned to CLIENT_CORE; prints "rps p99_ms".
wrk_once() {
  local url=$1; shift
  taskset -c "$CLIENT_CORE" wrk -t1 -c64 -d"${DURATION}s" --latency "$@" "$url" 2>&1 |
    awk '/Requests\/sec/ { rps = $2 }
         /^ +99%/ { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 }
                    else if (v ~ /ms$/) { sub(/ms/, "", v) }
                    else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 }
                    p99 = v }
         END { printf "%s %s\n", rps, p99 }'
}

# median: reads numbers, one per line, prints the median.
median() {
  sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
