// The built bundle: the page's own wasm must not link tract (the model runs
// only in the worker's two builds), and the sizes are printed for the record.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { test } from 'node:test';

import { DIST } from './support/server.mjs';

const WORKERS = ['worker_bg.wasm', 'worker-threads_bg.wasm'];

function wasmFiles() {
  const names = readdirSync(DIST).filter((name) => name.endsWith('.wasm'));
  const page = names.filter((name) => !WORKERS.includes(name));
  assert.ok(WORKERS.every((name) => names.includes(name)) && page.length === 1, `the page's and both workers' wasm in ${DIST}: ${names}`);
  const read = (name) => readFileSync(`${DIST}/${name}`);
  return { page: read(page[0]), worker: read(WORKERS[0]), 'threaded worker': read(WORKERS[1]) };
}

test('tract is linked into the worker only, not the page', () => {
  const { page, worker, 'threaded worker': threaded } = wasmFiles();
  assert.ok(worker.includes('tract-core'), 'the worker runs tract');
  assert.ok(threaded.includes('tract-core'), 'the threaded worker runs tract');
  assert.ok(!page.includes('tract-core'), "the page's wasm holds no tract code");
  assert.ok(!page.includes('tract-onnx'), "the page's wasm holds no tract code");
  for (const [name, bytes] of Object.entries({ page, worker, 'threaded worker': threaded })) {
    const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
    console.log(`${name} wasm: ${kib(bytes.length)} raw, ${kib(gzipSync(bytes, { level: 9 }).length)} gzip`);
  }
});
