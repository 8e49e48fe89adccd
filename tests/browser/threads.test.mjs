// The worker's builds in headless Chromium. A cross-origin isolated page runs
// the threaded worker, whose model threads (Web Workers sharing its memory)
// run the encoder, and finds exactly what one thread finds. A page that is not
// isolated, or asks for one thread, or whose threaded build is missing, runs
// on one thread, in the relaxed-SIMD build (Chromium has relaxed SIMD), which
// finds the same objects as the plain build (`simd=plain`); where that build
// is missing, the page falls back to the plain one.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { WORK_TIMEOUT, waitForStage, waitForWorker } from './support/app.mjs';
import { launchBrowser, openPage } from './support/browser.mjs';
import { openScene, scenePng } from './support/scene.mjs';
import { DIST, serveDist } from './support/server.mjs';

/** Finds all objects on an 8x8 grid and returns the page's COCO export of them. */
async function findAllAsCoco(page) {
  await page.click('.find-settings summary');
  await page.uncheck('#skip-covered');
  await page.fill('#points-per-side', '8');
  await page.press('#points-per-side', 'Tab');
  await page.click('.find-all');
  await page.waitForSelector('.find-panel[data-run="done"]', { timeout: WORK_TIMEOUT });
  const [file] = await Promise.all([page.waitForEvent('download'), page.click('.download-coco')]);
  return JSON.parse(readFileSync(await file.path(), 'utf8'));
}

/** What must not depend on the thread count: masks, boxes, scores (to 4 places). */
function found(coco) {
  return coco.annotations.map((a) => ({
    segmentation: a.segmentation,
    bbox: a.bbox,
    area: a.area,
    predicted_iou: a.predicted_iou.toFixed(4),
    stability_score: a.stability_score.toFixed(4),
  }));
}

async function threadsShown(page) {
  return {
    count: await page.$eval('.status', (status) => status.dataset.threads),
    text: await page.textContent('.status .threads'),
  };
}

/** A served file that is not there, to make one build fail to start. */
const MISSING = `${DIST}/missing-on-purpose.js`;

describe('the worker builds', { timeout: 10 * 60_000 }, () => {
  let browser;
  const servers = [];

  async function serve(options) {
    const server = await serveDist(options);
    servers.push(server);
    return server;
  }

  before(async () => {
    assert.ok(existsSync(`${DIST}/worker-threads_bg.wasm`), `no threaded worker in ${DIST}: run \`trunk build --release --offline\` first`);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await Promise.all(servers.map((server) => server.close()));
    assert.deepEqual(browser?.offsite ?? [], [], 'no request left 127.0.0.1');
  });

  test('an isolated page finds the same objects on two threads as a plain page on one', async () => {
    const isolated = await serve({ isolated: true });
    const threaded = await openScene(browser.context, `${isolated.url}?threads=2`);
    assert.deepEqual(await threadsShown(threaded.page), { count: '2', text: 'The image encoder and the search for objects run on 2 threads.' });
    assert.equal(isolated.requests.filter((path) => path === '/worker-threads_bg.wasm').length, 1, 'the threaded build was loaded');
    assert.ok(isolated.requests.includes('/worker-thread.js'), 'model threads were started');
    assert.ok(!isolated.requests.includes('/worker_bg.wasm'), 'the single-threaded build was not loaded');
    const onTwo = await findAllAsCoco(threaded.page);

    // The plain build (`simd=plain`), as the threaded one has no relaxed
    // SIMD: bit for bit the same arithmetic, so the same masks are owed.
    const plain = await serve({ isolated: false });
    const single = await openScene(browser.context, `${plain.url}?simd=plain`);
    assert.deepEqual(await threadsShown(single.page), { count: '1', text: 'The model runs on one thread.' });
    assert.ok(!plain.requests.some((path) => path.includes('worker-thread')), 'no threads without isolation');
    assert.ok(plain.requests.includes('/worker_bg.wasm'), 'the plain single-threaded build ran');
    assert.ok(!plain.requests.includes('/worker-relaxed.js'), 'simd=plain did not try the relaxed build');
    const onOne = await findAllAsCoco(single.page);

    assert.ok(onOne.annotations.length >= 2, `found the two rectangles at least (${onOne.annotations.length})`);
    assert.deepEqual(found(onTwo), found(onOne), 'two threads find exactly what one finds');
    assert.deepEqual(threaded.errors, []);
    assert.deepEqual(single.errors, []);
    await threaded.page.close();
    await single.page.close();
  });

  test('an isolated page that asks for one thread gets the relaxed-SIMD single-threaded build', async () => {
    const isolated = await serve({ isolated: true });
    const { page, errors } = await openPage(browser.context, `${isolated.url}?threads=1`);
    await waitForWorker(page);
    assert.deepEqual(await threadsShown(page), { count: '1', text: 'The model runs on one thread.' });
    assert.ok(isolated.requests.includes('/worker-relaxed_bg.wasm'), 'the relaxed build ran');
    assert.ok(!isolated.requests.includes('/worker_bg.wasm'), 'the plain build was not loaded');
    assert.ok(!isolated.requests.some((path) => path.includes('worker-thread')));
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the relaxed-SIMD build finds the objects the plain build finds', async () => {
    const relaxedServer = await serve({ isolated: false });
    const relaxed = await openScene(browser.context, relaxedServer.url);
    assert.ok(relaxedServer.requests.includes('/worker-relaxed_bg.wasm'), 'the relaxed build ran');
    assert.ok(!relaxedServer.requests.includes('/worker_bg.wasm'), 'the plain build was not loaded');
    const fused = await findAllAsCoco(relaxed.page);

    const plainServer = await serve({ isolated: false });
    const plain = await openScene(browser.context, `${plainServer.url}?simd=plain`);
    assert.ok(plainServer.requests.includes('/worker_bg.wasm'), 'the plain build ran');
    const unfused = await findAllAsCoco(plain.page);

    // Fused multiply-adds round once where the plain build rounds twice, so
    // scores may differ in the last places; the objects must not.
    assert.ok(unfused.annotations.length >= 2, `found the two rectangles at least (${unfused.annotations.length})`);
    const objects = (coco) => coco.annotations.map((a) => ({ bbox: a.bbox, area: a.area, predicted_iou: a.predicted_iou.toFixed(2) }));
    assert.deepEqual(objects(fused), objects(unfused), 'the relaxed build finds the same objects');
    assert.deepEqual(relaxed.errors, []);
    assert.deepEqual(plain.errors, []);
    await relaxed.page.close();
    await plain.page.close();
  });

  test('when the relaxed-SIMD build cannot load, the page falls back to the plain build and still works', async () => {
    const broken = await serve({ isolated: false, files: { '/worker-relaxed.js': MISSING } });
    const { page } = await openPage(browser.context, broken.url);
    await waitForWorker(page);
    assert.ok(broken.requests.includes('/worker-relaxed.js'), 'the relaxed build was tried first');
    assert.ok(broken.requests.includes('/worker_bg.wasm'), 'then the plain build ran');
    await page.setInputFiles('#image-file', { name: 'scene.png', mimeType: 'image/png', buffer: scenePng() });
    await waitForStage(page, 'done');
    assert.equal(await page.$('.error[role="alert"]'), null, 'no error shown for the fallback');
    await page.close();
  });

  test('when the threaded build cannot load, the page falls back to one thread and still works', async () => {
    const broken = await serve({ isolated: true, files: { '/worker-threads.js': MISSING } });
    const { page } = await openPage(browser.context, `${broken.url}?threads=2`);
    await waitForWorker(page);
    assert.ok(broken.requests.includes('/worker-threads.js'), 'the threaded build was tried first');
    assert.ok(broken.requests.includes('/worker-relaxed_bg.wasm'), 'then the relaxed single-threaded one ran');
    assert.deepEqual(await threadsShown(page), { count: '1', text: 'The model runs on one thread.' });
    await page.setInputFiles('#image-file', { name: 'scene.png', mimeType: 'image/png', buffer: scenePng() });
    await waitForStage(page, 'done');
    assert.equal(await page.$('.error[role="alert"]'), null, 'no error shown for the fallback');
    await page.close();
  });
});
