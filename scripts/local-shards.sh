#!/usr/bin/env bash
# Scale-out on one machine, as a cluster would do it with N pods or CI legs: N shard processes of
# one profile against the embedded Resource Agent simulator, all started on one instant with
# --start-at, then `slagate merge`; then one process making the whole profile with the same seed.
# Prints the figures side by side: each shard's requests, then the merged run's requests,
# verdict and percentiles against the single process's. (That the merged counts and histograms
# are the exact sums of the shards' is asserted by `cargo test --test it shards`.)
#
#   scripts/local-shards.sh [N] [PROFILE] [-- extra check flags]
#   scripts/local-shards.sh 3 light -- -u 9 -r 9 -t 20s
#
# Everything goes to 127.0.0.1 on an ephemeral port and stops by itself. Reports are left in
# target/local-shards/.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-2}
profile=${2:-light}
shift $(( $# >= 2 ? 2 : $# ))
[ "${1:-}" = "--" ] && shift
extra=("$@")
[ ${#extra[@]} -eq 0 ] && extra=(-u 6 -r 6 -t 15s)

# SLAGATE=path/to/slagate uses that binary; by default the release build, brought up to date.
bin=${SLAGATE:-}
if [ -z "$bin" ]; then
  cargo build --release --locked
  bin=target/release/slagate
fi
out=target/local-shards
rm -rf "$out"
mkdir -p "$out/shards"

# The simulator on a free port, printed on its first line.
"$bin" fixture --port 0 > "$out/fixture.log" 2>&1 &
fixture=$!
trap 'kill $fixture 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  url=$(grep -o 'http://127.0.0.1:[0-9]*' "$out/fixture.log" | head -n 1 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "the simulator did not start" >&2; exit 3; }

start=$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%S.%3NZ)
echo "# $n shards of profile $profile (${extra[*]}) against $url, starting at $start"
pids=()
for k in $(seq "$n"); do
  "$bin" check --profile "$profile" --host "$url" "${extra[@]}" --seed 7 \
    --shard "$k/$n" --start-at "$start" --run-id "local-$start" \
    --json "$out/shards/shard-$k-of-$n.json" > "$out/shard-$k.txt" 2> "$out/shard-$k.err" &
  pids+=($!)
done
for k in $(seq "$n"); do
  wait "${pids[$((k - 1))]}" || { echo "shard $k/$n failed:"; cat "$out/shard-$k.err"; exit 1; }
done

set +e
"$bin" merge "$out/shards" --json "$out/merged.json" --markdown "$out/merged.md" > "$out/merged.txt" 2> "$out/merged.err"
merged_code=$?
"$bin" check --profile "$profile" --host "$url" "${extra[@]}" --seed 7 --progress-interval 0 \
  --json "$out/single.json" > "$out/single.txt" 2> "$out/single.err"
single_code=$?
set -e

# Figures off the terminal tables: the Aggregated request count and the verdict line.
row() { awk -F'┆' '/Aggregated/ { gsub(/ /, "", $3); print $3; exit }' "$1"; }
verdict() { grep -E '^(SLA|RUN|SHARD) ' "$1" | tail -n 1; }
printf '\n%-10s %12s  %s\n' "" "requests" "verdict (exit code)"
for k in $(seq "$n"); do
  printf '%-10s %12s  %s\n' "shard $k" "$(row "$out/shard-$k.txt")" "$(verdict "$out/shard-$k.txt" | cut -c1-60)…"
done
printf '%-10s %12s  %s (%s)\n' "merged" "$(row "$out/merged.txt")" "$(verdict "$out/merged.txt")" "$merged_code"
printf '%-10s %12s  %s (%s)\n' "single" "$(row "$out/single.txt")" "$(verdict "$out/single.txt")" "$single_code"
echo
echo "Percentiles (ms), merged then single:"
grep -A9 '^Response time percentiles' "$out/merged.txt" | tail -n +2
grep -A9 '^Response time percentiles' "$out/single.txt" | tail -n +2
echo "reports: $out/"
