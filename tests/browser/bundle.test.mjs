// The built bundle: the page's own wasm must not link tract (the model runs
// only in the worker's three builds), and the sizes are printed for the record.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { test } from 'node:test';

import { DIST } from './support/server.mjs';

const WORKERS = ['worker_bg.wasm', 'worker-relaxed_bg.wasm', 'worker-threads_bg.wasm'];

function wasmFiles() {
  const names = readdirSync(DIST).filter((name) => name.endsWith('.wasm'));
  const page = names.filter((name) => !WORKERS.includes(name));
  assert.ok(WORKERS.every((name) => names.includes(name)) && page.length === 1, `the page's and the three workers' wasm in ${DIST}: ${names}`);
  const read = (name) => readFileSync(`${DIST}/${name}`);
  return { page: read(page[0]), worker: read(WORKERS[0]), 'relaxed-SIMD worker': read(WORKERS[1]), 'threaded worker': read(WORKERS[2]) };
}

test('tract is linked into the workers only, not the page', () => {
  const { page, ...workers } = wasmFiles();
  for (const [name, bytes] of Object.entries(workers)) assert.ok(bytes.includes('tract-core'), `the ${name} runs tract`);
  assert.ok(!page.includes('tract-core'), "the page's wasm holds no tract code");
  assert.ok(!page.includes('tract-onnx'), "the page's wasm holds no tract code");
  for (const [name, bytes] of Object.entries({ page, ...workers })) {
    const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
    console.log(`${name} wasm: ${kib(bytes.length)} raw, ${kib(gzipSync(bytes, { level: 9 }).length)} gzip`);
  }
});
