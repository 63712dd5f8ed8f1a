#!/bin/sh
# Creates Temporal's two PostgreSQL databases, or upgrades their schema to the one the server binary
# ships (temporal-sql-tool; safe to run again). Run by docker-compose.yml's `temporal-admin-tools`
# service and by `npm run test:topology`, with the same environment:
#   POSTGRES_SEEDS, DB_PORT, POSTGRES_USER, SQL_PASSWORD  where PostgreSQL is, and who
#   SCHEMA_DIR     the server's schema/ directory (admin-tools: /etc/temporal/schema)
#   TEMPORAL_SQL_TOOL  the binary (default: temporal-sql-tool on PATH)
set -eu
tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"
schema="${SCHEMA_DIR:-/etc/temporal/schema}"
# SQL_PASSWORD is read by the tool from the environment; the other settings are passed as flags.
export SQL_PASSWORD="${SQL_PASSWORD:-}"
sql() {
  "$tool" --plugin "${DB:-postgres12}" --ep "${POSTGRES_SEEDS:?POSTGRES_SEEDS: the PostgreSQL host}" -p "${DB_PORT:-5432}" -u "${POSTGRES_USER:?POSTGRES_USER: the PostgreSQL user}" "$@"
}
for db in "${DBNAME:-temporal}" "${VISIBILITY_DBNAME:-temporal_visibility}"; do
  case "$db" in "${DBNAME:-temporal}") dir=temporal ;; *) dir=visibility ;; esac
  # `create` fails on a database that exists, and `setup-schema -v 0.0` on one already versioned:
  # both are the second run's normal case. `update-schema` then brings any version up to date and
  # fails loudly on a real problem.
  sql --db "$db" create 2>/dev/null || echo "database $db exists"
  sql --db "$db" setup-schema -v 0.0 2>/dev/null || echo "database $db already has a schema version"
  sql --db "$db" update-schema -d "$schema/postgresql/v12/$dir/versioned"
done
echo 'Temporal schema ready'
