#!/bin/sh
# Starts the Temporal server (frontend, history, matching, worker in one process) from
# deploy/temporal/config/production.yaml and deploy/temporal/dynamicconfig/. docker-compose.yml's
# `temporal` service and `npm run test:topology` both run this script, so they share one configuration.
# The environment names PostgreSQL (POSTGRES_SEEDS, DB_PORT, POSTGRES_USER, POSTGRES_PWD) and may move
# every port (see production.yaml); TEMPORAL_SERVER_BIN names the binary (default: temporal-server on PATH).
set -eu
deploy="$(cd "$(dirname "$0")/.." && pwd)"
# Listening on every interface, the server must tell its peers an address they can reach.
if [ "${BIND_ON_IP:-127.0.0.1}" = 0.0.0.0 ] && [ -z "${TEMPORAL_BROADCAST_ADDRESS:-}" ]; then
  TEMPORAL_BROADCAST_ADDRESS="$(hostname -i | cut -d' ' -f1)"
  export TEMPORAL_BROADCAST_ADDRESS
fi
# The server opens the dynamic config file relative to its working directory: give it an absolute path.
DYNAMIC_CONFIG_FILE_PATH="${DYNAMIC_CONFIG_FILE_PATH:-$deploy/dynamicconfig/production-sql.yaml}"
export DYNAMIC_CONFIG_FILE_PATH
# No authorizer: the frontend is for the deployment's private network only (see docs/deployment.md to expose it).
exec "${TEMPORAL_SERVER_BIN:-temporal-server}" --root "$deploy" --config config --env production --allow-no-auth start
