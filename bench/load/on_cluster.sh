#!/usr/bin/env bash
# The load test with faults from nothing, in one command (`make load-test`): start the local
# cluster (deploy/cluster.py), run bench/load/run_with_faults.py against it, check the
# invariants on the primary, and stop the cluster whatever happened. Extra arguments go to
# run_with_faults.py (for example --baseline-seconds 60 for a short run).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
trap '$PY deploy/cluster.py stop' EXIT
$PY deploy/cluster.py start --tickets "${CLUSTER_TICKETS:-3000}"
set -a
# shellcheck disable=SC1091
. .cluster/env
set +a
# The driver's preparation and the checks go straight to the primary, not through PgBouncer.
export DATABASE_URL=$PRIMARY_DATABASE_URL DATABASE_POOLER=
out=bench/load/out/$(date -u +%Y%m%dT%H%M%SZ)
$PY bench/load/run_with_faults.py --host "http://127.0.0.1:${CLUSTER_NGINX_PORT:-8080}" \
    --out "$out" "$@"
$PY bench/load/check_invariants.py --records "$out"
echo "Report: $out/report.md, invariants: $out/invariants.json"
