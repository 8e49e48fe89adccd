// The built bundle: the page's own wasm must not link tract (the model runs
// only in the worker's three builds), only the relaxed-SIMD worker uses
// relaxed SIMD, the two hook-built workers carry no function names, and the
// sizes are printed for the record.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
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

// The names of a module's custom sections, in order (the wasm binary format:
// a header of 8 bytes, then sections of an id byte and a LEB128 size; a custom
// section, id 0, starts with its LEB128-prefixed name). Read from the bytes,
// since WebAssembly.Module.customSections would first compile the module,
// and Node 20 compiles relaxed SIMD only behind a flag.
function customSections(bytes) {
  const leb = (at) => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at.offset++];
      assert.ok(byte !== undefined, 'a wasm module ends inside a section header');
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  const names = [];
  const at = { offset: 8 };
  while (at.offset < bytes.length) {
    const id = bytes[at.offset++];
    const size = leb(at);
    const end = at.offset + size;
    if (id === 0) {
      const length = leb(at);
      names.push(bytes.subarray(at.offset, at.offset + length).toString('utf8'));
    }
    at.offset = end;
  }
  return names;
}

test('the relaxed-SIMD and threaded workers ship without the name section', () => {
  const { worker, 'relaxed-SIMD worker': relaxed, 'threaded worker': threaded } = wasmFiles();
  assert.ok(customSections(worker).includes('name'), `the reader finds the plain worker's name section: ${customSections(worker)}`);
  assert.ok(!customSections(relaxed).includes('name'), 'the relaxed-SIMD worker carries no function names');
  assert.ok(!customSections(threaded).includes('name'), 'the threaded worker carries no function names');
});

/**
 * Whether this Node's V8 validates the module in `path`, with wasm's relaxed SIMD switched on or
 * off by V8's own flag (so the answer does not depend on this Node's default).
 */
function validates(path, relaxedSimd) {
  const flag = relaxedSimd ? '--experimental-wasm-relaxed-simd' : '--no-experimental-wasm-relaxed-simd';
  const script = 'process.stdout.write(String(WebAssembly.validate(require("node:fs").readFileSync(process.argv[1]))))';
  return execFileSync(process.execPath, [flag, '-e', script, path]).toString() === 'true';
}

// The relaxed build shares tract with the plain one and differs only by a
// cargo feature (scripts/build-relaxed.sh), and the two share an output path:
// a mix-up would pass every other test, the page merely running slower, or
// not at all in a browser without relaxed SIMD.
test('only the relaxed-SIMD worker uses relaxed SIMD', () => {
  const [plain, relaxed, threaded] = WORKERS.map((name) => `${DIST}/${name}`);
  assert.ok(validates(relaxed, true), 'the relaxed-SIMD worker is valid wasm where relaxed SIMD is on');
  assert.ok(!validates(relaxed, false), 'the relaxed-SIMD worker uses relaxed SIMD instructions');
  assert.ok(validates(plain, false), 'the plain worker loads without relaxed SIMD');
  assert.ok(validates(threaded, false), 'the threaded worker loads without relaxed SIMD');
});
