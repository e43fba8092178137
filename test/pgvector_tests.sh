#!/usr/bin/env bash
# pgvector's own tests as our yardstick: runs the regress files (test/sql, test/expected) and the
# TAP files (test/t) of a pgvector checkout against the installed `embedding` extension, with
# only `CREATE EXTENSION vector` replaced, and prints one line a file and a summary. Not part of
# scripts/test.sh (the checkout is not in the repository): what it finds is ported to our tests.
#
# usage: test/pgvector_tests.sh PGVECTOR [REV] [PATTERN]
#   PGVECTOR  a pgvector checkout, or its git directory (e.g. from the search tool's fetch)
#   REV       with a git directory: the revision to take the tests from (default v0.8.6)
#   PATTERN   only the files whose name matches this extended regex (default: all)
# Environment: PGHOST/PGPORT/PGUSER of a running cluster for the regress files (default: the one
# scripts/setup.sh starts); TAP files start their own clusters, as the cluster owner.
source "$(dirname "$0")/../scripts/lib.sh"
src=${1:?usage: test/pgvector_tests.sh PGVECTOR [REV] [PATTERN]}
rev=${2:-v0.8.6}
pattern=${3:-.}
work=$(mktemp -d /tmp/pgvector_tests.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

if [ -d "$src/test/sql" ]; then
  cp -r "$src/test" "$work/test"
else
  git --git-dir="$src" archive "$rev" test | tar -x -C "$work"
fi
# Only the extension's name changes.
grep -rl "CREATE EXTENSION vector" "$work/test" | xargs -r sed -i 's/CREATE EXTENSION vector/CREATE EXTENSION embedding/g' || true
grep -rl "CREATE EXTENSION IF NOT EXISTS vector" "$work/test" | xargs -r sed -i 's/CREATE EXTENSION IF NOT EXISTS vector/CREATE EXTENSION IF NOT EXISTS embedding/g' || true
chown -R "$PGOWNER" "$work" 2>/dev/null || true

pgxs=$("$PGBIN/pg_config" --pkglibdir)/pgxs
passed=0
failed=0
failed_files=()
result() {  # result NAME STATUS
  if [ "$2" = ok ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failed_files+=("$1"); fi
  printf '%-45s %s\n' "$1" "$2"
}

for sql in "$work"/test/sql/*.sql; do
  name=$(basename "$sql" .sql)
  [[ $name =~ $pattern ]] || continue
  # From inside the output directory, as pgvector's Makefile runs them: files such as copy.sql's
  # \copy ... 'results/vector.bin' are relative to it.
  mkdir -p "$work/regress-$name"
  if (cd "$work/regress-$name" && "$pgxs/src/test/regress/pg_regress" --inputdir="$work/test" \
      --outputdir=. --load-extension=embedding --dbname="pgvector_$name" "$name") >"$work/$name.log" 2>&1; then
    result "sql/$name" ok
  else
    result "sql/$name" FAILED
    { grep -E "^[-+][^-+]" "$work/regress-$name/regression.diffs" 2>/dev/null || true; } |
      head -"${DIFF_LINES:-8}" | sed 's/^/    /'
    [ -s "$work/regress-$name/regression.diffs" ] || tail -3 "$work/$name.log" | sed 's/^/    /'

  fi
done

for tap in "$work"/test/t/*.pl; do
  name=$(basename "$tap" .pl)
  [[ $name =~ $pattern ]] || continue
  if (cd "$work/test" && as_owner env PATH="$PGBIN:$PATH" PG_REGRESS="$pgxs/src/test/regress/pg_regress" \
      prove -I "$pgxs/src/test/perl" -I "$work/test/perl" "t/$name.pl") >"$work/$name.log" 2>&1; then
    result "t/$name" ok
  else
    result "t/$name" FAILED
    { grep -E "^\s*#|not ok" "$work/$name.log" || true; } | head -8 | sed 's/^/    /'
  fi
done

echo "pgvector tests ($rev): $passed passed, $failed failed"
[ "$failed" -eq 0 ] || printf '  %s\n' "${failed_files[@]}"
[ -z "${KEEP:-}" ] || { trap - EXIT; echo "kept $work"; }
