#!/usr/bin/env bash
# Maximum throughput of slagate's engine, measured as anchors.md measures the peers: nginx
# (1 worker) pinned to core 0, the load tool pinned to core 1, 50 keep-alive connections, no
# think time, 5 s. Prints slagate's requests/s and peak memory beside wrk's on the same machine
# in the same run (compare ratios, not absolute figures).
#
# Usage: scripts/bench-throughput.sh [seconds]      (installs nginx-light and wrk if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}

need() { command -v "$1" >/dev/null 2>&1; }
if ! need nginx || ! need wrk; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk >/dev/null
fi
cargo build --release --quiet
bin=target/release/slagate

work=$(mktemp -d)
trap 'kill $(cat "$work/nginx.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$port; location / { return 200 "ok\n"; } }
}
NGINX
taskset -c 0 nginx -c "$work/nginx.conf" -p "$work"
sleep 0.5

cat > "$work/sla.toml" <<SLA
[target]
base_url = "http://127.0.0.1:$port"
[[endpoint]]
name = "/"
budget = { p99 = "1s" }
SLA
mkdir -p "$work/profiles"
cat > "$work/profiles/bench.toml" <<PROFILE
users = 50
spawn_rate = 1000
run_time = "$((secs + 1))s"
PROFILE

echo "== slagate: 50 users, no think time, ${secs} s measured (1 s ramp excluded), pinned to core 1"
/usr/bin/env time -f '%M' -o "$work/rss" taskset -c 1 "$bin" check --sla "$work/sla.toml" \
  --profile bench --json "$work/run.json" >/dev/null 2>"$work/slagate.err" || true
slagate_rps=$(python3 -c "import json,sys; r=json.load(open('$work/run.json')); print(round(r['total']['rps']))")
echo "slagate  requests/s: $slagate_rps   peak RSS: $(( $(cat "$work/rss") / 1024 )) MiB"

echo "== wrk 1 thread, 50 connections, ${secs} s, pinned to core 1"
wrk_rps=$(taskset -c 1 wrk -t1 -c50 -d"${secs}s" "http://127.0.0.1:$port/" | awk '/Requests\/sec/ {print int($2)}')
echo "wrk      requests/s: $wrk_rps"
python3 -c "print(f'slagate / wrk = {$slagate_rps / $wrk_rps:.2f}')"
