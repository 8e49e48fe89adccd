// Model threads in headless Chromium: a cross-origin isolated page runs the
// threaded worker, whose model threads (Web Workers sharing its memory) run
// the encoder, and finds exactly what one thread finds; a page that is not
// isolated, or asks for one thread, or whose threaded build is missing, runs
// on one.
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

describe('model threads', { timeout: 10 * 60_000 }, () => {
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
    assert.deepEqual(await threadsShown(threaded.page), { count: '2', text: 'The image encoder runs on 2 threads.' });
    assert.equal(isolated.requests.filter((path) => path === '/worker-threads_bg.wasm').length, 1, 'the threaded build was loaded');
    assert.ok(isolated.requests.includes('/worker-thread.js'), 'model threads were started');
    assert.ok(!isolated.requests.includes('/worker_bg.wasm'), 'the single-threaded build was not loaded');
    const onTwo = await findAllAsCoco(threaded.page);

    const plain = await serve({ isolated: false });
    const single = await openScene(browser.context, plain.url);
    assert.deepEqual(await threadsShown(single.page), { count: '1', text: 'The model runs on one thread.' });
    assert.ok(!plain.requests.some((path) => path.includes('worker-thread')), 'no threads without isolation');
    const onOne = await findAllAsCoco(single.page);

    assert.ok(onOne.annotations.length >= 2, `found the two rectangles at least (${onOne.annotations.length})`);
    assert.deepEqual(found(onTwo), found(onOne), 'two threads find exactly what one finds');
    assert.deepEqual(threaded.errors, []);
    assert.deepEqual(single.errors, []);
    await threaded.page.close();
    await single.page.close();
  });

  test('an isolated page that asks for one thread gets the single-threaded build', async () => {
    const isolated = await serve({ isolated: true });
    const { page, errors } = await openPage(browser.context, `${isolated.url}?threads=1`);
    await waitForWorker(page);
    assert.deepEqual(await threadsShown(page), { count: '1', text: 'The model runs on one thread.' });
    assert.ok(isolated.requests.includes('/worker_bg.wasm'));
    assert.ok(!isolated.requests.some((path) => path.includes('worker-thread')));
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('when the threaded build cannot load, the page falls back to one thread and still works', async () => {
    const broken = await serve({ isolated: true, files: { '/worker-threads.js': `${DIST}/missing-on-purpose.js` } });
    const { page } = await openPage(browser.context, `${broken.url}?threads=2`);
    await waitForWorker(page);
    assert.ok(broken.requests.includes('/worker-threads.js'), 'the threaded build was tried first');
    assert.deepEqual(await threadsShown(page), { count: '1', text: 'The model runs on one thread.' });
    await page.setInputFiles('#image-file', { name: 'scene.png', mimeType: 'image/png', buffer: scenePng() });
    await waitForStage(page, 'done');
    assert.equal(await page.$('.error[role="alert"]'), null, 'no error shown for the fallback');
    await page.close();
  });
});
