// A long session: 50 images opened one after another in one page, each
// encoded, searched for objects and asked about, with image sizes cycling
// so every allocation pattern comes back. Wasm memory only grows, so a leak
// shows as growth after the first cycles: the second half of the session
// must not need more memory than the first half reached.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { WORK_TIMEOUT } from './support/app.mjs';
import { launchBrowser, openPage } from './support/browser.mjs';
import { encodePng, sceneColourAt } from './support/png.mjs';
import { DIST, serveDist } from './support/server.mjs';

const IMAGES = 50;
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
      page: Number(timings.dataset.pageMemory),
    }));
    assert.ok(used.worker > 0 && used.page > 0, `image ${i}: memory is reported (${JSON.stringify(used)})`);
    memory.push(used);
  }
  const mib = (bytes) => (bytes / 2 ** 20).toFixed(1);
  for (const side of ['worker', 'page']) {
    const firstHalf = Math.max(...memory.slice(0, IMAGES / 2).map((m) => m[side]));
    const secondHalf = Math.max(...memory.slice(IMAGES / 2).map((m) => m[side]));
    console.log(`${side} wasm memory: first half peak ${mib(firstHalf)} MiB, second half peak ${mib(secondHalf)} MiB`);
    assert.ok(
      secondHalf <= firstHalf,
      `${side} memory kept growing: ${mib(firstHalf)} MiB after ${IMAGES / 2} images, ${mib(secondHalf)} MiB after ${IMAGES}`,
    );
  }
  assert.deepEqual(errors, []);
  await page.close();
});
