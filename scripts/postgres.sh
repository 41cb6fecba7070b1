#!/usr/bin/env bash
# Installs (Debian package), starts and prepares the PostgreSQL server the tests run against.
# Idempotent and quick when already done: a second run only checks.
#
#   BERTH_PG_PORT      port of the cluster (default 5432, the Debian cluster's)
#   BERTH_PG_USER      role the tests use (default berth, password the same; may create databases)
#   BERTH_PG_DATABASE  database the tests connect to first (default berth)
#
# Prints the URL to use as BERTH_TEST_DATABASE_URL on its last line.
set -euo pipefail

PG_VERSION=15
PG_PORT="${BERTH_PG_PORT:-5432}"
PG_USER="${BERTH_PG_USER:-berth}"
PG_DATABASE="${BERTH_PG_DATABASE:-berth}"

if ! command -v pg_ctlcluster >/dev/null || [[ ! -d "/usr/lib/postgresql/$PG_VERSION" ]]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql >/dev/null; }
fi
if ! pg_lsclusters -h | awk -v v="$PG_VERSION" '$1 == v && $2 == "main"' | grep -q .; then
  pg_createcluster "$PG_VERSION" main -p "$PG_PORT" >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$PG_VERSION" '$1 == v && $2 == "main" {print $4}' | grep -q online; then
  pg_ctlcluster "$PG_VERSION" main start
fi

psql_admin() { su postgres -c "psql -v ON_ERROR_STOP=1 -qtAX -p $PG_PORT $*"; }
for _ in $(seq 1 50); do
  psql_admin "-c 'SELECT 1'" >/dev/null 2>&1 && break
  sleep 0.2
done
if [[ "$(psql_admin "-c \"SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'\"")" != 1 ]]; then
  psql_admin "-c \"CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_USER'\""
fi
if [[ "$(psql_admin "-c \"SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'\"")" != 1 ]]; then
  psql_admin "-c \"CREATE DATABASE $PG_DATABASE OWNER $PG_USER\""
fi
echo "postgres://$PG_USER:$PG_USER@127.0.0.1:$PG_PORT/$PG_DATABASE"
