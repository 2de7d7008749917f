#!/usr/bin/env bash
# The five "engine at the limit" figures of slagate, each beside its peers where one exists,
# measured as bench-transports.sh measures them: the target (nginx with 1 worker, or the embedded
# fixture) pinned to one core, the load tool pinned to the other, everything on 127.0.0.1.
#
#   1  closed model, HTTP/1.1, no think time, 50 connections: requests/s against nginx, beside
#      wrk -t1 -c50 and oha -c 50.                                       goal: >= 1.0x wrk
#   2  open model: the highest arrival rate one core holds against nginx, stepping --rate
#      through --rates with max_in_flight 1000. A step holds when sent/requested >= 0.995, the
#      send lag's p99 <= 1 ms and no arrival was dropped. Beside oha -q RATE -c 1000
#      --latency-correction, whose step holds when it achieved >= 99.5 % of RATE (oha reports
#      no send lag and drops nothing).                                   goal: 50,000/s held
#   3  memory per idle user: peak RSS of 10,000 users with a 60 s think time (15 s run against
#      nginx) minus the peak RSS of 1 user, over 9,999; beside oha -c 10000 -q 100 minus oha -c 1.
#      The most descriptors each tool held open shows how many connections it really opened.
#                                                                        goal: <= 12 KB per user
#   4  generator CPU at the repo's stress profile (sla.toml, profiles/stress.toml: 200 users,
#      think 200-800 ms) for 60 s against the embedded fixture (slagate fixture on the target
#      core): (user + system CPU) / wall time, in % of one core. No peer.  goal: <= 2 %
#   5  stats memory over a long run: open model at 5,000 arrivals/s against the fixture (latencies
#      of 10-500 ms) for --long-run, VmRSS every 10 s, MB per hour extrapolated from the slope
#      (least squares) after the first minute (after the first third of a run under 2 minutes).
#      No peer.                                                          goal: <= 64 MB/hour
#
# Peak RSS and CPU time come from GNU time (/usr/bin/time), or else from /proc/PID (VmHWM and
# utime+stime, sampled every second). Every run has a time limit: a tool that hangs is killed and
# its cell reads "failed". A peer that is not installed reads "not installed". Absolute figures
# move from run to run and machine to machine (mind the load average printed at the start).
# With the defaults the whole script takes about 11 minutes.
#
# Usage: scripts/bench-engine.sh [options]
#   --figures LIST    comma-separated subset of 1,2,3,4,5 (default: all)
#   --secs N          seconds per run of figures 1 and 2 (default 10)
#   --rates LIST      comma-separated arrival rates figure 2 steps through
#                     (default 10000,20000,30000,40000,50000,60000,80000)
#   --long-run DUR    run time of figure 5, e.g. 90s, 5m, 1h30m (default 5m)
#   --no-install      install nothing (by default nginx, wrk and time come from Debian if missing)
#   --no-build        use target/release/slagate as it is (default: cargo build --release)
#   -h, --help        this text
# Environment: SLAGATE=path (binary to measure; implies --no-build), TARGET_CPU=0, TOOL_CPU=1.
#
# It starts its own nginx and fixture in a temp dir and stops them and every tool it started on
# exit or Ctrl-C. It raises its open-file limit as far as it may (figure 3 needs > 10,000).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '/^# Usage:/,/^# Environment:/s/^# \{0,1\}//p' "$0"; }

secs=10
install=1
build=1
figures_wanted="1,2,3,4,5"
rates_wanted="10000,20000,30000,40000,50000,60000,80000"
long_run=5m
while [ $# -gt 0 ]; do
  case $1 in
    --figures) figures_wanted=${2:?--figures needs a list}; shift ;;
    --figures=*) figures_wanted=${1#*=} ;;
    --secs) secs=${2:?--secs needs a number}; shift ;;
    --secs=*) secs=${1#*=} ;;
    --rates) rates_wanted=${2:?--rates needs a list}; shift ;;
    --rates=*) rates_wanted=${1#*=} ;;
    --long-run) long_run=${2:?--long-run needs a duration}; shift ;;
    --long-run=*) long_run=${1#*=} ;;
    --no-install) install=0 ;;
    --no-build) build=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if ! [[ $secs =~ ^[1-9][0-9]*$ ]]; then
  echo "--secs must be a whole number above 0, not '$secs'" >&2
  exit 2
fi
IFS=, read -r -a figures <<<"$figures_wanted"
for f in "${figures[@]}"; do
  case $f in 1 | 2 | 3 | 4 | 5) ;; *) echo "unknown figure: $f (figures are 1 to 5)" >&2; exit 2 ;; esac
done
IFS=, read -r -a rates <<<"$rates_wanted"
for r in "${rates[@]}"; do
  [[ $r =~ ^[1-9][0-9]*$ ]] || { echo "--rates: '$r' is not a whole number above 0" >&2; exit 2; }
done
# --long-run in seconds (whole), and as slagate's --run-time takes it
long_secs=$(python3 - "$long_run" <<'PY' 2>/dev/null || true
import re, sys
s = sys.argv[1].strip()
if re.fullmatch(r"[0-9]+", s):
    s += "s"
parts = re.findall(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)", s)
if not parts or "".join(a + b for a, b in parts) != s:
    sys.exit(1)
t = sum(float(a) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[b] for a, b in parts)
if t < 20:
    sys.exit(1)
print(round(t))
PY
)
if [ -z "$long_secs" ]; then
  echo "--long-run must be a duration of 20s or more such as 90s, 5m or 1h30m, not '$long_run'" >&2
  exit 2
fi
target_cpu=${TARGET_CPU:-0}
tool_cpu=${TOOL_CPU:-1}
wanted_fig() { [[ ",$figures_wanted," == *",$1,"* ]]; }

have() { command -v "$1" >/dev/null 2>&1; }
exec 3>&2 # the terminal's stderr, also from inside a tool's redirections (the INT trap runs there)
log() { printf '%s\n' "$*" >&3; }

# --- what it needs --------------------------------------------------------------------------
for cmd in taskset setsid timeout python3; do
  have "$cmd" || { log "$cmd is required (Debian: util-linux, coreutils, python3)"; exit 1; }
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

need_nginx=0
for f in 1 2 3; do wanted_fig "$f" && need_nginx=1; done
missing=()
if [ "$need_nginx" = 1 ]; then
  have nginx || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  wanted_fig 1 && ! have wrk && missing+=(wrk)
fi
[ -x /usr/bin/time ] || missing+=(time)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
PATH=$PATH:/usr/sbin
if [ "$need_nginx" = 1 ] && ! have nginx; then
  log "nginx is required for figures 1-3: apt-get install nginx"
  exit 1
fi
cargo_bin=${CARGO_HOME:-$HOME/.cargo}/bin
[ -d "$cargo_bin" ] && PATH=$PATH:$cargo_bin

gnu_time=0
if [ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then gnu_time=1; fi

if [ -n "${SLAGATE:-}" ]; then
  bin=$SLAGATE
elif [ "$build" = 1 ]; then
  log "cargo build --release"
  cargo build --release --quiet
  bin=target/release/slagate
else
  bin=target/release/slagate
fi
bin=$(realpath -m "$bin")
[ -x "$bin" ] || { log "no slagate binary at $bin"; exit 1; }

# Figure 3 holds 10,000 connections in one process: raise the open-file limit (inherited by
# nginx and every tool) as far as this shell may.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)
[ "$nofile" = unlimited ] && nofile=65536

# --- a temp dir, cleaned up however the script ends ------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-engine.XXXXXX")
tool_pid="" tool_real="" fixture_pid="" fixture_real=""
alive() { # a zombie is gone
  local s
  [ -n "$1" ] && { read -r s <"/proc/$1/stat"; } 2>/dev/null && [[ ${s##*) } != Z* ]]
}
pgid_of() { # the process group of a live pid (timeout's, which holds the tool and its children)
  local st
  local -a f
  { read -r st <"/proc/$1/stat"; } 2>/dev/null || return 0
  read -r -a f <<<"${st##*) }"
  echo "${f[2]}"
}
stop() { # real-pid wrapper-pid: TERM the tool's process group (or else the tool), then its
  local p g="" own # wrappers; KILL what stays
  set +e
  own=$(pgid_of $$)
  [ -n "$1" ] && g=$(pgid_of "$1")
  [[ $g =~ ^[0-9]+$ ]] && [ "$g" != "$own" ] && [ "$g" -gt 1 ] || g=""
  [ -z "$g" ] || kill -TERM -- "-$g" 2>/dev/null
  for p in "$@"; do alive "$p" && kill -TERM "$p" 2>/dev/null; done
  for _ in $(seq 30); do
    alive "$1" || alive "$2" || break
    sleep 0.1
  done
  [ -z "$g" ] || kill -KILL -- "-$g" 2>/dev/null
  for p in "$@"; do alive "$p" && kill -KILL "$p" 2>/dev/null; done
  [ -n "$2" ] && wait "$2" 2>/dev/null
  return 0
}
cleanup() {
  local pid
  set +e
  stop "$tool_real" "$tool_pid"
  stop "$fixture_real" "$fixture_pid"
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

notes=()
note() { notes+=("$*"); }

# --- helpers in Python: reading the tools' reports, tables, the memory slope ------------------
cat >"$work/h.py" <<'PY'
import json, sys

def load(path):
    try:
        return json.load(open(path))
    except Exception:
        return None

def invalid_notes(r):
    return [f"INVALID ({i.get('cause')}: {i.get('figure')}) {i.get('message', '')}".strip()
            for i in (r.get("invalid") or [])]

def cmd_sg_rps(path):  # closed-model run: answered requests/s, notes
    r = load(path)
    t = r and r.get("total")
    if not t:
        print("failed\tno report or no total in it"); return
    notes = invalid_notes(r)
    failed, done = t.get("failures", 0), t.get("requests", 0)
    ok_rps = t["rps"] * (done - failed) / done if done else 0
    if failed:
        notes.append(f"{failed} of {done} requests failed, not counted in its requests/s")
    print(round(ok_rps) if ok_rps >= 1 else "failed", "; ".join(notes), sep="\t")

def cmd_sg_open(path):  # open-model run: requested sent achieved dropped lag_p99 peak holds, notes
    r = load(path)
    a = r and r.get("arrivals")
    if not a:
        print("failed\t-\t-\t-\t-\t-\tfailed\t" + ("no report" if r is None else "no arrivals in the report")); return
    notes = invalid_notes(r)
    t = r.get("total") or {}
    if t.get("failures"):
        notes.append(f"{t['failures']} of {t.get('requests')} requests failed")
    req, sent, dropped = a.get("requested", 0), a.get("sent", 0), a.get("dropped", 0)
    lag = (a.get("send_lag_ms") or {}).get("p99")
    holds = bool(req) and sent / req >= 0.995 and lag is not None and lag <= 1.0 and dropped == 0
    why = []
    if req and sent / req < 0.995: why.append(f"sent {sent / req:.3f} of requested")
    if lag is None or lag > 1.0: why.append("lag p99 > 1 ms")
    if dropped: why.append("dropped")
    print(req, sent, round(a.get("achieved_rps", 0)), dropped,
          "-" if lag is None else f"{lag:.3f}", a.get("peak_in_flight", "-"),
          "yes" if holds else "no (" + ", ".join(why) + ")", "; ".join(notes), sep="\t")

def cmd_sg_closed(path):  # any run: requests, rps, failures, connections opened, notes
    r = load(path)
    t = r and r.get("total")
    if not t:
        print("failed\t-\t-\t-\tno report or no total in it"); return
    notes = invalid_notes(r)
    c = r.get("connections") or {}
    print(t.get("requests"), round(t.get("rps", 0)), t.get("failures"), c.get("opened", "-"),
          "; ".join(notes), sep="\t")

def cmd_sg_long(path):  # figure 5: achieved/s, dropped, lag p99, peak in flight, requests, notes
    r = load(path)
    a = r and r.get("arrivals")
    if not a:
        print("failed\t-\t-\t-\t-\tno report or no arrivals in it"); return
    t = r.get("total") or {}
    notes = invalid_notes(r)
    if t.get("failures"):
        notes.append(f"{t['failures']} of {t.get('requests')} requests failed")
    lag = (a.get("send_lag_ms") or {}).get("p99")
    print(round(a.get("achieved_rps", 0)), a.get("dropped"), "-" if lag is None else f"{lag:.3f}",
          a.get("peak_in_flight"), t.get("requests"), "; ".join(notes), sep="\t")

def cmd_oha(path):  # answered requests/s, notes
    r = load(path)
    s = r and r.get("summary")
    if not s or s.get("requestsPerSec") is None:
        print("failed\tno JSON summary"); return
    notes = []
    if s.get("successRate", 1) < 1:
        notes.append(f"success rate {s['successRate']:.4f}")
    # requests still in flight at -z's deadline are aborted: no error of the target's
    errs = {k: v for k, v in (r.get("errorDistribution") or {}).items() if k != "aborted due to deadline"}
    if errs:
        notes.append("errors: " + ", ".join(f"{k} {v}" for k, v in list(errs.items())[:3]))
    ok = s["requestsPerSec"] * s.get("successRate", 1)
    print(round(ok) if ok >= 1 else "failed", "; ".join(notes), sep="\t")

def cmd_table(path):  # TSV, first line the head, printed aligned
    rows = [l.rstrip("\n").split("\t") for l in open(path) if l.strip()]
    if not rows:
        return
    n = max(len(r) for r in rows)
    rows = [r + [""] * (n - len(r)) for r in rows]
    w = [max(len(r[i]) for r in rows) for i in range(n)]
    fmt = lambda r: "  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(r)).rstrip()
    print(fmt(rows[0]))
    print("  ".join("-" * x for x in w))
    for r in rows[1:]:
        print(fmt(r))

def cmd_long(samples, run_s, out_table):
    # samples: seconds VmRSS VmHWM fds ticks, about every second. Keeps one sample per 10 s mark,
    # writes the table (per minute, or per 10 s under 2 minutes) and prints: slope MB/h, from s.
    run_s = float(run_s)
    pts = []
    for line in open(samples):
        f = line.split()
        if len(f) >= 2 and f[1] != "-":
            pts.append((float(f[0]), int(f[1])))
    picked, mark = [], 10.0
    for t, rss in pts:
        if t >= mark:
            picked.append((t, rss))
            mark = (int(t // 10) + 1) * 10.0
    step = 60 if run_s >= 120 else 10
    with open(out_table, "w") as o:
        o.write("at\tVmRSS MB\n")
        for t, rss in picked:
            if int(round(t)) % step < 10 or (t, rss) == picked[-1]:
                o.write(f"{int(t // 60)}m{int(t % 60):02d}s\t{rss / 1024:.1f}\n")
    skip = 60.0 if run_s >= 120 else run_s / 3
    fit = [(t, r) for t, r in picked if t >= skip]
    if len(fit) < 2:
        print(f"failed\t{skip:.0f}\tfewer than 2 samples after {skip:.0f} s"); return
    n = len(fit)
    mt = sum(t for t, _ in fit) / n
    mr = sum(r for _, r in fit) / n
    den = sum((t - mt) ** 2 for t, _ in fit)
    slope = sum((t - mt) * (r - mr) for t, r in fit) / den  # KiB/s
    print(f"{slope * 3600 / 1024:.1f}\t{skip:.0f}\t{n} samples from {fit[0][0]:.0f} s to {fit[-1][0]:.0f} s, "
          f"{fit[0][1] / 1024:.1f} -> {fit[-1][1] / 1024:.1f} MB")

cmd, args = sys.argv[1].replace("-", "_"), sys.argv[2:]
globals()["cmd_" + cmd](*args)
PY
h() { python3 "$work/h.py" "$@" 2>>"$work/h.err" || echo failed; }
table() { h table "$1"; }

# --- running a tool -----------------------------------------------------------------------------
# run_tool NAME CPU LIMIT_S cmd...: runs cmd on core CPU in a session of its own (so that Ctrl-C
# reaches the trap at once), under GNU time when there is one, killed after LIMIT_S seconds.
# stdout and stderr go to $work/NAME.out and .err. Every second it samples the process in
# $work/NAME.samples ("seconds VmRSS-KiB VmHWM-KiB open-fds cpu-ticks"). Then it sets run_rc,
# run_rss (peak RSS, KiB), run_cpu (user + system seconds), run_wall (seconds), run_fds (the most
# descriptors open), each "-" when unknown.
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
sample() { # pid t0 -> one line of NAME.samples
  local pid=$1 t0=$2 k v rest rss=- hwm=- fds stat ticks=- now
  local -a f
  while read -r k v rest; do
    case $k in VmRSS:) rss=$v ;; VmHWM:) hwm=$v ;; esac
  done 2>/dev/null <"/proc/$pid/status" || return 0
  shopt -s nullglob
  f=("/proc/$pid/fd/"*)
  fds=${#f[@]}
  shopt -u nullglob
  if read -r stat <"/proc/$pid/stat" 2>/dev/null; then
    read -r -a f <<<"${stat##*) }"
    ticks=$((f[11] + f[12]))
  fi
  now=$EPOCHREALTIME
  now=$(((10#${now/./} - 10#${t0/./}) / 10000)) # centiseconds
  printf '%d.%02d %s %s %s %s\n' $((now / 100)) $((now % 100)) "$rss" "$hwm" "$fds" "$ticks"
}
run_tool() {
  local name=$1 cpu=$2 limit=$3 t0 t1 pid="" line
  local -a timer=()
  shift 3
  rm -f "$work/$name".{pid,time,samples,out,err}
  : >"$work/$name.samples"
  [ "$gnu_time" = 1 ] && timer=(/usr/bin/time -f '%M %U %S %e' -o "$work/$name.time")
  run_rc=0
  t0=$EPOCHREALTIME
  # the sh writes its pid, then becomes taskset, which becomes the tool: that pid is the tool's
  # shellcheck disable=SC2016 # $$ and $@ are the inner sh's
  setsid -w "${timer[@]}" timeout -k 5 "$limit" \
    sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$work/$name.pid" taskset -c "$cpu" "$@" \
    >"$work/$name.out" 2>"$work/$name.err" </dev/null &
  tool_pid=$!
  for _ in $(seq 200); do
    [ -s "$work/$name.pid" ] && break
    alive "$tool_pid" || break
    sleep 0.01
  done
  pid=$(cat "$work/$name.pid" 2>/dev/null || true)
  tool_real=$pid
  while alive "$pid"; do
    sample "$pid" "$t0" >>"$work/$name.samples"
    sleep 1
  done
  wait "$tool_pid" || run_rc=$?
  t1=$EPOCHREALTIME
  tool_pid="" tool_real=""
  run_rss=- run_cpu=- run_wall=- run_fds=-
  if [ -s "$work/$name.time" ] && line=$(tail -n1 "$work/$name.time") &&
    [[ $line =~ ^([0-9]+)\ ([0-9.]+)\ ([0-9.]+)\ ([0-9.]+)$ ]]; then
    run_rss=${BASH_REMATCH[1]}
    run_cpu=$(python3 -c "print(round(${BASH_REMATCH[2]} + ${BASH_REMATCH[3]}, 2))")
    run_wall=${BASH_REMATCH[4]}
  elif [ -s "$work/$name.samples" ]; then # no GNU time: the last second is missing from the CPU
    run_rss=$(awk '$3 != "-" && $3 > m {m = $3} END {print m ? m : "-"}' "$work/$name.samples")
    run_cpu=$(awk -v hz="$clk_tck" '$5 != "-" {c = $5} END {print c != "" ? c / hz : "-"}' "$work/$name.samples")
    run_wall=$(python3 -c "print(round($t1 - $t0, 2))")
  fi
  if [ -s "$work/$name.samples" ]; then
    run_fds=$(awk '$4 > m {m = $4} END {print m ? m : "-"}' "$work/$name.samples")
  fi
  if [ "$run_rc" = 124 ] || [ "$run_rc" = 137 ]; then
    note "$name: killed after its time limit of $limit s"
  fi
  return 0
}
# the last line of a run's output, for a note on why it failed
why() { { grep -hv '^\s*$' "$work/$1.err" "$work/$1.out" 2>/dev/null || true; } | tail -n1 | cut -c1-200; }
# slagate ran (0 pass, 1 fail, 4 invalid/inconclusive) and wrote its report
slagate_ran() { case $run_rc in 0 | 1 | 4) [ -s "$1" ] ;; *) return 1 ;; esac; }
kib_to_mib() { if [[ $1 =~ ^[0-9]+$ ]]; then python3 -c "print(f'{$1 / 1024:.1f}')"; else echo "$1"; fi; }
free_ports() { # N free TCP ports on 127.0.0.1
  python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))' "$1"
}
wait_port() { # port seconds: until something accepts on 127.0.0.1:port
  python3 - "$1" "$2" <<'PY'
import socket, sys, time
end = time.time() + float(sys.argv[2])
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
}

summary=$work/summary.tsv
printf 'figure\tslagate\tpeers\tgoal\tmet\n' >"$summary"
summ() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$summary"; }
# met VALUE OP GOAL -> yes, no, or - when the value is no number
met() {
  python3 -c '
import sys
v, op, g = sys.argv[1:]
try: v = float(v)
except ValueError: print("-"); sys.exit()
print("yes" if (v >= float(g) if op == ">=" else v <= float(g)) else "no")' "$1" "$2" "$3"
}
times() { local r; r=$(ratio "$1" "$2"); [ "$r" = - ] || echo " (${r}x)"; }
per_kb() { # rss-1 rss-N N, or rss-1 rss-N fds-1 fds-N: the rise in KiB per user (or descriptor)
  python3 -c '
import sys
a = sys.argv[1:]
try:
    n = int(a[2]) if len(a) == 3 else int(a[3]) - int(a[2])
    print(f"{(int(a[1]) - int(a[0])) / n:.2f}")
except (ValueError, ZeroDivisionError, IndexError):
    print("failed")' "$@"
}
ratio() { # a / b with 2 decimals (ratio a b raw: unrounded, to compare with a goal)
  python3 -c '
import sys
try:
    r = float(sys.argv[1]) / float(sys.argv[2])
    print(r if sys.argv[3:] == ["raw"] else f"{r:.2f}")
except (ValueError, ZeroDivisionError): print("-")' "$@"
}

load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
slagate_version=$("$bin" --version 2>/dev/null || echo '?')
[ "$nofile" -ge 10100 ] 2>/dev/null || note "the open-file limit is $nofile: figure 3 needs more than 10,000 descriptors per process"
[ "$gnu_time" = 1 ] || note "no GNU time at /usr/bin/time: peak RSS from VmHWM, CPU from /proc/PID/stat sampled every second"
echo "slagate engine at the limit: $slagate_version, $(nproc) cores; target on core $target_cpu, tools on core $tool_cpu; load average $load at the start"

# --- nginx: 1 worker on the target core ---------------------------------------------------------
if [ "$need_nginx" = 1 ]; then
  read -r port_nginx < <(free_ports 1)
  nginx_url="http://127.0.0.1:$port_nginx"
  nginx_version=$(nginx -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')
  mkdir -p "$work/nginx/tmp" "$work/nginx/logs"
  cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
worker_rlimit_nofile $nofile;
pid $work/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 12000; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  default_type text/plain;
  server { listen 127.0.0.1:$port_nginx backlog=16384; location / { return 200 "ok\n"; } }
}
NGINX
  nginx -t -q -e "$work/nginx/logs/error.log" -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>"$work/nginx-t.log" ||
    { cat "$work/nginx-t.log" >&2; exit 1; }
  taskset -c "$target_cpu" nginx -e "$work/nginx/logs/error.log" -p "$work/nginx" -c "$work/nginx/nginx.conf" \
    2>>"$work/nginx-t.log" || { cat "$work/nginx-t.log" >&2; exit 1; }
  for _ in $(seq 50); do [ -s "$work/nginx.pid" ] && break; sleep 0.1; done
  wait_port "$port_nginx" 5 || { log "nginx does not accept on $nginx_url"; cat "$work/nginx-t.log" >&2; exit 1; }
  echo "nginx $nginx_version (1 worker, worker_connections 12000) at $nginx_url"

  mkdir -p "$work/ng/profiles"
  cat >"$work/ng/sla.toml" <<SLA
[target]
base_url = "$nginx_url/"

[[endpoint]]
name = "/"
budget = { p99 = "1s" }
SLA
fi

# --- 1: closed model, no think time, 50 connections -------------------------------------------
fig1() {
  local conns=50 sg=failed wrk_rps="not installed" oha_rps="not installed" v sg_rss=- wrk_rss=- oha_rss=- t=$work/t1.tsv
  log "-- figure 1: closed model, $conns connections, ${secs} s: slagate"
  printf 'users = %s\nspawn_rate = 1000\nrun_time = "%ss"\n' "$conns" "$((secs + 1))" >"$work/ng/profiles/closed.toml"
  run_tool f1-slagate "$tool_cpu" $((secs + 60)) "$bin" check --sla "$work/ng/sla.toml" --profile closed \
    --host "$nginx_url" --json "$work/f1-slagate.json"
  if slagate_ran "$work/f1-slagate.json"; then
    v=$(h sg-rps "$work/f1-slagate.json")
    sg=${v%%$'\t'*}
    sg_rss=$run_rss
    [ -z "${v#*$'\t'}" ] || note "figure 1 slagate: ${v#*$'\t'} (exit $run_rc)"
  else
    note "figure 1 slagate failed (exit $run_rc): $(why f1-slagate)"
  fi
  if have wrk; then
    log "-- figure 1: wrk"
    run_tool f1-wrk "$tool_cpu" $((secs + 30)) wrk -t1 -c"$conns" -d"${secs}s" "$nginx_url/"
    wrk_rps=$(awk '/Requests\/sec/ {print int($2)}' "$work/f1-wrk.out")
    [ -n "$wrk_rps" ] || { wrk_rps=failed; note "figure 1 wrk failed (exit $run_rc): $(why f1-wrk)"; }
    wrk_rss=$run_rss
    if grep -qE 'Socket errors|Non-2xx' "$work/f1-wrk.out"; then
      note "figure 1 wrk: $(grep -E 'Socket errors|Non-2xx' "$work/f1-wrk.out" | tr -s ' ' | paste -sd';')"
    fi
  fi
  if have oha; then
    log "-- figure 1: oha"
    run_tool f1-oha "$tool_cpu" $((secs + 30)) oha -z "${secs}s" -c "$conns" --no-tui --output-format json "$nginx_url/"
    v=$(h oha "$work/f1-oha.out")
    oha_rps=${v%%$'\t'*}
    oha_rss=$run_rss
    [ -z "${v#*$'\t'}" ] || note "figure 1 oha: ${v#*$'\t'}"
    [ "$oha_rps" != failed ] || note "figure 1 oha failed (exit $run_rc): $(why f1-oha)"
  fi
  {
    printf 'figure 1\tslagate\twrk\toha\tgoal\tmet\n'
    printf 'requests/s, %s conns, %s s\t%s\t%s\t%s\t\t\n' "$conns" "$secs" "$sg" "$wrk_rps" "$oha_rps"
    printf 'slagate / peer\t\t%s\t%s\t>= 1.00x wrk\t%s\n' "$(ratio "$sg" "$wrk_rps")" "$(ratio "$sg" "$oha_rps")" \
      "$(met "$(ratio "$sg" "$wrk_rps" raw)" '>=' 1.0)"
    printf 'peak RSS MiB\t%s\t%s\t%s\t\t\n' "$(kib_to_mib "$sg_rss")" "$(kib_to_mib "$wrk_rss")" "$(kib_to_mib "$oha_rss")"
  } >"$t"
  echo
  echo "== 1. closed model, HTTP/1.1, no think time, $conns connections, against nginx"
  table "$t"
  summ "1 closed model req/s, $conns conns" "$sg" "wrk $wrk_rps$(times "$sg" "$wrk_rps"), oha $oha_rps$(times "$sg" "$oha_rps")" \
    ">= 1.0x wrk" "$(met "$(ratio "$sg" "$wrk_rps" raw)" '>=' 1.0)"
}

# --- 2: open model, the highest rate one core holds -------------------------------------------
fig2() {
  local rate i v ran=0 held_met best=none oha_best=none oha_v oha_ok t=$work/t2.tsv
  local -a f
  printf 'rate = %s\nrun_time = "%ss"\nmax_in_flight = 1000\n' "${rates[0]}" "$((secs + 1))" >"$work/ng/profiles/open.toml"
  printf 'rate/s\trequested\tsent\tachieved/s\tdropped\tlag p99 ms\tpeak in flight\tholds\toha achieved/s\toha holds\n' >"$t"
  for rate in "${rates[@]}"; do
    log "-- figure 2: open model at $rate/s, ${secs} s: slagate"
    run_tool "f2-slagate-$rate" "$tool_cpu" $((secs + 60)) "$bin" check --sla "$work/ng/sla.toml" --profile open \
      --host "$nginx_url" --rate "$rate" -t "$((secs + 1))s" --json "$work/f2-slagate-$rate.json"
    if slagate_ran "$work/f2-slagate-$rate.json"; then
      v=$(h sg-open "$work/f2-slagate-$rate.json")
    else
      v=$'failed\t-\t-\t-\t-\t-\tfailed\t'
      note "figure 2 slagate at $rate/s failed (exit $run_rc): $(why "f2-slagate-$rate")"
    fi
    IFS=$'\t' read -r -a f <<<"$v"
    for i in 0 1 2 3 4 5 6; do f[i]=${f[i]:-failed}; done
    [ -z "${f[7]:-}" ] || note "figure 2 slagate at $rate/s: ${f[7]} (exit $run_rc)"
    [[ ${f[6]} == yes ]] && best=$rate
    [[ ${f[6]} == failed ]] || ran=1
    oha_v="not installed" oha_ok=-
    if have oha; then
      log "-- figure 2: oha -q $rate"
      run_tool "f2-oha-$rate" "$tool_cpu" $((secs + 30)) oha -z "${secs}s" -q "$rate" -c 1000 --latency-correction \
        --no-tui --output-format json "$nginx_url/"
      oha_v=$(h oha "$work/f2-oha-$rate.out")
      [ -z "${oha_v#*$'\t'}" ] || note "figure 2 oha at $rate/s: ${oha_v#*$'\t'}"
      oha_v=${oha_v%%$'\t'*}
      [ "$oha_v" != failed ] || note "figure 2 oha at $rate/s failed (exit $run_rc): $(why "f2-oha-$rate")"
      oha_ok=$(met "$(ratio "$oha_v" "$rate" raw)" '>=' 0.995)
      [ "$oha_ok" = yes ] && oha_best=$rate
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rate" "${f[0]}" "${f[1]}" "${f[2]}" "${f[3]}" "${f[4]}" \
      "${f[5]}" "${f[6]}" "$oha_v" "$oha_ok" >>"$t"
  done
  have oha || oha_best="not installed"
  held_met=-
  [ "$ran" = 0 ] || held_met=$(met "${best/none/0}" '>=' 50000)
  echo
  echo "== 2. open model against nginx, max_in_flight 1000 (oha -c 1000), $secs s per step"
  table "$t"
  {
    printf 'figure 2\tslagate\toha\tgoal\tmet\n'
    printf 'highest rate held /s\t%s\t%s\t>= 50000\t%s\n' "$best" "$oha_best" "$held_met"
  } >"$work/t2s.tsv"
  table "$work/t2s.tsv"
  echo "(slagate holds: sent/requested >= 0.995, send lag p99 <= 1 ms, 0 dropped, over its measured window, the"
  echo " first second excluded; oha holds: achieved >= 99.5 % of the rate, over its whole run)"
  summ "2 open model, highest rate held" "$best" "oha $oha_best" ">= 50000/s" "$held_met"
}

# --- 3: memory per idle user --------------------------------------------------------------------
fig3() {
  local i n u v rss1=- rssN=- oha1=- ohaN=- fds1=- fdsN=- ofds1=- ofdsN=- per=- per_fd=-
  local oha_per="not installed" oha_per_fd="not installed" t=$work/t3.tsv
  local -a f
  for u in 1 10000; do
    log "-- figure 3: slagate, $u users thinking 60 s, 15 s"
    printf 'users = %s\nspawn_rate = 5000\nthink_time = "60s"\nrun_time = "15s"\n' "$u" >"$work/ng/profiles/idle$u.toml"
    run_tool "f3-slagate-$u" "$tool_cpu" 90 "$bin" check --sla "$work/ng/sla.toml" --profile "idle$u" \
      --host "$nginx_url" --json "$work/f3-slagate-$u.json"
    if slagate_ran "$work/f3-slagate-$u.json"; then
      v=$(h sg-closed "$work/f3-slagate-$u.json")
      IFS=$'\t' read -r -a f <<<"$v"
      for i in 0 1 2 3; do f[i]=${f[i]:--}; done
      [ -z "${f[4]:-}" ] || note "figure 3 slagate, $u users: ${f[4]} (exit $run_rc)"
      note "figure 3 slagate, $u users: ${f[0]} requests, ${f[2]} failed, ${f[3]} connections opened, at most $run_fds descriptors open, $run_wall s from start to exit"
      if [ "$u" = 1 ]; then rss1=$run_rss fds1=$run_fds; else rssN=$run_rss fdsN=$run_fds; fi
    else
      note "figure 3 slagate, $u users, failed (exit $run_rc): $(why "f3-slagate-$u")"
    fi
  done
  per=$(per_kb "$rss1" "$rssN" 9999)
  if have oha; then
    for n in 1 10000; do
      log "-- figure 3: oha -c $n -q 100, 15 s"
      run_tool "f3-oha-$n" "$tool_cpu" 60 oha -c "$n" -q 100 -z 15s --no-tui --output-format json "$nginx_url/"
      v=$(h oha "$work/f3-oha-$n.out")
      if [ "${v%%$'\t'*}" = failed ]; then
        note "figure 3 oha -c $n failed (exit $run_rc): $(why "f3-oha-$n")"
      else
        [ -z "${v#*$'\t'}" ] || note "figure 3 oha -c $n: ${v#*$'\t'}"
        if [ "$n" = 1 ]; then oha1=$run_rss ofds1=$run_fds; else ohaN=$run_rss ofdsN=$run_fds; fi
      fi
    done
    oha_per=$(per_kb "$oha1" "$ohaN" 9999)
    oha_per_fd=$(per_kb "$oha1" "$ohaN" "$ofds1" "$ofdsN")
  fi
  per_fd=$(per_kb "$rss1" "$rssN" "$fds1" "$fdsN")
  {
    printf 'figure 3\tslagate\toha\tgoal\tmet\n'
    printf 'peak RSS MiB, 1 user / -c 1\t%s\t%s\t\t\n' "$(kib_to_mib "$rss1")" "$(kib_to_mib "$oha1")"
    printf 'peak RSS MiB, 10000 users / -c 10000\t%s\t%s\t\t\n' "$(kib_to_mib "$rssN")" "$(kib_to_mib "$ohaN")"
    printf 'most descriptors open (1 / 10000)\t%s / %s\t%s / %s\t\t\n' "$fds1" "$fdsN" "$ofds1" "$ofdsN"
    printf 'KB per user / per -c connection (/ 9999)\t%s\t%s\t<= 12\t%s\n' "$per" "$oha_per" "$(met "$per" '<=' 12)"
    printf 'KB per descriptor actually held (/ its rise)\t%s\t%s\t\t\n' "$per_fd" "$oha_per_fd"
  } >"$t"
  echo
  echo "== 3. memory per idle user: 10,000 users thinking 60 s vs 1, 15 s runs against nginx (oha: -q 100 -z 15s)"
  table "$t"
  summ "3 KB per idle user at 10000" "$per" "oha $oha_per" "<= 12 KB" "$(met "$per" '<=' 12)"
}

# --- the fixture, for figures 4 and 5 ---------------------------------------------------------
fixture_url=""
start_fixture() {
  local port
  read -r port < <(free_ports 1)
  fixture_url="http://127.0.0.1:$port"
  rm -f "$work/fixture.pid"
  # its own time limit too, so that it cannot outlive a script killed with SIGKILL
  # shellcheck disable=SC2016 # $$ and $@ are the inner sh's
  setsid -w timeout -k 5 $((long_secs + 900)) sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$work/fixture.pid" \
    taskset -c "$target_cpu" "$bin" fixture --port "$port" --mode healthy \
    >"$work/fixture.out" 2>"$work/fixture.err" </dev/null &
  fixture_pid=$!
  for _ in $(seq 200); do [ -s "$work/fixture.pid" ] && break; sleep 0.01; done
  fixture_real=$(cat "$work/fixture.pid" 2>/dev/null || true)
  if wait_port "$port" 10 && alive "$fixture_real"; then
    log "fixture at $fixture_url on core $target_cpu"
    return 0
  fi
  note "the fixture did not start: $(tail -n1 "$work/fixture.err" "$work/fixture.out" 2>/dev/null | grep -v '^$' | tail -n1)"
  fixture_url=""
  return 1
}
fixture_check() { # note whether the fixture is still up after a figure
  alive "$fixture_real" || note "the fixture is gone after figure $1: $(tail -n1 "$work/fixture.err" 2>/dev/null)"
}

# --- 4: generator CPU at the stress profile ------------------------------------------------
fig4() {
  local i v cpu=failed t=$work/t4.tsv rps=- ok_run=0
  local -a f
  if [ -n "$fixture_url" ]; then
    log "-- figure 4: slagate, profile stress, 60 s, against the fixture"
    run_tool f4-slagate "$tool_cpu" 150 "$bin" check --sla sla.toml --profile stress --host "$fixture_url" \
      --run-time 60s --json "$work/f4-slagate.json"
    if slagate_ran "$work/f4-slagate.json"; then
      ok_run=1
      v=$(h sg-closed "$work/f4-slagate.json")
      IFS=$'\t' read -r -a f <<<"$v"
      for i in 0 1 2 3; do f[i]=${f[i]:--}; done
      rps=${f[1]}
      [ -z "${f[4]:-}" ] || note "figure 4 slagate: ${f[4]} (exit $run_rc)"
      note "figure 4 slagate: ${f[0]} requests (${f[1]}/s), ${f[2]} failed, ${f[3]} connections; $run_cpu s of CPU in $run_wall s, peak RSS $(kib_to_mib "$run_rss") MiB (exit $run_rc)"
      cpu=$(python3 -c '
import sys
try: print(f"{100 * float(sys.argv[1]) / float(sys.argv[2]):.2f}")
except (ValueError, ZeroDivisionError): print("failed")' "$run_cpu" "$run_wall")
    else
      note "figure 4 slagate failed (exit $run_rc): $(why f4-slagate)"
    fi
    fixture_check 4
  fi
  {
    printf 'figure 4\tslagate\tLocust\tgoal\tmet\n'
    printf 'CPU %% of one core, stress profile\t%s\tnot measured\t<= 2\t%s\n' "$cpu" "$(met "$cpu" '<=' 2)"
    [ "$ok_run" = 0 ] || printf 'requests/s\t%s\t\t\t\n' "$rps"
  } >"$t"
  echo
  echo "== 4. generator CPU, sla.toml + profiles/stress.toml (200 users, think 200-800 ms), 60 s against the fixture"
  table "$t"
  summ "4 CPU % of a core, stress profile" "$cpu" "Locust not measured" "<= 2 %" "$(met "$cpu" '<=' 2)"
}

# --- 5: stats memory over a long run -------------------------------------------------------
fig5() {
  local i v slope=failed skip from t=$work/t5.tsv
  local -a f
  if [ -n "$fixture_url" ]; then
    log "-- figure 5: slagate, open model at 5000/s for $long_run against the fixture (VmRSS every 10 s)"
    printf 'rate = 5000\nrun_time = "%ss"\nmax_in_flight = 5000\n' "$long_secs" >"$work/long.toml"
    run_tool f5-slagate "$tool_cpu" $((long_secs + 120)) "$bin" check --sla sla.toml --profile "$work/long.toml" \
      --host "$fixture_url" --rate 5000 -t "${long_secs}s" --json "$work/f5-slagate.json"
    v=$(h long "$work/f5-slagate.samples" "$long_secs" "$work/t5rss.tsv")
    IFS=$'\t' read -r slope skip from <<<"$v"
    if slagate_ran "$work/f5-slagate.json"; then
      v=$(h sg-long "$work/f5-slagate.json")
      IFS=$'\t' read -r -a f <<<"$v"
      for i in 0 1 2 3 4; do f[i]=${f[i]:--}; done
      note "figure 5 slagate: ${f[4]} requests, ${f[0]}/s achieved, ${f[1]} dropped, send lag p99 ${f[2]} ms, at most ${f[3]} in flight; peak RSS $(kib_to_mib "$run_rss") MiB, $run_cpu s of CPU in $run_wall s (exit $run_rc)"
      [ -z "${f[5]:-}" ] || note "figure 5 slagate: ${f[5]}"
    else
      note "figure 5 slagate failed (exit $run_rc): $(why f5-slagate)"
      slope=failed
    fi
    fixture_check 5
    echo
    echo "== 5. slagate's VmRSS at 5000 arrivals/s against the fixture, $long_run"
    table "$work/t5rss.tsv"
    [ "$slope" = failed ] || echo "slope after ${skip} s: $from"
  else
    echo
  fi
  {
    printf 'figure 5\tslagate\tpeer\tgoal\tmet\n'
    printf 'MB per hour, 5000/s for %s\t%s\tnone\t<= 64\t%s\n' "$long_run" "$slope" "$(met "$slope" '<=' 64)"
  } >"$t"
  [ -n "$fixture_url" ] || echo "== 5. stats memory over a long run"
  table "$t"
  summ "5 MB/hour, 5000/s for $long_run" "$slope" "-" "<= 64 MB/h" "$(met "$slope" '<=' 64)"
}

wanted_fig 1 && fig1
wanted_fig 2 && fig2
wanted_fig 3 && fig3
if wanted_fig 4 || wanted_fig 5; then
  start_fixture || true
  wanted_fig 4 && fig4
  wanted_fig 5 && fig5
fi

load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
echo
echo "== summary (load average $load at the start, $load_after at the end)"
table "$summary"
if ! have oha; then note "oha is not installed (cargo install oha --locked): its cells read \"not installed\""; fi
if [ ${#notes[@]} -gt 0 ]; then
  echo
  printf 'note: %s\n' "${notes[@]}"
fi
