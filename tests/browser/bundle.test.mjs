// The built bundle: the page's own wasm must not link tract (the model runs
// only in the worker), and the sizes are printed for the record.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { test } from 'node:test';

import { DIST } from './support/server.mjs';

function wasmFiles() {
  const names = readdirSync(DIST).filter((name) => name.endsWith('.wasm'));
  const worker = names.find((name) => name === 'worker_bg.wasm');
  const page = names.find((name) => name !== worker);
  assert.ok(worker && page, `both wasm files in ${DIST}: ${names}`);
  return { page: readFileSync(`${DIST}/${page}`), worker: readFileSync(`${DIST}/${worker}`) };
}

test('tract is linked into the worker only, not the page', () => {
  const { page, worker } = wasmFiles();
  assert.ok(worker.includes('tract-core'), 'the worker runs tract');
  assert.ok(!page.includes('tract-core'), "the page's wasm holds no tract code");
  assert.ok(!page.includes('tract-onnx'), "the page's wasm holds no tract code");
  for (const [name, bytes] of Object.entries({ page, worker })) {
    const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
    console.log(`${name} wasm: ${kib(bytes.length)} raw, ${kib(gzipSync(bytes, { level: 9 }).length)} gzip`);
  }
});
