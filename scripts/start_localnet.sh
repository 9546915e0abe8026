#!/usr/bin/env bash
# Starts a local Phantom network: `bin/phantom localnet` (4 validators over QUIC on
# 127.0.0.1:9000-9003, RPC/explorer on 8645-8648, metrics on 9100-9103, a miner), and
# says where the Prometheus and Grafana configs are. Any flag is passed to
# `phantom localnet` (see `bin/phantom localnet --help`), e.g. --duration_s 60.
#   --observability   also run Prometheus (:9090) and Grafana (:3000, admin/admin) with
#                     docker compose (docs/observability/docker-compose.yml); stopped on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

observability=0
args=()
for a in "$@"; do
  if [ "$a" = "--observability" ]; then observability=1; else args+=("$a"); fi
done

# Build what is missing (Bun toolchain, native library); idempotent and quick when done.
if [ ! -x .tools/bun/node_modules/.bin/bun ] || [ ! -d native/out ]; then
  echo "[start_localnet] setting up the toolchain (scripts/setup)"
  bash scripts/setup
fi

cat <<INFO
[start_localnet] observability files:
  Prometheus scrape config: $ROOT/docs/prometheus/prometheus.yml (targets 127.0.0.1:9100-9103)
  Prometheus alert rules:   $ROOT/docs/prometheus/phantom-node-alerts.yaml
  Grafana dashboard:        $ROOT/docs/grafana/phantom-node-mempool-dashboard.json
  Grafana provisioning:     $ROOT/docs/observability/grafana-datasource.yml, grafana-dashboards.yml
  Both at once:             docker compose -f docs/observability/docker-compose.yml up -d
                            (Prometheus http://localhost:9090, Grafana http://localhost:3000 admin/admin)
  If you change --base_metrics_port, edit the targets in prometheus.yml to match.
INFO

if [ "$observability" -eq 0 ]; then
  exec bin/phantom localnet "${args[@]}"
fi

compose=(docker compose -f "$ROOT/docs/observability/docker-compose.yml")
if ! command -v docker >/dev/null || ! docker compose version >/dev/null 2>&1; then
  echo "[start_localnet] --observability needs docker with the compose plugin; starting the localnet without it" >&2
  exec bin/phantom localnet "${args[@]}"
fi
"${compose[@]}" up -d
trap '"${compose[@]}" down' EXIT
# Not exec: the trap must run after the localnet stops. Forward Ctrl-C/SIGTERM to it.
bin/phantom localnet "${args[@]}" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' INT TERM
wait "$child" || true
wait "$child" 2>/dev/null || true
