#!/usr/bin/env bash
# Maximum throughput of slagate's engine on cleartext HTTP/1.1 beside wrk's, measured as
# anchors.md measures the peers (nginx with 1 worker on core 0, the tool on core 1, 50 keep-alive
# connections, no think time). Kept for its old usage: it is the h1 row of bench-transports.sh,
# which measures every transport and oha and hey too.
#
# Usage: scripts/bench-throughput.sh [seconds]      (default 5; installs nginx and wrk if missing)
set -euo pipefail
exec "$(dirname "$0")/bench-transports.sh" --rows h1 --tools wrk,slagate "${1:-5}" "${@:2}"
