# (Sourced, not run.) Throwaway PostgreSQL clusters for the cluster tests: new_cluster NAME PORT [conf lines...] creates
# and starts one under $EMB_STATE/tests/NAME (owned by the cluster owner); stop_cluster NAME stops it.
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
TEST_ROOT=$EMB_STATE/tests
mkdir -p "$TEST_ROOT"
[ "$(id -u)" = 0 ] && chown "$PGOWNER" "$TEST_ROOT"

cluster_dir() { echo "$TEST_ROOT/$1"; }

new_cluster() {
  local name=$1 port=$2
  shift 2
  local dir
  dir=$(cluster_dir "$name")
  stop_cluster "$name"
  rm -rf "$dir"
  as_owner "$PGBIN/initdb" -D "$dir" -U "$PGOWNER" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  {
    echo "port = $port"
    echo "unix_socket_directories = '$PGHOST'"
    echo "listen_addresses = ''"
    echo "wal_level = replica"
    echo "max_wal_senders = 4"
    echo "fsync = on"
    for line in "$@"; do echo "$line"; done
  } >>"$dir/postgresql.conf"
  start_cluster_dir "$dir"
}

start_cluster_dir() {
  as_owner "$PGBIN/pg_ctl" -D "$1" -l "$1.log" -w start >/dev/null
}

stop_cluster() {
  local dir
  dir=$(cluster_dir "$1")
  [ -f "$dir/postmaster.pid" ] && as_owner "$PGBIN/pg_ctl" -D "$dir" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
  return 0
}

# q PORT SQL: one value, no decoration.
q() { "$PGBIN/psql" -X -v ON_ERROR_STOP=1 -qAt -p "$1" -d postgres -c "$2"; }

# wait_for_replay PRIMARY_PORT STANDBY_PORT: until the standby has replayed the primary's current
# WAL (20 s at most, then the test fails).
wait_for_replay() {
  local lsn
  lsn=$(q "$1" "SELECT pg_current_wal_lsn()")
  for _ in $(seq 1 100); do
    [ "$(q "$2" "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ] && return 0
    sleep 0.2
  done
  fail "standby did not catch up"
}

fail() {
  echo "FAIL: $*"
  exit 1
}

# SQL that defines rv(dim): a random vector, evaluated per row (volatile).
RANDOM_VECTOR_SQL="CREATE FUNCTION rv(int) RETURNS vector LANGUAGE sql VOLATILE AS 'SELECT array_agg(random())::real[]::vector FROM generate_series(1, \$1)'"
