#!/bin/bash
# The standby: an empty PGDATA is cloned from the primary with pg_basebackup -R (which writes
# standby.signal and primary_conninfo), then postgres runs as a hot standby. Runs as the postgres user.
set -euo pipefail
export PGPASSWORD="${REPLICATION_PASSWORD:-replicator-password}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  rm -rf "${PGDATA:?}"/*
  until pg_basebackup --host="${PRIMARY_HOST:-postgres-primary}" --username=replicator --pgdata="$PGDATA" \
    --write-recovery-conf --wal-method=stream --checkpoint=fast; do
    echo 'waiting for the primary'; sleep 1
  done
  chmod 0700 "$PGDATA"
fi
exec postgres -c hot_standby=on
