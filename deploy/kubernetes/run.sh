#!/usr/bin/env bash
# One scale-out run on Kubernetes, gated: N shards of one profile start on one instant, then
# `slagate merge` judges them together, and this script exits with merge's code (0 pass,
# 1 SLA failed, 2 shards refused, 3 a report could not be written or merge did not run,
# 4 INVALID). README § "On Kubernetes".
#
#   deploy/kubernetes/run.sh
#   RUN_ID=nightly-42 START_IN=300 NAMESPACE=load-testing deploy/kubernetes/run.sh
#
# RUN_ID    the run's name, shared by every shard and the merge, and its folder on the
#           results volume (default: the UTC time, 20261202-183000)
# START_IN  seconds from now to the common start: long enough for every pod to be scheduled
#           and pull the image (default 120); a shard that starts later says so
# TIMEOUT   seconds to wait for each Job (default 3600)
# NAMESPACE passed to kubectl as --namespace (default: the context's)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
run_id=${RUN_ID:-$(date -u +%Y%m%d-%H%M%S)}
start_in=${START_IN:-120}
timeout=${TIMEOUT:-3600}

# The run id names a folder and a ConfigMap value: nothing a path or YAML could misread.
if ! [[ $run_id =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
  echo "run.sh: RUN_ID must be letters, digits, '.', '_' or '-', not '$run_id'" >&2
  exit 2
fi
for n in START_IN:"$start_in" TIMEOUT:"$timeout"; do
  if ! [[ ${n#*:} =~ ^[0-9]+$ ]]; then
    echo "run.sh: ${n%%:*} must be a number of seconds, not '${n#*:}'" >&2
    exit 2
  fi
done

k() { kubectl ${NAMESPACE:+--namespace "$NAMESPACE"} "$@"; }

# An instant, not "+120s": every pod must wait for the same one, whenever it starts.
at=$(($(date +%s) + start_in))
start_at=$(date -u -d "@$at" +%Y-%m-%dT%H:%M:%SZ 2> /dev/null || date -u -r "$at" +%Y-%m-%dT%H:%M:%SZ)

# Waits until the Job is Complete or Failed (either: a failed shard is merge's to name).
finished() {
  local job=$1 deadline=$(($(date +%s) + timeout)) state
  while :; do
    state=$(k get job "$job" -o jsonpath='{.status.conditions[?(@.status=="True")].type}')
    case " $state " in
      *" Complete "* | *" Failed "*)
        echo "run.sh: job/$job: $state"
        return 0
        ;;
    esac
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "run.sh: job/$job has not finished after ${timeout}s" >&2
      return 1
    fi
    sleep 10
  done
}

echo "run.sh: run $run_id, shards start at $start_at"
# Job templates cannot be changed: the last run's Jobs go first (its results stay).
k delete job slagate-shards slagate-merge --ignore-not-found --wait=true
k create configmap slagate-run --from-literal=run-id="$run_id" --from-literal=start-at="$start_at" \
  --dry-run=client -o yaml | k apply -f -
k apply -k "$here"
echo "run.sh: follow the shards with: kubectl logs -f --prefix -l app.kubernetes.io/component=shard"

finished slagate-shards || exit 3
k patch job slagate-merge --type=merge -p '{"spec":{"suspend":false}}'
finished slagate-merge || exit 3
k logs job/slagate-merge || true

code=$(k get pods -l batch.kubernetes.io/job-name=slagate-merge \
  -o jsonpath='{.items[0].status.containerStatuses[0].state.terminated.exitCode}')
if ! [[ $code =~ ^[0-9]+$ ]]; then
  echo "run.sh: the merge pod did not run to an exit code (kubectl describe job slagate-merge)" >&2
  exit 3
fi
echo "run.sh: slagate merge exited $code; reports in /results/$run_id/report/ on the claim slagate-results"
exit "$code"
