#!/bin/bash
# Run once by the postgres image's entrypoint on an empty PGDATA (/docker-entrypoint-initdb.d): a role
# for streaming replication and the pg_hba line that lets the standby use it.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  --set pw="${REPLICATION_PASSWORD:-replicator-password}" <<<"CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'pw';"
echo 'host replication replicator all scram-sha-256' >> "$PGDATA/pg_hba.conf"
