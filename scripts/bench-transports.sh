#!/usr/bin/env bash
# Side-by-side throughput of slagate and its peers on every transport issue 9 names, measured as
# anchors.md measures the peers: nginx (1 worker) pinned to one core, the load tool pinned to the
# other, 50 keep-alive connections, no think time, the same small payload ("ok\n") on four
# listeners of one nginx:
#
#   h1      HTTP/1.1 cleartext
#   h1-tls  HTTP/1.1 over TLS (the listener's ALPN offers http/1.1 only)
#   h2-tls  HTTP/2 over TLS (ALPN h2)
#   h2c     HTTP/2 cleartext, prior knowledge
#
# Tools: wrk (HTTP/1.1 rows only), hey (-h2 on h2-tls; hey cannot speak h2c), oha (--http2,
# --cacert) and slagate (target/release/slagate check, 50 users, no think time, --cacert,
# --http2/--http1.1). Every peer is optional: a missing one prints "not installed". A slagate
# that refuses a transport (no TLS or HTTP/2 in this build) prints "unsupported" for that row.
# Prints requests/s per row and tool, slagate's ratios to oha and to wrk, and each tool's peak
# RSS. Absolute figures move from run to run and machine to machine: compare within one run.
#
# Usage: scripts/bench-transports.sh [options] [seconds]       (default 10 s per run)
#   --install-peers   also install oha with `cargo install oha --locked` when missing (minutes)
#   --no-install      install nothing (by default nginx, wrk and hey come from Debian if missing)
#   --no-build        use target/release/slagate as it is (default: cargo build --release)
#   --rows LIST       comma-separated subset of h1,h1-tls,h2-tls,h2c
#   --tools LIST      comma-separated subset of wrk,hey,oha,slagate
#   --rounds K        run every cell K times, interleaved, and show each cell's best (default 1;
#                     on a busy machine the best is the run least disturbed by other processes)
#   -h, --help        this text
# Environment: SLAGATE=path (binary to measure; implies --no-build), TARGET_CPU=0, TOOL_CPU=1.
#
# It generates a throw-away CA and server certificate (127.0.0.1 and localhost) in a temp dir,
# starts its own nginx there, and removes both on exit or Ctrl-C. It loads only 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '/^# Usage:/,/^# Environment:/s/^# \{0,1\}//p' "$0"; }

secs=10
install_peers=0
install=1
build=1
rounds=1
rows_wanted="h1,h1-tls,h2-tls,h2c"
tools_wanted="wrk,hey,oha,slagate"
while [ $# -gt 0 ]; do
  case $1 in
    --install-peers) install_peers=1 ;;
    --no-install) install=0 ;;
    --no-build) build=0 ;;
    --rows) rows_wanted=${2:?--rows needs a list}; shift ;;
    --rows=*) rows_wanted=${1#*=} ;;
    --tools) tools_wanted=${2:?--tools needs a list}; shift ;;
    --tools=*) tools_wanted=${1#*=} ;;
    --rounds) rounds=${2:?--rounds needs a number}; shift ;;
    --rounds=*) rounds=${1#*=} ;;
    -h | --help) usage; exit 0 ;;
    [0-9]*) secs=$1 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if ! [[ $secs =~ ^[1-9][0-9]*$ ]]; then
  echo "seconds must be a whole number above 0, not '$secs'" >&2
  exit 2
fi
if ! [[ $rounds =~ ^[1-9][0-9]*$ ]]; then
  echo "--rounds must be a whole number above 0, not '$rounds'" >&2
  exit 2
fi
target_cpu=${TARGET_CPU:-0}
tool_cpu=${TOOL_CPU:-1}
conns=50

IFS=, read -r -a rows <<<"$rows_wanted"
IFS=, read -r -a tools <<<"$tools_wanted"
for r in "${rows[@]}"; do
  case $r in h1 | h1-tls | h2-tls | h2c) ;; *) echo "unknown row: $r" >&2; exit 2 ;; esac
done
for t in "${tools[@]}"; do
  case $t in wrk | hey | oha | slagate) ;; *) echo "unknown tool: $t" >&2; exit 2 ;; esac
done

have() { command -v "$1" >/dev/null 2>&1; }
exec 3>&2 # the terminal's stderr, also from inside a tool's redirections (the INT trap runs there)
log() { printf '%s\n' "$*" >&3; }
wanted_tool() { [[ ",$tools_wanted," == *",$1,"* ]]; }

# --- what it needs --------------------------------------------------------------------------
for cmd in openssl taskset setsid python3; do
  have "$cmd" || { log "$cmd is required (Debian: openssl, util-linux, python3)"; exit 1; }
done

apt_installed=0
apt_install() { # packages that Debian has a candidate for; never fails the script
  local pkgs=() p
  [ "$install" = 1 ] || return 0
  if [ "$(id -u)" != 0 ]; then
    log "not root: cannot install $* from Debian"
    return 0
  fi
  if [ "$apt_installed" = 0 ]; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt_installed=1
  fi
  for p in "$@"; do
    if [[ $(apt-cache policy "$p" 2>/dev/null) == *"Candidate: "[0-9]* ]]; then
      pkgs+=("$p")
    else
      log "Debian has no package $p"
    fi
  done
  [ ${#pkgs[@]} -gt 0 ] || return 0
  log "installing ${pkgs[*]} from Debian"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 "${pkgs[@]}" \
    >/dev/null 2>&1 || log "apt-get install ${pkgs[*]} failed"
}

missing=()
have nginx || [ -x /usr/sbin/nginx ] || missing+=(nginx)
for t in wrk hey; do
  if wanted_tool "$t" && ! have "$t"; then missing+=("$t"); fi
done
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
PATH=$PATH:/usr/sbin
have nginx || { log "nginx is required: apt-get install nginx"; exit 1; }

cargo_bin=${CARGO_HOME:-$HOME/.cargo}/bin
[ -d "$cargo_bin" ] && PATH=$PATH:$cargo_bin
oha_note=""
if wanted_tool oha && ! have oha && [ "$install_peers" = 1 ]; then
  if have cargo; then
    log "installing oha with cargo install oha --locked (this takes minutes)"
    if ! cargo install oha --locked >/tmp/bench-transports-oha-install.log 2>&1; then
      oha_note="cargo install oha failed: see /tmp/bench-transports-oha-install.log ($(grep -m1 -E '^error' /tmp/bench-transports-oha-install.log || true))"
      log "$oha_note"
    fi
  else
    oha_note="no cargo to install oha with"
  fi
fi

if [ -n "${SLAGATE:-}" ]; then
  bin=$SLAGATE
elif [ "$build" = 1 ] && wanted_tool slagate; then
  log "cargo build --release"
  cargo build --release --quiet
  bin=target/release/slagate
else
  bin=target/release/slagate
fi
bin=$(realpath -m "$bin")

# --- a temp dir, cleaned up however the script ends ------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-transports.XXXXXX")
tool_pid=""
timer=()
alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[^)]*) Z' "/proc/$1/stat"; } # a zombie is gone
cleanup() {
  local pid
  set +e
  if [ -n "$tool_pid" ]; then # the tool under GNU time (so that time reaps it), or the tool
    if [ ${#timer[@]} -gt 0 ]; then pkill -TERM -P "$tool_pid" || true; else kill -TERM "$tool_pid" || true; fi
    wait "$tool_pid" 2>/dev/null
  fi
  if [ -s "$work/nginx.pid" ]; then
    pid=$(cat "$work/nginx.pid")
    kill "$pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do alive "$pid" || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$work" 2>/dev/null || { sleep 0.5; rm -rf "$work"; }
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM HUP

# --- certificates: a CA and a server certificate for 127.0.0.1 and localhost -----------------
cat >"$work/ca.cnf" <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = slagate bench CA (throw-away)
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF
cat >"$work/server.ext" <<'EXT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EXT
{
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/ca.key"
  openssl req -x509 -new -key "$work/ca.key" -config "$work/ca.cnf" -extensions v3_ca \
    -days 2 -out "$work/ca.pem"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/server.key"
  openssl req -new -key "$work/server.key" -subj "/CN=localhost" -out "$work/server.csr"
  openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
    -CAcreateserial -CAserial "$work/ca.srl" -days 2 -extfile "$work/server.ext" \
    -out "$work/server.pem"
  openssl verify -CAfile "$work/ca.pem" "$work/server.pem"
} >"$work/openssl.log" 2>&1 || { cat "$work/openssl.log" >&2; exit 1; }

# --- nginx: 1 worker on the target core, four listeners --------------------------------------
read -r p_h1 p_h1tls p_h2tls p_h2c < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')
declare -A url=(
  [h1]="http://127.0.0.1:$p_h1/" [h1-tls]="https://127.0.0.1:$p_h1tls/"
  [h2-tls]="https://127.0.0.1:$p_h2tls/" [h2c]="http://127.0.0.1:$p_h2c/"
)
nginx_version=$(nginx -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')
# nginx 1.25.1 replaced `listen … http2` by `http2 on;` (the old form still works, with a warning).
if printf '1.25.1\n%s\n' "$nginx_version" | sort -V -C; then
  h2_listen=""
  h2_on="http2 on;"
else
  h2_listen=" http2"
  h2_on=""
fi
mkdir -p "$work/nginx/tmp" "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  ssl_certificate $work/server.pem;
  ssl_certificate_key $work/server.key;
  ssl_protocols TLSv1.2 TLSv1.3;
  default_type text/plain;
  server { listen 127.0.0.1:$p_h1;                      location / { return 200 "ok\n"; } }
  server { listen 127.0.0.1:$p_h1tls ssl;               location / { return 200 "ok\n"; } }
  server { listen 127.0.0.1:$p_h2tls ssl$h2_listen; $h2_on location / { return 200 "ok\n"; } }
  server { listen 127.0.0.1:$p_h2c$h2_listen; $h2_on    location / { return 200 "ok\n"; } }
}
NGINX
nginx -t -q -e "$work/nginx/logs/error.log" -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>"$work/nginx-t.log" ||
  { cat "$work/nginx-t.log" >&2; exit 1; }
taskset -c "$target_cpu" nginx -e "$work/nginx/logs/error.log" -p "$work/nginx" -c "$work/nginx/nginx.conf" \
  2>>"$work/nginx-t.log" || { cat "$work/nginx-t.log" >&2; exit 1; }
for _ in $(seq 50); do [ -s "$work/nginx.pid" ] && break; sleep 0.1; done

notes=()
note() { notes+=("$*"); }

# Each listener answers with the protocol it should, as curl sees it.
declare -A target_ok
if have curl; then
  probe() { # row expected-http-version curl-args...
    local row=$1 want=$2 got
    shift 2
    got=$(curl -s -o /dev/null --max-time 5 --cacert "$work/ca.pem" -w '%{http_code} %{http_version}' \
      "$@" "${url[$row]}" 2>/dev/null || true)
    if [ "$got" = "200 $want" ]; then
      target_ok[$row]=1
    else
      target_ok[$row]=0
      note "$row: nginx's listener did not answer HTTP/$want to curl $* (got '${got:-nothing}')"
    fi
  }
  probe h1 1.1 --http1.1
  probe h1-tls 1.1 --http2 # offered h2 by the client, the listener must still choose http/1.1
  probe h2-tls 2 --http2
  probe h2c 2 --http2-prior-knowledge
  if [ "${target_ok[h2c]}" = 1 ]; then
    note "h2c: nginx $nginx_version serves HTTP/2 with prior knowledge on a plain listener (curl --http2-prior-knowledge: HTTP/2 200)"
  fi
else
  note "no curl: the listeners' protocols were not checked"
fi

# --- the tools --------------------------------------------------------------------------------
cat >"$work/sla.toml" <<SLA
[target]
base_url = "${url[h1]}"

[[endpoint]]
name = "/"
budget = { p99 = "1s" }
SLA
mkdir -p "$work/profiles"
cat >"$work/profiles/bench.toml" <<PROFILE
description = "bench-transports: maximum throughput"
users = $conns
spawn_rate = 10000
run_time = "$((secs + 1))s"
PROFILE

timer=()
if [ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
  timer=(/usr/bin/time -f %M -o "$work/rss")
fi
# Runs a tool on the tool core; its peak RSS (KiB) lands in $work/rss when GNU time is there.
# In its own session, waited for with `wait`: Ctrl-C then reaches the trap at once (a tool such as
# wrk that catches SIGINT and exits 0 would otherwise make bash ignore it), and the trap stops it.
pinned() {
  local rc=0
  rm -f "$work/rss"
  setsid "${timer[@]}" taskset -c "$tool_cpu" "$@" &
  tool_pid=$!
  wait "$tool_pid" || rc=$?
  tool_pid=""
  return "$rc"
}
rss_of() { if [ -s "$work/rss" ]; then tail -n1 "$work/rss"; else echo -; fi; }

results=$work/results.tsv
: >"$results"
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$results"; }

run_wrk() { # row
  local row=$1 out rps
  case $row in h2-tls | h2c) record "$row" wrk n/a -; return ;; esac
  have wrk || { record "$row" wrk "not installed" -; return; }
  out=$work/wrk-$row.out
  if pinned wrk -t1 -c"$conns" -d"${secs}s" "${url[$row]}" >"$out" 2>&1; then
    rps=$(awk '/Requests\/sec/ {print int($2)}' "$out")
  fi
  if grep -qE 'Socket errors|Non-2xx' "$out"; then
    note "wrk $row: $(grep -E 'Socket errors|Non-2xx' "$out" | tr -s ' ' | paste -sd';')"
  fi
  record "$row" wrk "${rps:-failed}" "$(rss_of)"
  [ -n "${rps:-}" ] || note "wrk $row failed: $(tail -n1 "$out")"
}

run_hey() {
  local row=$1 out rps args=()
  case $row in
    h2c) record "$row" hey n/a -; return ;; # hey's -h2 is HTTP/2 over TLS (ALPN) only
    h2-tls) args=(-h2) ;;
  esac
  have hey || { record "$row" hey "not installed" -; return; }
  out=$work/hey-$row.out
  if pinned hey -z "${secs}s" -c "$conns" "${args[@]}" "${url[$row]}" >"$out" 2>&1; then
    rps=$(awk '/Requests\/sec:/ {print int($2)}' "$out")
  fi
  if grep -q 'Error distribution' "$out"; then
    note "hey $row: errors: $(sed -n '/Error distribution/,$p' "$out" | sed -n 2,3p | tr -s ' ' | paste -sd';')"
  fi
  record "$row" hey "${rps:-failed}" "$(rss_of)"
  [ -n "${rps:-}" ] || note "hey $row failed: $(tail -n1 "$out")"
}

run_oha() {
  local row=$1 out rps args=(--no-tui --output-format json)
  have oha || { record "$row" oha "not installed" -; return; }
  case $row in
    h1-tls) args+=(--cacert "$work/ca.pem") ;;
    h2-tls) args+=(--http2 --cacert "$work/ca.pem") ;;
    h2c) args+=(--http2) ;;
  esac
  out=$work/oha-$row.json
  if pinned oha -z "${secs}s" -c "$conns" "${args[@]}" "${url[$row]}" >"$out" 2>"$out.err"; then
    rps=$(python3 - "$out" <<'PY' || true
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
if s["successRate"] < 1:
    print(f"success rate {s['successRate']:.4f}", file=sys.stderr)
print(round(s["requestsPerSec"]))
PY
)
  fi
  record "$row" oha "${rps:-failed}" "$(rss_of)"
  [ -n "${rps:-}" ] || note "oha $row failed: $(tail -n1 "$out.err")"
}

run_slagate() {
  local row=$1 out json rc=0 args=() verdict
  [ -x "$bin" ] || { record "$row" slagate "not installed" -; return; }
  case $row in
    h1-tls) args=(--cacert "$work/ca.pem" --http1.1) ;;
    h2-tls) args=(--cacert "$work/ca.pem" --http2) ;;
    h2c) args=(--http2) ;;
  esac
  out=$work/slagate-$row.out
  json=$work/slagate-$row.json
  rm -f "$json"
  pinned "$bin" check --sla "$work/sla.toml" --profile bench --host "${url[$row]%/}" \
    -t "$((secs + 1))s" "${args[@]}" --json "$json" >"$out" 2>&1 || rc=$?
  verdict=$(python3 - "$json" "$row" <<'PY' 2>/dev/null || true
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(1)
t = r.get("total")
if not t:
    sys.exit(1)
notes = []
# requests/s of answered requests, as the peers count them: a failure is no throughput
failed, done = t.get("failures", 0), t.get("requests", 0)
ok_rps = t["rps"] * (done - failed) / done if done else 0
if failed:
    kinds = ", ".join(f"{k.get('kind', k)} {k.get('count', '')}".strip()
                      for k in (t.get("failures_by_kind") or [])[:3] if isinstance(k, dict))
    notes.append(f"{failed} of {done} requests failed ({kinds}), not counted in its requests/s")
for i in r.get("invalid") or []:
    notes.append(f"INVALID ({i['cause']}: {i['figure']})")
# whatever the run says it negotiated (issue 9 puts protocol and TLS version in the JSON)
def walk(v, path):
    if isinstance(v, dict):
        for k, x in v.items():
            if k in ("protocol", "protocols", "alpn", "http_version", "tls_version") and not isinstance(x, (dict, list)):
                notes.append(f"{k}={x}")
            elif k not in ("endpoints", "timeline", "checks"):
                walk(x, path + [k])
walk(r, [])
print(round(ok_rps) if ok_rps >= 1 else "failed", "; ".join(notes), sep="\t")
PY
)
  if [ -n "$verdict" ]; then
    record "$row" slagate "${verdict%%$'\t'*}" "$(rss_of)"
    [ -z "${verdict#*$'\t'}" ] || note "slagate $row: ${verdict#*$'\t'} (exit $rc)"
  elif grep -qiE "unexpected argument|only http://|not supported|unsupported|is planned" "$out"; then
    record "$row" slagate unsupported -
    note "slagate $row: unsupported by this build: $(grep -m1 -iE "unexpected argument|only http://|not supported|unsupported|is planned" "$out" | sed 's/^ *//')"
  else
    record "$row" slagate failed -
    note "slagate $row failed (exit $rc): $(grep -v '^\s*$' "$out" | tail -n1)"
  fi
}

load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
log "== ${secs} s per run, $conns connections; nginx $nginx_version (1 worker) on core $target_cpu, each tool on core $tool_cpu; load average before: $load"
for round in $(seq "$rounds"); do
  for row in "${rows[@]}"; do
    for tool in "${tools[@]}"; do
      log "-- round $round/$rounds, $row: $tool"
      "run_$tool" "$row"
    done
  done
done

[ -n "$oha_note" ] && note "$oha_note"
wanted_tool oha && ! have oha && [ "$install_peers" = 0 ] &&
  note "oha is not installed: pass --install-peers to build it with cargo (minutes)"
[[ $rows_wanted =~ tls|h2c ]] && note "wrk and hey verify no certificate (oha and slagate are given the CA); on h2 rows oha opens $conns connections (1 stream each), hey multiplexes its $conns workers on one connection, slagate shares connections up to max_streams"
[ ${#timer[@]} -gt 0 ] || note "no GNU time at /usr/bin/time: peak RSS not measured (apt-get install time)"
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')

# --- the table --------------------------------------------------------------------------------
printf '%s\n' "${notes[@]}" >"$work/notes"
python3 - "$results" "$work/notes" "$rows_wanted" "$tools_wanted" "$secs" "$conns" "$load" "$load_after" "$rounds" <<'PY'
import sys
results, notes_file, rows, tools, secs, conns, load, load_after, rounds = sys.argv[1:]
rows, tools, rounds = rows.split(","), tools.split(","), int(rounds)
runs = {}
for line in open(results):
    row, tool, r, m = line.rstrip("\n").split("\t")
    runs.setdefault((row, tool), []).append((r, m))

def num(v):
    return int(v) if v.isdigit() else None

def pick(values, best):  # the best (or worst) figure; a status word when no run gave a figure
    figures = [int(v) for v in values if v.isdigit()]
    return str(best(figures)) if figures else values[-1]

rps = {k: pick([r for r, _ in v], max) for k, v in runs.items()}
worst = {k: pick([r for r, _ in v], min) for k, v in runs.items()}
rss = {k: pick([m for _, m in v], max) for k, v in runs.items()}

def ratio(row, peer):
    s, p = num(rps.get((row, "slagate"), "")), num(rps.get((row, peer), ""))
    return f"{s / p:.2f}" if s is not None and p else "-"

ratio_cols = [p for p in ("oha", "wrk") if p in tools and "slagate" in tools]
head = ["requests/s"] + tools + [f"slagate/{p}" for p in ratio_cols]
table = [[row] + [rps.get((row, t), "-") for t in tools] + [ratio(row, p) for p in ratio_cols]
         for row in rows]
mem = [[row] + [rss.get((row, t), "-") for t in tools] for row in rows]
mem = [[c if c == m[0] or not c.isdigit() else f"{int(c) / 1024:.1f}" for c in m] for m in mem]

def show(head, body):
    widths = [max(len(str(r[i])) for r in [head] + body) for i in range(len(head))]
    fmt = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                              for i, (c, w) in enumerate(zip(r, widths)))
    print(fmt(head))
    print("  ".join("-" * w for w in widths))
    for r in body:
        print(fmt(r))

print()
best_of = f", best of {rounds} rounds" if rounds > 1 else ""
print(f"== requests/s, {secs} s per run, {conns} connections{best_of} (load average {load} before, {load_after} after)")
show(head, table)
if rounds > 1:
    print()
    print(f"== requests/s, worst of {rounds} rounds (the spread is the noise)")
    show(["worst"] + tools, [[row] + [worst.get((row, t), "-") for t in tools] for row in rows])
print()
print("== peak RSS, MiB" + (f", largest of {rounds} rounds" if rounds > 1 else ""))
show(["peak RSS"] + tools, mem)
notes = list(dict.fromkeys(n for n in open(notes_file).read().splitlines() if n))
if notes:
    print()
    for n in notes:
        print(f"note: {n}")
PY
