#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine: packages, build, install, a local PostgreSQL 15
# cluster with the extension, then the demo. Safe to run again.
source "$(dirname "$0")/lib.sh"

install_packages
build_install
install_default_model
start_cluster
log "database embedding_demo"
psql_q -d postgres -tc "SELECT 1 FROM pg_database WHERE datname = 'embedding_demo'" | grep -q 1 ||
  psql_q -d postgres -c "CREATE DATABASE embedding_demo"
psql_q -d embedding_demo -c "CREATE EXTENSION IF NOT EXISTS embedding"
"$ROOT/scripts/demo.sh"
log "ready: psql -h $PGHOST -p $PGPORT -U $PGUSER embedding_demo"
