#!/usr/bin/env bash
# The error boundary, pinned: a test-only module (test/boundary, built here in a scratch directory
# and loaded by absolute path, never installed) raises an ereport through pg_call() under a live C++
# object, throws C++ exceptions through the guard, through pg_call() and from inside a PostgreSQL
# callback (the executor, via SPI), and polls a statement_timeout. Each must be a clean SQL error
# with its SQLSTATE and message, the C++ destructors must have run, and the backend must be healthy
# afterwards: same pid, same postmaster start time, PostgreSQL's error state as before, next query
# works, nothing in the server log about a crash.
source "$(dirname "$0")/cluster.bash"
P=5529
work=$(mktemp -d)
chmod 755 "$work"
trap 'stop_cluster boundary; rm -rf "$work"' EXIT
make -s -C "$work" -f "$ROOT/test/boundary/Makefile" VPATH="$ROOT/test/boundary" \
  PG_CONFIG="$PGBIN/pg_config" >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "building test/boundary"; }
chmod 644 "$work/boundary.so"
log_file="$(cluster_dir boundary).log"
rm -f "$log_file"  # pg_ctl appends: only this run's server log counts
new_cluster boundary $P

# The module only, not the extension: both carry the boundary's functions (src/pg/errors.cpp).
for f in pg_error cpp_error cpp_in_pg_call cpp_in_callback interrupt; do
  q $P "CREATE FUNCTION boundary_$f() RETURNS bool LANGUAGE c AS '$work/boundary.so'"
done
q $P "CREATE FUNCTION boundary_destroyed() RETURNS bigint LANGUAGE c AS '$work/boundary.so'"
q $P "CREATE FUNCTION boundary_state() RETURNS text LANGUAGE c AS '$work/boundary.so'"
started=$(q $P "SELECT pg_postmaster_start_time()")

# expect FUNCTION SQLSTATE MESSAGE: one top-level call in the session, then the same error 20
# times caught by PL/pgSQL (a subtransaction each), checking SQLSTATE and message exactly.
expect() {
  echo "SELECT boundary_$1();"
  cat <<SQL
DO \$\$
DECLARE state text; message text;
BEGIN
  FOR i IN 1..20 LOOP
    BEGIN
      PERFORM boundary_$1();
      RAISE 'boundary_$1() returned';
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
      IF state <> '$2' OR message <> '$3' THEN
        RAISE 'boundary_$1(): got % "%"', state, message;
      END IF;
    END;
  END LOOP;
END \$\$;
SQL
  echo "SELECT 'after_$1', boundary_destroyed(), pg_backend_pid();"
}
{
  echo "\\set VERBOSITY verbose"
  echo "SET statement_timeout = 0;"
  echo "SELECT 'before', boundary_destroyed(), pg_backend_pid(), boundary_state();"
  expect pg_error 23514 "boundary: PostgreSQL error"
  expect cpp_error 22023 "boundary: C++ exception"
  expect cpp_in_pg_call 54000 "boundary: C++ in pg_call"
  expect cpp_in_callback 22023 "boundary: C++ exception"
  # A cancel ends the whole statement (PL/pgSQL's WHEN OTHERS does not catch it): three
  # top-level calls instead.
  echo "SET statement_timeout = '50ms';"
  for _ in 1 2 3; do echo "SELECT boundary_interrupt();"; done
  echo "SELECT 'after_interrupt', boundary_destroyed(), pg_backend_pid();"
  echo "SET statement_timeout = 0;"
  echo "SELECT 1 / 0;"
  echo "SELECT 'after', boundary_destroyed(), pg_backend_pid(), boundary_state();"
} >"$work/session.sql"
"$PGBIN/psql" -X -qAt -p $P -d postgres -f "$work/session.sql" >"$work/session.out" 2>&1 || true

# Each top-level call reported its error with the SQLSTATE (verbose) and message.
for want in "23514: boundary: PostgreSQL error" "22023: boundary: C++ exception" \
  "54000: boundary: C++ in pg_call" "57014: canceling statement due to statement timeout" \
  "22012: division by zero"; do
  grep -q "ERROR:  $want\$" "$work/session.out" || { cat "$work/session.out"; fail "no error \"$want\""; }
done
grep -q "DETAIL:  raised under 64 bytes of C++ state" "$work/session.out" ||
  { cat "$work/session.out"; fail "the ereport's detail was lost"; }
grep -q "DETAIL:  thrown under the guard" "$work/session.out" ||
  { cat "$work/session.out"; fail "the exception's detail was lost"; }
[ "$(grep -c 'ERROR:  22023: boundary: C++ exception$' "$work/session.out")" = 2 ] ||
  { cat "$work/session.out"; fail "the exception inside the executor's callback did not come back as 22023"; }
grep -q "returned\|got " "$work/session.out" && { cat "$work/session.out"; fail "a caught error had the wrong SQLSTATE or message"; }

# Every error unwound its C++ frame: each function's 21 calls destroyed 21 objects (the callback
# case destroys two a call: the outer frame's and the inner function's; the timeout ran 3 times).
row() { grep "^$1|" "$work/session.out" | cut -d'|' -f"$2"; }
pid=$(row before 3)
expected=0
for f in pg_error:21 cpp_error:21 cpp_in_pg_call:21 cpp_in_callback:42 interrupt:3; do
  expected=$((expected + ${f#*:}))
  [ "$(row "after_${f%:*}" 2)" = "$expected" ] ||
    { cat "$work/session.out"; fail "boundary_${f%:*}(): $(row "after_${f%:*}" 2) objects destroyed, not $expected"; }
  [ "$(row "after_${f%:*}" 3)" = "$pid" ] || { cat "$work/session.out"; fail "boundary_${f%:*}(): the backend changed"; }
done
[ "$(row after 3)" = "$pid" ] || { cat "$work/session.out"; fail "the backend changed"; }
[ "$(row after 4)" = "$(row before 4)" ] ||
  { cat "$work/session.out"; fail "error state differs: before $(row before 4), after $(row after 4)"; }
echo "ok: $expected C++ objects destroyed by $((21 * 4 + 3)) errors in backend $pid; state $(row after 4)"

# The server is the one that started: no backend crashed and none was restarted.
[ "$(q $P "SELECT pg_postmaster_start_time()")" = "$started" ] || fail "the server restarted"
[ "$(q $P "SELECT 40 + 2")" = 42 ] || fail "the next query failed"
if grep -E "terminated by signal|was terminated|PANIC|TRAP:|terminate called|server process .* exited" "$log_file"; then
  fail "the server log reports a crash"
fi
echo "ok: clean SQL errors across the boundary, the backend healthy afterwards"
