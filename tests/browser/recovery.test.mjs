// When the worker dies, the page starts a new one, says so, and keeps the
// image: the new worker encodes it again and the person can go on. Needs a
// built dist/.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { canvasPixels, waitForStage, waitForWorker } from './support/app.mjs';
import { launchBrowser, openPage } from './support/browser.mjs';
import { encodePng, sceneColourAt } from './support/png.mjs';
import { serveDist } from './support/server.mjs';

const GREEN = [40, 160, 90];
const RED = [220, 40, 40];

/** The page's model workers, without the model threads a threaded one starts. */
function modelWorkers(page) {
  return page.workers().filter((worker) => /\/worker(_|-threads-)loader\.js/.test(worker.url()));
}

/** Makes the page's running worker throw an uncaught error, as a crash would. */
async function crashWorker(page) {
  const workers = modelWorkers(page);
  assert.equal(workers.length, 1, 'one worker runs');
  await workers[0].evaluate(() => {
    setTimeout(() => {
      throw new Error('simulated worker crash');
    });
  });
}

test('a crashed worker is restarted and the image is kept', { timeout: 10 * 60_000 }, async () => {
  const server = await serveDist();
  const browser = await launchBrowser();
  try {
    const { page } = await openPage(browser.context, server.url);
    await waitForWorker(page);
    const image = encodePng(48, 32, sceneColourAt(GREEN, [{ x0: 0, y0: 0, x1: 24, y1: 32, colour: RED }]));
    await page.setInputFiles('#image-file', { name: 'kept.png', mimeType: 'image/png', buffer: image });
    await waitForStage(page, 'done');
    const [crashed] = modelWorkers(page);

    await crashWorker(page);
    const alert = await page.waitForSelector('[role="alert"]:has-text("restarted")');
    assert.match(await alert.textContent(), /simulated worker crash.*restarted; your image and question are kept/);
    await waitForWorker(page);
    await waitForStage(page, 'done');
    for (let tries = 0; page.workers().includes(crashed) && tries < 50; tries++) await page.waitForTimeout(100);
    assert.ok(!page.workers().includes(crashed), 'the crashed worker is gone');
    assert.equal(modelWorkers(page).length, 1, 'a new worker runs');
    assert.match(await page.textContent('.file-name'), /kept\.png/);
    assert.deepEqual(await canvasPixels(page, [{ x: 5, y: 5 }, { x: 40, y: 5 }]), [
      [...RED, 255],
      [...GREEN, 255],
    ]);

    const next = encodePng(30, 20, sceneColourAt(RED, []));
    await page.setInputFiles('#image-file', { name: 'next.png', mimeType: 'image/png', buffer: next });
    await page.waitForFunction(() => document.querySelector('.file-name')?.textContent === 'next.png');
    await waitForStage(page, 'done');
    assert.match(await page.textContent('.image-size'), /30\s*×\s*20 px/);
    assert.deepEqual(browser.offsite, [], 'no request left 127.0.0.1');
  } finally {
    await browser.close();
    await server.close();
  }
});
