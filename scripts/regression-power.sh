#!/usr/bin/env bash
# The regression gate's power and false-alarm rate, measured on the embedded simulator: how often
# `slagate compare BASE.json HEAD.json` calls a pair of runs a regression when the head really is
# slower, and when it is the same build. Every run is `slagate demo --profile light -r 10 -t 20s`
# (about 21 s), made one after another; for pair i = 01..N, in this order:
#
#   healthy-a-i        --mode healthy: the base of the pair's comparisons
#   slower-i           --mode slower: every latency ×1.3
#   healthy-b-i        --mode healthy again: the same build
#   slightly-slower-i  --mode slightly-slower: every latency ×1.15
#
# so that a base and its head are minutes apart, as a main-branch run and a pull request's are.
# Then each pair is judged with the repo's sla.toml (the tolerances of its [regression] table, the
# defaults where it has none), counted per comparison (a pair is a regression when the comparison
# as a whole says so: verdict "regression", exit 1):
#
#   30 % slower (power)        healthy-a-i against slower-i            goal ≥ 95 % regressions
#   15 % slower (power)        healthy-a-i against slightly-slower-i   goal ≥ 50 %
#   same build (false alarms)  healthy-a-i against healthy-b-i         goal ≤ 5 %
#
# When this slagate's compare takes several base runs (its --help says so), also with a history of
# 5 base runs (healthy-a-i, healthy-b-i, healthy-a-(i+1), healthy-b-(i+1), healthy-a-(i+2),
# wrapping to 01) against slower-i, slightly-slower-i and healthy-b-(i+2) (a healthy run that is
# not among the bases). Those comparisons share runs: their rates are not independent, and their
# intervals are too narrow.
#
# How to read it: k/n is how many of n comparisons the gate called a regression, then the rate and
# its exact 95 % (Clopper–Pearson) interval. Twenty pairs do not decide much: even 20/20 only shows
# a power ≥ 83 %, and 0/20 a false-alarm rate ≤ 17 %. A goal is shown met when its whole interval
# is on its side. The figures are information, not a test: the script exits 0 whenever it ran.
# `--compare-with BIN` adds a column with the same plain pairs judged by another slagate (an older
# build, say): the before/after figure.
#
# Runs are kept as DIR/MODE-i.json (their output in DIR/MODE-i.log), written as FILE.tmp and then
# moved into place. A run whose JSON is there is not made again: an interrupted collection resumes,
# and a larger --pairs extends one. DIR/machine.txt says whether the runs were made busy or quiet
# (or mixed), for the header. Every comparison's verdict is written to DIR/judged.txt.
#
# Usage: scripts/regression-power.sh [options]
#   --pairs N           pairs 01..N to collect and judge (default 20: 80 runs, about 30 min)
#   --busy              load the CPU for the whole collection with a second process (a python3
#                       busy loop); DIR defaults to target/regression-power/busy (else .../quiet)
#   --dir DIR           where the runs are kept
#   --judge-only        make no run: judge the runs DIR holds (a pair missing a run is judged on
#                       the comparisons it has; one missing its base is skipped)
#   --no-build          use target/release/slagate as it is (default: cargo build --release)
#   --compare-with BIN  also judge the plain pairs with another slagate binary, in a second column
#   --run-time T        every run's -t (default 20s). Anything else departs from the setup the
#                       goals are stated for: it is for trying the script out
#   -h, --help          this text
# Environment: SLAGATE=path (the binary to run and judge with; implies --no-build).
#
# Exit codes: 0 it ran (whatever the rates), 1 a run had bad input (exit 2: its log is shown) or a
# comparison failed (its command and stderr are shown), 2 bad options.
#
# An older BIN may not read what this build writes. When its compare refuses the first pair as it
# is, it is tried again at its built-in tolerances (only when sla.toml has no [regression] table,
# which asks for those same defaults) and then on copies of the runs as slagate.run/v2 (without
# the v3-only "connections" and per-endpoint "statuses", which no comparison reads; a run using a
# v3-only value is refused). The notes under the table say which it took.
set -euo pipefail
here=$PWD
cd "$(dirname "$0")/.."
repo=$PWD

usage() { sed -n '/^# Usage:/,/^# Environment:/s/^# \{0,1\}//p' "$0"; }

pairs=20
busy=0
dir=""
judge_only=0
build=1
other=""
run_time=20s
while [ $# -gt 0 ]; do
  case $1 in
    --pairs) pairs=${2:?--pairs needs a number}; shift ;;
    --pairs=*) pairs=${1#*=} ;;
    --busy) busy=1 ;;
    --dir) dir=${2:?--dir needs a directory}; shift ;;
    --dir=*) dir=${1#*=} ;;
    --judge-only) judge_only=1 ;;
    --no-build) build=0 ;;
    --compare-with) other=${2:?--compare-with needs a slagate binary}; shift ;;
    --compare-with=*) other=${1#*=} ;;
    --run-time) run_time=${2:?--run-time needs a duration}; shift ;;
    --run-time=*) run_time=${1#*=} ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if ! [[ $pairs =~ ^[1-9][0-9]?$ ]]; then # the names have two digits
  echo "--pairs must be a whole number from 1 to 99, not '$pairs'" >&2
  exit 2
fi
[ -n "$run_time" ] || { echo "--run-time needs a duration" >&2; exit 2; }

exec 3>&2 # the terminal's stderr, also from inside a run's redirections (the INT trap runs there)
log() { printf '%s\n' "$*" >&3; }
die() { log "error: $*"; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
# A path given on the command line or in the environment, as seen from where the script was run.
resolve() { (cd "$here" && realpath -m -- "$1"); }
shown() { case $1 in "$repo"/*) printf '%s\n' "${1#"$repo"/}" ;; *) printf '%s\n' "$1" ;; esac; }
duration() { if [ "$1" -lt 120 ]; then echo "$1 s"; else echo "$((($1 + 30) / 60)) min"; fi; }
quoted() { printf '%q ' "$@" | sed 's/ $//'; }

have python3 || { log "python3 is required (Debian: python3)"; exit 1; }
have realpath || { log "realpath is required (Debian: coreutils)"; exit 1; }

if [ -n "$dir" ]; then
  dir=$(resolve "$dir")
elif [ "$busy" = 1 ]; then
  dir=$repo/target/regression-power/busy
else
  dir=$repo/target/regression-power/quiet
fi
sla=$repo/sla.toml
[ -f "$sla" ] || die "$sla is missing: the comparisons take their tolerances from it"

if [ -n "${SLAGATE:-}" ]; then
  bin=$(resolve "$SLAGATE")
elif [ "$build" = 1 ]; then
  log "cargo build --release"
  cargo build --release --quiet
  bin=$repo/target/release/slagate
else
  bin=$repo/target/release/slagate
fi
[ -x "$bin" ] || die "no slagate binary at $bin"
if [ -n "$other" ]; then
  other=$(resolve "$other")
  [ -x "$other" ] || die "--compare-with: no executable at $other"
fi

# --- a temp dir, the run and the busy loop: cleaned up however the script ends ----------------
work=$(mktemp -d "${TMPDIR:-/tmp}/regression-power.XXXXXX")
mkdir "$work/nosla" "$work/v2" # nosla: an empty cwd, where a slagate finds no ./sla.toml
run_pid=""
run_tmp=""
hog_pid=""
alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[^)]*) Z' "/proc/$1/stat"; } # a zombie is gone
stop() { # a child of this script, by its pid: TERM, then KILL after 5 s
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 50); do alive "$1" || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  set +e
  [ -z "$run_pid" ] || stop "$run_pid"
  [ -z "$run_tmp" ] || rm -f "$run_tmp"
  [ -z "$hog_pid" ] || stop "$hog_pid"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM HUP

modes=(healthy-a slower healthy-b slightly-slower)
run_file() { printf '%s/%s-%s.json\n' "$dir" "$1" "$2"; } # mode pair

# --- collection ----------------------------------------------------------------------------------
if [ "$judge_only" = 0 ]; then
  todo=()
  for i in $(seq "$pairs"); do
    p=$(printf %02d "$i")
    for m in "${modes[@]}"; do
      [ -s "$(run_file "$m" "$p")" ] || todo+=("$m-$p")
    done
  done
  if [ ${#todo[@]} -eq 0 ]; then
    log "all runs of pairs 01..$(printf %02d "$pairs") are in $(shown "$dir"): nothing to collect"
  else
    if [[ " ${todo[*]} " == *" slightly-slower-"* ]]; then
      demo_help=$("$bin" demo --help 2>&1 || true)
      [[ $demo_help == *slightly-slower* ]] ||
        die "$bin demo has no --mode slightly-slower: build a slagate that has it"
    fi
    mkdir -p "$dir"
    # How the machine was, for the judge's header: busy, quiet, or mixed when a collection was
    # resumed the other way.
    if [ "$busy" = 1 ]; then state=busy; else state=quiet; fi
    was=$(head -n1 "$dir/machine.txt" 2>/dev/null || true)
    if [ -n "$was" ] && [ "$was" != "$state" ]; then
      log "warning: $(shown "$dir") holds runs made $was; these are made $state: the collection is mixed"
      state=mixed
    fi
    echo "$state" >"$dir/machine.txt"
    [ "$run_time" = 20s ] || log "note: -t $run_time departs from the setup the goals are stated for (-t 20s)"
    if [ "$busy" = 1 ]; then
      python3 -c 'while True: pass' </dev/null >/dev/null 2>&1 &
      hog_pid=$!
      sleep 0.2
      alive "$hog_pid" || die "the python3 busy loop did not start"
      log "busy: a python3 busy loop (pid $hog_pid) loads the CPU until the collection ends"
    fi
    log "== ${#todo[@]} runs to make in $(shown "$dir"), one after another (-t $run_time each)"
    made=0
    started=$SECONDS
    for name in "${todo[@]}"; do
      mode=${name%-[0-9][0-9]}
      pair=${name##*-}
      json=$(run_file "$mode" "$pair")
      mode=${mode%-a}
      mode=${mode%-b}
      left=""
      [ "$made" = 0 ] || left="; about $(duration $(((SECONDS - started) * (${#todo[@]} - made) / made))) left"
      log "-- run $((made + 1))/${#todo[@]}: $name (--mode $mode)$left"
      run_tmp=$json.tmp
      rm -f "$run_tmp"
      rc=0
      # In the background and waited for: Ctrl-C then reaches the trap at once, which stops it.
      "$bin" demo --profile light -r 10 -t "$run_time" --mode "$mode" --json "$run_tmp" \
        </dev/null >"$dir/$name.log" 2>&1 &
      run_pid=$!
      wait "$run_pid" || rc=$?
      run_pid=""
      if [ "$rc" = 2 ]; then
        log "error: $(quoted "$bin" demo --profile light -r 10 -t "$run_time" --mode "$mode" --json "$run_tmp") exited 2 (bad input):"
        cat "$dir/$name.log" >&3
        exit 1
      fi
      if [ -s "$run_tmp" ] && grep -q '"schema": *"slagate\.run/' "$run_tmp"; then
        mv -f "$run_tmp" "$json"
      else
        rm -f "$run_tmp"
        log "warning: $name wrote no run report (exit $rc): see $(shown "$dir/$name.log"); the next collection makes it again"
      fi
      run_tmp=""
      made=$((made + 1))
    done
    if [ -n "$hog_pid" ]; then
      stop "$hog_pid"
      hog_pid=""
    fi
    log "collected in $(duration $((SECONDS - started)))"
  fi
fi

# --- judging -------------------------------------------------------------------------------------
[ -d "$dir" ] || die "no runs: $(shown "$dir") does not exist"

cmp_help=$("$bin" compare --help 2>&1 || true)
usage_line=$(grep -m1 '^Usage:' <<<"$cmp_help" || true)
if [[ $usage_line == *...* ]] ||
  grep -qiE 'several base|base runs|more than one base|all but the last|every [a-z. ]* but the last' <<<"$cmp_help"; then
  if [ "$pairs" -ge 3 ]; then history=yes; else history=one-pair; fi
else
  history=two-runs
fi

regression_table=0
grep -qE '^[[:space:]]*\[regression\]' "$sla" && regression_table=1

manifest=$work/manifest.tsv
notes=$work/notes
: >"$manifest"
: >"$notes"
cmd=()
# One comparison's outcome for the report: who section kind pair exit out-json command runs...
record() {
  local who=$1 section=$2 kind=$3 pair=$4 rc=$5 out=$6
  shift 6
  {
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s' "$who" "$section" "$kind" "$pair" "$rc" "$out" "$(quoted "${cmd[@]}")"
    printf '\t%s' "$@"
    printf '\n'
  } >>"$manifest"
}
compare_failed() { # rc
  log "error: exit $1 from"
  log "  $(quoted "${cmd[@]}")"
  [ "$who" = cur ] || log "  (run in $work/nosla)"
  cat "$out.stderr" >&3
  exit 1
}

# This slagate: from the repo, with the repo's sla.toml.
compare_cur() { # out runs... (the last is the head)
  local o=$1
  shift
  cmd=("$bin" compare "$@" --sla "$sla" --json "$o")
  "${cmd[@]}" >"$o.stdout" 2>"$o.stderr"
}

# The other slagate, in the way chosen by its first comparison (other_way: sla:runs).
other_way=""
v2_copy() { # run.json: the path of its copy as slagate.run/v2 (made once)
  local copy
  copy=$work/v2/$(basename "$1")
  if [ ! -s "$copy" ]; then
    python3 - "$1" "$copy.tmp" <<'PY' || return 1
import json, sys
src, dst = sys.argv[1:]
d = json.load(open(src))
if d.get("schema") == "slagate.run/v3":
    v3_kinds = {"tls_error", "goaway", "stream_reset", "stream_refused"}
    def walk(v):
        if isinstance(v, dict):
            if v.get("status") == "not_judged":
                sys.exit(f"{src}: a check is not_judged, which slagate.run/v2 cannot say")
            if v.get("kind") in v3_kinds:
                sys.exit(f"{src}: failures of kind {v['kind']}, which slagate.run/v2 cannot say")
            v.pop("statuses", None)  # v3 only, per endpoint and in the total
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    d["schema"] = "slagate.run/v2"
    d.pop("connections", None)  # v3 only
    walk(d)
json.dump(d, open(dst, "w"), indent=2)
PY
    mv -f "$copy.tmp" "$copy"
  fi
  printf '%s\n' "$copy"
}
compare_other_as() { # way out runs...
  local way=$1 o=$2 f c runs=() sla_args=()
  shift 2
  : >"$o.stderr"
  for f in "$@"; do
    if [ "${way#*:}" = v2 ]; then
      c=$(v2_copy "$f" 2>>"$o.stderr") || return 2
      runs+=("$c")
    else
      runs+=("$f")
    fi
  done
  [ "${way%:*}" = defaults ] || sla_args=(--sla "$sla")
  cmd=("$other" compare "${runs[@]}" "${sla_args[@]}" --json "$o")
  (cd "$work/nosla" && "${cmd[@]}") >"$o.stdout" 2>>"$o.stderr"
}
# What a slagate's stderr says went wrong: its "× ..." lines (with their "│ ..." continuations).
reason() {
  local r
  r=$(awk '
    /^[[:space:]]*×/ { if (r != "") print r; sub(/^[[:space:]]*× */, ""); r = $0; next }
    r != "" && /^[[:space:]]*│/ { sub(/^[[:space:]]*│ */, ""); r = r " " $0; next }
    { if (r != "") print r; r = "" }
    END { if (r != "") print r }' "$1" | awk '!seen[$0]++' | paste -sd';' | sed 's/;/; /g')
  [ -n "$r" ] || r=$(grep -m1 -v '^[[:space:]]*$' "$1" || true)
  printf '%s\n' "${r:-no message}"
}
describe_way() {
  case $1 in
    sla:as-is) echo "the runs as they are, with --sla sla.toml" ;;
    defaults:as-is) echo "the runs as they are, at its built-in tolerances" ;;
    sla:v2) echo "the runs as slagate.run/v2, with --sla sla.toml" ;;
    defaults:v2) echo "the runs as slagate.run/v2, at its built-in tolerances" ;;
  esac
}
compare_other() { # out runs...
  local o=$1 way t why rc first_rc="" first_cmd=() first_err=$work/first.stderr ways=() tried=()
  shift
  if [ -n "$other_way" ]; then
    compare_other_as "$other_way" "$o" "$@"
    return
  fi
  # The first comparison: find how this binary can compare these runs at these tolerances.
  ways=(sla:as-is)
  [ "$regression_table" = 1 ] || ways+=(defaults:as-is)
  ways+=(sla:v2)
  [ "$regression_table" = 1 ] || ways+=(defaults:v2)
  for way in "${ways[@]}"; do
    rc=0
    compare_other_as "$way" "$o" "$@" || rc=$?
    if [ "$rc" = 0 ] || [ "$rc" = 1 ]; then
      other_way=$way
      for t in "${tried[@]}"; do printf '%s\n' "$t" >>"$notes"; done
      if [ "$way" != sla:as-is ]; then
        printf '%s\n' "so $(shown "$other") compares $(describe_way "$way")" >>"$notes"
      fi
      if [ "${way%:*}" = defaults ]; then
        printf '%s\n' "its built-in tolerances are what sla.toml asks for: it has no [regression] table (the old binary's --help defaults: its method at its own defaults)" >>"$notes"
      fi
      if [ "${way#*:}" = v2 ]; then
        printf '%s\n' "a v2 copy lacks only the v3-only \"connections\" and per-endpoint \"statuses\", which no comparison reads" >>"$notes"
      fi
      return "$rc"
    fi
    why=$(reason "$o.stderr")
    for t in "${tried[@]}"; do [[ $t == *"): $why" ]] && why=""; done # said already
    [ -z "$why" ] || tried+=("$(shown "$other") refused $(describe_way "$way") (exit $rc): $why")
    if [ -z "$first_rc" ]; then
      first_rc=$rc
      first_cmd=("${cmd[@]}")
      cp "$o.stderr" "$first_err"
    fi
  done
  # Nothing worked: show the plain attempt, and how the last one failed.
  log "error: $(shown "$other") cannot compare these runs. Exit $first_rc from"
  log "  $(quoted "${first_cmd[@]}")   (in $work/nosla)"
  cat "$first_err" >&3
  log "and, last tried ($(describe_way "$way")), exit $rc from"
  log "  $(quoted "${cmd[@]}")   (in $work/nosla)"
  cat "$o.stderr" >&3
  exit 1
}

judge() { # who section kind pair runs... (the last is the head); skipped when a run is missing
  local who=$1 section=$2 kind=$3 pair=$4 f rc=0 out
  shift 4
  for f in "$@"; do [ -s "$f" ] || return 0; done
  out=$work/$who-$section-$kind-$pair.json
  "compare_$who" "$out" "$@" || rc=$?
  case $rc in 0 | 1) ;; *) compare_failed "$rc" ;; esac
  record "$who" "$section" "$kind" "$pair" "$rc" "$out" "$@"
}

whos=(cur)
[ -z "$other" ] || whos+=(other)
log "== judging pairs 01..$(printf %02d "$pairs") of $(shown "$dir")"
for i in $(seq "$pairs"); do
  p=$(printf %02d "$i")
  q=$(printf %02d $((i % pairs + 1)))
  r=$(printf %02d $(((i + 1) % pairs + 1)))
  a=$(run_file healthy-a "$p")
  b=$(run_file healthy-b "$p")
  for who in "${whos[@]}"; do
    judge "$who" plain slower "$p" "$a" "$(run_file slower "$p")"
    judge "$who" plain slightly-slower "$p" "$a" "$(run_file slightly-slower "$p")"
    judge "$who" plain same-build "$p" "$a" "$b"
  done
  if [ "$history" = yes ]; then
    bases=("$a" "$b" "$(run_file healthy-a "$q")" "$(run_file healthy-b "$q")" "$(run_file healthy-a "$r")")
    judge cur history slower "$p" "${bases[@]}" "$(run_file slower "$p")"
    judge cur history slightly-slower "$p" "${bases[@]}" "$(run_file slightly-slower "$p")"
    judge cur history same-build "$p" "${bases[@]}" "$(run_file healthy-b "$r")"
  fi
done

rev=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
if [ "$rev" != '?' ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  rev="$rev, with uncommitted changes"
fi
state=$(head -n1 "$dir/machine.txt" 2>/dev/null || true)
case $state in
  busy) machine="busy: a python3 busy loop loaded the CPU beside every run" ;;
  quiet) machine="quiet: nothing else was started beside the runs" ;;
  mixed) machine="MIXED: some runs were made with a busy loop beside them, some without" ;;
  *)
    if [ "$busy" = 1 ]; then
      machine="busy, as --busy says (not recorded in $(shown "$dir"))"
    else
      machine="quiet, as no --busy says (not recorded in $(shown "$dir"): pass --busy for runs made busy)"
    fi ;;
esac

# --- the report ----------------------------------------------------------------------------------
python3 - "$manifest" "$notes" "$dir/judged.txt" "$pairs" "$run_time" "$machine" "$bin" "$other" \
  "$rev" "$(shown "$dir")" "$history" <<'PY'
import json, math, os, sys

(manifest, notes_file, judged_file, asked, run_time, machine, binary, other, rev, dir_shown,
 history) = sys.argv[1:]
asked = int(asked)

def fail(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(1)

entries = []
for line in open(manifest):
    who, section, kind, pair, rc, out, cmd, *runs = line.rstrip("\n").split("\t")
    try:
        doc = json.load(open(out))
    except (OSError, ValueError) as e:
        fail(f"no comparison JSON from\n  {cmd}\n({e})")
    verdict = doc.get("verdict")
    if verdict not in ("regression", "ok") or (verdict == "regression") != (rc == "1"):
        fail(f"exit {rc} but verdict {verdict!r} from\n  {cmd}")
    regressed = [f"{r.get('endpoint')} {r.get('metric')}" for r in doc.get("rows") or []
                 if isinstance(r, dict) and r.get("verdict") == "regression"]
    headline = doc.get("headline") if isinstance(doc.get("headline"), str) else ""
    entries.append(dict(who=who, section=section, kind=kind, pair=pair, verdict=verdict,
                        runs=runs, regressed=regressed, headline=headline))

# What the runs were, as their own JSON says.
def num(x):
    return f"{x:g}" if isinstance(x, (int, float)) else "?"

settings, invalid, seen = {}, 0, set()
for e in entries:
    for r in e["runs"]:
        if r in seen:
            continue
        seen.add(r)
        try:
            d = json.load(open(r))
        except (OSError, ValueError):
            continue
        p = d.get("profile") or {}
        key = (p.get("name", "?"), num(p.get("users")), num(p.get("spawn_rate")), num(p.get("run_time")))
        settings[key] = settings.get(key, 0) + 1
        invalid += bool(d.get("invalid"))
setup = ("light", "10", "10", "20")
if settings:
    runs_line = "; ".join(f"profile {n} ({u} users), -r {r} -t {t}s" + (f" ({c} runs)" if len(settings) > 1 else "")
                          for (n, u, r, t), c in sorted(settings.items(), key=lambda kv: -kv[1]))
    runs_line += ", made one after another"
    departs = any(k != setup for k in settings)
else:
    runs_line = f"profile light, -r 10 -t {run_time} (no run judged)"
    departs = run_time != "20s"
if departs:
    runs_line += " (departs from the issue's setup: --profile light -r 10 -t 20s)"

# Exact (Clopper–Pearson) 95 % interval of a binomial rate, by bisection on the binomial CDF.
def cdf(k, n, p):  # P(X <= k), X ~ Binomial(n, p)
    if k < 0:
        return 0.0
    if k >= n or p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    lp, lq = math.log(p), math.log1p(-p)
    return min(1.0, sum(math.exp(math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1)
                                 + j * lp + (n - j) * lq) for j in range(k + 1)))

def solve(f, target):  # f decreasing in p on [0, 1]: the p where f(p) = target
    lo, hi = 0.0, 1.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if f(mid) > target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2

def interval(k, n, alpha=0.05):
    # lower: P(X >= k) = alpha/2, i.e. P(X <= k-1) = 1 - alpha/2; upper: P(X <= k) = alpha/2
    lower = 0.0 if k == 0 else solve(lambda p: cdf(k - 1, n, p), 1 - alpha / 2)
    upper = 1.0 if k == n else solve(lambda p: cdf(k, n, p), alpha / 2)
    return lower, upper

kinds = [("slower", "30 % slower (power)", "≥95 %", lambda lo, hi: lo >= 0.95, lambda lo, hi: hi < 0.95),
         ("slightly-slower", "15 % slower (power)", "≥50 %", lambda lo, hi: lo >= 0.50, lambda lo, hi: hi < 0.50),
         ("same-build", "same build (false alarms)", "≤ 5 %", lambda lo, hi: hi <= 0.05, lambda lo, hi: lo > 0.05)]

def tally(who, section, kind):
    es = [e for e in entries if (e["who"], e["section"], e["kind"]) == (who, section, kind)]
    return sum(e["verdict"] == "regression" for e in es), len(es)

def cell(who, section, kind):
    k, n = tally(who, section, kind)
    if n == 0:
        return "no comparison"
    lo, hi = interval(k, n)
    return f"{k}/{n}".ljust(6) + f"{round(100 * k / n):>3d} %  [{round(100 * lo)}, {round(100 * hi)}]"

judged = sorted({e["pair"] for e in entries if e["who"] == "cur" and e["section"] == "plain"})
complete = [p for p in judged
            if len({e["kind"] for e in entries if e["who"] == "cur" and e["section"] == "plain" and e["pair"] == p}) == 3]
pairs_line = f"{len(judged)} judged of {asked} asked (pairs 01..{asked:02d})"
if len(complete) < len(judged):
    pairs_line += f", {len(judged) - len(complete)} of them missing a head run (each row counts its own comparisons)"
if len(judged) < asked:
    pairs_line += f"; {asked - len(judged)} skipped: no base run, or no head run at all"

print()
print("== the regression gate's power and false alarms, `slagate compare` on `slagate demo` runs")
print(f"runs:     {runs_line}")
if invalid:
    print(f"          {invalid} of {len(seen)} runs are INVALID (the load generator did not deliver the profile)")
print(f"pairs:    {pairs_line}")
print(f"machine:  {machine}")
print(f"slagate:  {binary} (repo at {rev})")
if other:
    print(f"old:      {other}")
print(f"runs in:  {dir_shown}; every comparison's verdict in {dir_shown}/judged.txt")
print()

cols = ["cur"] + (["other"] if other else [])
heads = {"cur": "slagate", "other": f"old ({other})"}
plain = {w: [cell(w, "plain", k) for k, *_ in kinds] for w in cols}
hist = [cell("cur", "history", k) for k, *_ in kinds] if history == "yes" else []
width = max(len(c) for c in plain["cur"] + hist + [heads["cur"]]) + 6

def row(label, goal, cells):
    cells = list(cells)
    text = label.ljust(31) + goal.ljust(8)
    for i, c in enumerate(cells):
        text += c if i == len(cells) - 1 else c.ljust(width)
    return text.rstrip()

print(row("", "goal", [heads[w] for w in cols]))
for i, (kind, label, goal, *_) in enumerate(kinds):
    print(row(label, goal, [plain[w][i] for w in cols]))
if history == "yes":
    print("with 5 base runs (overlapping):")
    for i, (kind, label, goal, *_) in enumerate(kinds):
        print(row(label, goal, [hist[i]]))
elif history == "one-pair":
    print("with 5 base runs: not judged (it takes three pairs' runs: --pairs 3 or more)")
else:
    print("with 5 base runs: not judged (this slagate's compare takes exactly two runs)")

print()
print("k/n: comparisons called a regression, then the rate and its exact 95 % (Clopper–Pearson) interval.")
# A goal is met when the whole interval is on its side, missed when it is all on the other.
for w, section, title in [("cur", "plain", "slagate"), ("cur", "history", "slagate, 5 bases"),
                          ("other", "plain", "old")]:
    states = []
    for kind, label, goal, met, missed in kinds:
        k, n = tally(w, section, kind)
        if n:
            lo, hi = interval(k, n)
            state = "met" if met(lo, hi) else "missed" if missed(lo, hi) else "undecided"
            states.append(f"{label.split(' (')[0]} {state}")
    if states:
        print(f"goals, by the whole interval ({title}): " + ", ".join(states))
notes = [n for n in dict.fromkeys(open(notes_file).read().splitlines()) if n]
if history == "yes":
    notes.insert(0, "the rows with 5 base runs overlap: every healthy run serves in up to five of those comparisons, so their outcomes are not independent and their intervals are too narrow")
for n in notes:
    print(f"note: {n}")

# Every comparison, for a look at which rows made a verdict.
labels = {k: label.split(" (")[0] for k, label, *_ in kinds}
who_label = {"cur": "slagate", "other": "old"}
lines = [f"# pair, kind, binary, verdict, the rows that regressed, the comparison's headline",
         f"# slagate = {binary} (repo at {rev})" + (f"; old = {other}" if other else "")]
order = {"slower": 0, "slightly-slower": 1, "same-build": 2}
for e in sorted(entries, key=lambda e: (e["pair"], e["section"] != "plain", order[e["kind"]], e["who"])):
    kind = ("5 bases: " if e["section"] == "history" else "") + labels[e["kind"]]
    n = len(e["regressed"])
    detail = f"{n} row{'s' * (n != 1)}: " + ", ".join(e["regressed"]) if n else "-"
    text = f"{e['pair']}  {kind:<25} {who_label[e['who']]:<8} {e['verdict']:<10}  {detail}"
    if e["headline"]:
        text += f"  | {e['headline']}"
    lines.append(text)
tmp = judged_file + ".tmp"
with open(tmp, "w") as f:
    f.write("\n".join(lines) + "\n")
os.replace(tmp, judged_file)
PY
