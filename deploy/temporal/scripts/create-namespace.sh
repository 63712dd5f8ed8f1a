#!/bin/sh
# Waits for the Temporal server, then registers the namespace novade-sync uses, once (the server
# creates only its own system namespace). Run by docker-compose.yml's `temporal-create-namespace`
# service and by `npm run test:topology`. TEMPORAL_ADDRESS says where the server is; TEMPORAL_CLI
# names the temporal CLI (default: temporal on PATH).
set -eu
cli="${TEMPORAL_CLI:-temporal}"
ns="${DEFAULT_NAMESPACE:-default}"
tries=0
until "$cli" operator cluster health >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt "${HEALTH_TRIES:-120}" ] || { echo "Temporal at ${TEMPORAL_ADDRESS:-127.0.0.1:7233} is not healthy" >&2; exit 1; }
  sleep 1
done
"$cli" operator namespace describe -n "$ns" >/dev/null 2>&1 || "$cli" operator namespace create -n "$ns" --retention "${NAMESPACE_RETENTION:-30d}"
echo "Namespace $ns ready"
