// A long session: 50 images opened one after another in one page, each
// encoded, searched for objects and asked about, with image sizes cycling
// so every allocation pattern comes back. After each image the worker
// reports its live heap (bytes allocated and not freed) and its wasm memory
// (which only grows). A leak shows in the live heap: the second half of the
// session must not hold more than the first half did. Wasm memory mixes the
// live heap with free space that fragmentation leaves; on the threaded
// build the model threads allocate in an order that varies from run to run
// (they encode, and run the search's prompts side by side), so a few growth
// steps of 6–12 MiB may come late, but memory must settle.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { WORK_TIMEOUT } from './support/app.mjs';
import { launchBrowser, openPage } from './support/browser.mjs';
import { encodePng, sceneColourAt } from './support/png.mjs';
import { DIST, serveDist } from './support/server.mjs';

const IMAGES = 50;
/** Room for late growth of the worker's wasm memory (at most 12 MiB seen). */
const FRAGMENTATION_STEPS = 24 * 2 ** 20;
const SIZES = [
  [160, 120],
  [320, 240],
  [480, 200],
  [240, 360],
  [640, 480],
];

/** Image `i`: a background and three rectangles placed and coloured by `i`. */
function imagePng(i) {
  const [width, height] = SIZES[i % SIZES.length];
  let seed = i * 7919 + 17;
  const next = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const rects = Array.from({ length: 3 }, () => {
    const w = 20 + next(width / 3);
    const h = 20 + next(height / 3);
    const x0 = next(width - w);
    const y0 = next(height - h);
    return { x0, y0, x1: x0 + w, y1: y0 + h, colour: [next(256), next(256), next(256)] };
  });
  return encodePng(width, height, sceneColourAt([next(256), next(256), next(256)], rects));
}

let server;
let browser;

before(async () => {
  assert.ok(existsSync(`${DIST}/index.html`), `no built app in ${DIST}: run \`trunk build --release --offline\` first`);
  server = await serveDist();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
  assert.deepEqual(browser?.offsite ?? [], [], 'no request left 127.0.0.1');
});

test(`${IMAGES} images in one page keep memory steady`, { timeout: 20 * 60_000 }, async () => {
  const { page, errors } = await openPage(browser.context, server.url);
  await page.waitForSelector('.status[data-worker="ready"]', { timeout: WORK_TIMEOUT });
  await page.click('.find-settings summary');
  await page.fill('#points-per-side', '8');
  await page.press('#points-per-side', 'Tab');
  const memory = [];
  for (let i = 0; i < IMAGES; i++) {
    const name = `image-${i}.png`;
    await page.setInputFiles('#image-file', { name, mimeType: 'image/png', buffer: imagePng(i) });
    await page.waitForFunction(
      (name) => document.querySelector('.status .file-name')?.textContent === name && document.querySelector('.status')?.dataset.stage === 'done',
      name,
      { timeout: WORK_TIMEOUT },
    );
    await page.click('.find-all');
    await page.waitForSelector('.find-panel[data-run="done"]', { timeout: WORK_TIMEOUT });
    await page.fill('#question', 'the biggest object');
    await page.press('#question', 'Enter');
    await page.waitForSelector('.answer[data-none]', { timeout: WORK_TIMEOUT });
    const used = await page.$eval('.timings', (timings) => ({
      worker: Number(timings.dataset.workerMemory),
      heap: Number(timings.dataset.workerHeap),
      page: Number(timings.dataset.pageMemory),
    }));
    assert.ok(
      used.worker > 0 && used.page > 0 && used.heap > 0 && used.heap < used.worker,
      `image ${i}: memory is reported (${JSON.stringify(used)})`,
    );
    memory.push(used);
  }
  const mib = (bytes) => (bytes / 2 ** 20).toFixed(1);
  const peaks = (side) => [
    Math.max(...memory.slice(0, IMAGES / 2).map((m) => m[side])),
    Math.max(...memory.slice(IMAGES / 2).map((m) => m[side])),
  ];
  const [heapFirst, heapSecond] = peaks('heap');
  console.log(`worker live heap: first half peak ${mib(heapFirst)} MiB, second half peak ${mib(heapSecond)} MiB`);
  assert.ok(
    heapSecond <= heapFirst,
    `the worker's live heap kept growing: ${mib(heapFirst)} MiB after ${IMAGES / 2} images, ${mib(heapSecond)} MiB after ${IMAGES}`,
  );
  for (const [side, slack] of [
    ['worker', FRAGMENTATION_STEPS],
    ['page', 0],
  ]) {
    const [firstHalf, secondHalf] = peaks(side);
    console.log(`${side} wasm memory: first half peak ${mib(firstHalf)} MiB, second half peak ${mib(secondHalf)} MiB`);
    assert.ok(
      secondHalf <= firstHalf + slack,
      `${side} memory kept growing: ${mib(firstHalf)} MiB after ${IMAGES / 2} images, ${mib(secondHalf)} MiB after ${IMAGES}`,
    );
  }
  assert.deepEqual(errors, []);
  await page.close();
});
