#!/usr/bin/env bash
# Builds Citus from a source tree, installs it into the PostgreSQL under test, and starts a local Citus
# cluster (a coordinator and two workers) with citus and embedding on every node. Idempotent.
#
#   scripts/citus.sh CITUS_SOURCE_DIR      build (once), install, start the cluster
#   scripts/citus.sh --cluster-only        start the cluster with the Citus already installed
#   scripts/citus.sh --stop                stop the cluster's nodes
#
# The source: git clone -b v13.2.2 https://github.com/citusdata/citus (13.2 is the last release line for
# PostgreSQL 15). The build patches src/include/pg_version_compat.h, whose static have_createdb_privilege()
# for PostgreSQL < 16 clashes with the function PostgreSQL 15.20 exports. The PostgreSQL is the one whose
# pg_config is $PG_CONFIG, else $EMB_PGBIN/pg_config, else pg_config on PATH. The nodes' data directories
# go under $EMB_STATE/citus (beside the demo cluster's), ports $EMB_CITUS_PORT (coordinator, default 9700)
# and the two following ones (workers).
source "$(dirname "$0")/lib.sh"

CITUS_ROOT=${EMB_CITUS_STATE:-$EMB_STATE/citus}
CITUS_PORT=${EMB_CITUS_PORT:-9700}
if [ -n "${PG_CONFIG:-}" ]; then
  :
elif [ -x "$PGBIN/pg_config" ]; then
  PG_CONFIG=$PGBIN/pg_config
else
  PG_CONFIG=$(command -v pg_config)
fi
export PG_CONFIG
PGBIN=$("$PG_CONFIG" --bindir)

usage() {
  sed -n '5,8p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

citus_installed() { [ -f "$("$PG_CONFIG" --pkglibdir)/citus.so" ]; }

# The patch: PostgreSQL 15.20 and later export have_createdb_privilege() from commands/dbcommands.h;
# Citus's compatibility header then must include that header instead of defining its own copy.
patch_citus_source() {
  local header=$1/src/include/pg_version_compat.h
  local server
  server=$("$PG_CONFIG" --includedir-server)
  grep -q "extern bool have_createdb_privilege" "$server/commands/dbcommands.h" 2>/dev/null || return 0
  grep -q "^have_createdb_privilege(void)" "$header" || return 0
  log "patch $header: use PostgreSQL's own have_createdb_privilege()"
  perl -0pi -e 's/static inline bool\nhave_createdb_privilege\(void\)\n\{.*?\n\}\n/#include "commands\/dbcommands.h"\n/s' "$header"
  ! grep -q "^have_createdb_privilege(void)" "$header" || {
    echo "citus.sh: could not patch $header" >&2
    exit 1
  }
}

build_citus() {
  local src=$1
  if [ ! -f "$src/configure" ] || [ ! -f "$src/src/backend/distributed/citus.control" ]; then
    echo "citus.sh: $src is not a Citus source tree" >&2
    exit 1
  fi
  local version want
  want=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$src/src/backend/distributed/citus.control")
  version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$("$PG_CONFIG" --sharedir)/extension/citus.control" 2>/dev/null || true)
  if citus_installed && [ "$version" = "$want" ]; then
    log "Citus $version is installed in $("$PG_CONFIG" --pkglibdir)"
    return
  fi
  patch_citus_source "$src"
  # Headers that PostgreSQL's own build pulls in (gssapi, openssl) and columnar's compression follows (lz4, zstd)
  # whatever configure is told; libcurl (anonymous usage statistics) is left out.
  local missing=() p
  for p in libzstd-dev liblz4-dev libkrb5-dev libssl-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "packages: installing ${missing[*]}"
    local asroot=""
    [ "$(id -u)" = 0 ] || asroot=sudo
    DEBIAN_FRONTEND=noninteractive $asroot apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  local flags=(--without-libcurl)
  log "build Citus $want in $src (${flags[*]})"
  (cd "$src" && ./configure PG_CONFIG="$PG_CONFIG" "${flags[@]}" >configure.log &&
    make -j"$JOBS" >make.log)
  local sudo=""
  [ -w "$("$PG_CONFIG" --pkglibdir)" ] || sudo=sudo
  $sudo make -C "$src" install >"$src/install.log"
  log "Citus $want installed in $("$PG_CONFIG" --pkglibdir)"
}

node_dir() { echo "$CITUS_ROOT/node$1"; }
node_port() { echo $((CITUS_PORT + $1)); }
nq() { "$PGBIN/psql" -X -v ON_ERROR_STOP=1 -qAt -h "$PGHOST" -p "$(node_port "$1")" -d postgres -c "$2"; }

start_node() {
  local n=$1 dir port
  dir=$(node_dir "$n")
  port=$(node_port "$n")
  if [ ! -f "$dir/PG_VERSION" ]; then
    log "initdb $dir (port $port)"
    as_owner "$PGBIN/initdb" -D "$dir" -U "$PGOWNER" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$dir/postgresql.conf" <<CONF
port = $port
unix_socket_directories = '$PGHOST'
listen_addresses = ''
shared_preload_libraries = 'citus'
shared_buffers = 1GB
maintenance_work_mem = 1GB
wal_level = logical
max_wal_senders = 10
max_replication_slots = 10
citus.node_conninfo = 'sslmode=disable'
citus.local_hostname = '$PGHOST'
CONF
  fi
  if ! as_owner "$PGBIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    as_owner "$PGBIN/pg_ctl" -D "$dir" -l "$dir.log" -w start >/dev/null
  fi
  # Once a worker is registered, Citus refuses even CREATE EXTENSION IF NOT EXISTS there.
  local ext
  for ext in citus embedding; do
    [ "$(nq "$n" "SELECT count(*) FROM pg_extension WHERE extname = '$ext'")" = 1 ] ||
      nq "$n" "CREATE EXTENSION $ext"
  done
}

start_citus_cluster() {
  citus_installed || {
    echo "citus.sh: Citus is not installed in $("$PG_CONFIG" --pkglibdir); give the source directory" >&2
    exit 1
  }
  mkdir -p "$CITUS_ROOT" "$PGHOST"
  [ "$(id -u)" = 0 ] && chown "$PGOWNER" "$CITUS_ROOT" "$PGHOST"
  for n in 0 1 2; do start_node "$n"; done
  nq 0 "SELECT citus_set_coordinator_host('$PGHOST', $(node_port 0))" >/dev/null
  for n in 1 2; do
    [ "$(nq 0 "SELECT count(*) FROM pg_dist_node WHERE nodeport = $(node_port "$n")")" = 1 ] ||
      nq 0 "SELECT citus_add_node('$PGHOST', $(node_port "$n"))" >/dev/null
  done
  log "Citus cluster: coordinator on $PGHOST port $(node_port 0), workers on $(node_port 1) and $(node_port 2)"
  nq 0 "SELECT nodename, nodeport, noderole FROM pg_dist_node ORDER BY nodeport"
}

stop_citus_cluster() {
  for n in 0 1 2; do
    [ -f "$(node_dir "$n")/postmaster.pid" ] && as_owner "$PGBIN/pg_ctl" -D "$(node_dir "$n")" -w stop >/dev/null
  done
  log "Citus cluster stopped"
}

case "${1:-}" in
  "" | -h | --help) usage ;;
  --stop) stop_citus_cluster ;;
  --cluster-only) start_citus_cluster ;;
  *)
    [ -d "$1" ] || {
      echo "citus.sh: no directory $1" >&2
      exit 1
    }
    build_citus "$(cd "$1" && pwd)"
    start_citus_cluster
    ;;
esac
