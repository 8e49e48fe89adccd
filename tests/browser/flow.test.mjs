// The whole flow in the page, in headless Chromium: find all objects (live,
// stoppable), hover, ask the embedded reasoner, ask a remote reasoner (a mock
// on 127.0.0.1 that records what it gets), point prompts, and downloads.
// Small image, small grid, one page, so the suite stays quick.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { WORK_TIMEOUT } from './support/app.mjs';
import { launchBrowser } from './support/browser.mjs';
import { chatReply, mockReasoner } from './support/reasoner.mjs';
import { IN_BLUE, IN_RED, OUTSIDE, SCENE, alphaAt, openScene } from './support/scene.mjs';
import { DIST, serveDist } from './support/server.mjs';

/** Screen position of an image pixel on the (scaled) top canvas. */
async function screenPoint(page, { x, y }) {
  return page.$eval(
    '#mask-canvas',
    (canvas, p) => {
      canvas.scrollIntoView({ block: 'center' });
      const rect = canvas.getBoundingClientRect();
      return { x: rect.left + ((p.x + 0.5) * rect.width) / canvas.width, y: rect.top + ((p.y + 0.5) * rect.height) / canvas.height };
    },
    { x, y },
  );
}

/** PNG width, height and colour type from its header. */
function pngHeader(bytes) {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG file');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20), colourType: bytes[25] };
}

async function download(page, selector) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  return { name: file.suggestedFilename(), bytes: readFileSync(await file.path()) };
}

async function ask(page, question) {
  await page.fill('#question', question);
  await page.press('#question', 'Enter');
}

describe('the whole flow in the page', { timeout: 15 * 60_000 }, () => {
  let server;
  let browser;
  let page;
  let errors;
  let mock;

  before(async () => {
    assert.ok(existsSync(`${DIST}/index.html`), `no built app in ${DIST}: run \`trunk build --release --offline\` first`);
    server = await serveDist();
    browser = await launchBrowser();
    mock = await mockReasoner();
    ({ page, errors } = await openScene(browser.context, server.url));
  });

  after(async () => {
    await page?.close();
    await browser?.close();
    await server?.close();
    await mock?.close();
    assert.deepEqual(browser?.offsite ?? [], [], 'no request left 127.0.0.1');
  });

  test('find all objects paints them live, reports the count, and hover names one', async () => {
    await page.click('.find-settings summary');
    assert.equal(await page.inputValue('#points-per-side'), '32', 'the default grid is SAM\'s 32x32');
    assert.equal(await page.isChecked('#skip-covered'), true, 'covered points are skipped by default');
    // The full grid, so the run has several batches to paint live.
    await page.uncheck('#skip-covered');
    await page.fill('#points-per-side', '8');
    await page.press('#points-per-side', 'Tab');
    await page.evaluate(() => {
      window.__runs = [];
      window.__paints = new Set();
      const panel = document.querySelector('.find-panel');
      new MutationObserver(() => {
        window.__runs.push(panel.dataset.run);
        const live = /Finding objects\u2026 (\d+) of \d+ grid points, (\d+) kept so far/.exec(panel.querySelector('.find-summary').textContent);
        const canvas = document.querySelector('#objects-canvas');
        const painted = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data.some((v, i) => i % 4 === 3 && v > 0);
        if (live && Number(live[2]) > 0 && painted) window.__paints.add(Number(live[1]));
      }).observe(panel, { attributes: true, subtree: true, childList: true, characterData: true });
    });
    await page.click('.find-all');
    await page.waitForSelector('.find-panel[data-run="done"]', { timeout: WORK_TIMEOUT });
    const count = Number(await page.$eval('.find-panel', (panel) => panel.dataset.count));
    assert.ok(count >= 2, `found the two rectangles at least (${count})`);
    assert.match(await page.textContent('.find-summary'), new RegExp(`Found ${count} objects`));
    assert.ok((await page.evaluate(() => window.__runs)).includes('running'), 'progress was shown while running');
    const paints = await page.evaluate(() => [...window.__paints]);
    assert.ok(paints.length >= 2, `masks were painted after at least two batches before the end (after prompts ${paints})`);
    const [red, blue] = await alphaAt(page, '#objects-canvas', [IN_RED, IN_BLUE]);
    assert.ok(red > 0 && blue > 0, `objects painted over both rectangles (${red}, ${blue})`);

    const at = await screenPoint(page, IN_RED);
    await page.mouse.move(at.x, at.y);
    await page.waitForSelector('.hover-info[data-hover]');
    assert.match(await page.textContent('.hover-info'), /#\d+ · (object|part|subpart).*predicted IoU \d\.\d\d · stability \d\.\d\d/);
    const hovered = await alphaAt(page, '#objects-canvas', [IN_RED]);
    assert.ok(hovered[0] > red, 'the hovered object is highlighted');
    await page.mouse.move(0, 0);
    assert.deepEqual(errors, []);
  });

  test('asking answers with a mask over the right object and lists the steps', async () => {
    await ask(page, 'the blue rectangle');
    await page.waitForSelector('.answer[data-none="false"]', { timeout: WORK_TIMEOUT });
    const [red, blue, outside] = await alphaAt(page, '#mask-canvas', [IN_RED, IN_BLUE, OUTSIDE]);
    assert.ok(blue > 0, 'answer mask over the blue rectangle');
    assert.equal(red, 0, 'not over the red one');
    assert.equal(outside, 0, 'not over the background');
    assert.ok((await page.$$('.steps li')).length > 0, 'reasoning steps listed');
    if (process.env.TWINSEG_SCREENSHOT) {
      await page.screenshot({ path: process.env.TWINSEG_SCREENSHOT, fullPage: true });
    }

    await ask(page, 'the purple elephant');
    await page.waitForSelector('.answer[data-none="true"]', { timeout: WORK_TIMEOUT });
    assert.match(await page.textContent('.answer-state'), /None of them\. \S/);
    const [blueAfter] = await alphaAt(page, '#mask-canvas', [IN_BLUE]);
    assert.equal(blueAfter, 0, 'a "none" answer shows no mask');
  });

  test('a click is a point prompt that gives a mask at once; clearing removes it', async () => {
    const at = await screenPoint(page, IN_RED);
    await page.mouse.click(at.x, at.y);
    await page.waitForSelector('.prompt-result', { timeout: WORK_TIMEOUT });
    const [red, blue] = await alphaAt(page, '#mask-canvas', [{ x: IN_RED.x + 15, y: IN_RED.y + 15 }, IN_BLUE]);
    assert.ok(red > 0, 'mask over the clicked rectangle');
    assert.equal(blue, 0, 'not over the other one');
    const times = await page.$eval('.prompt-result', (result) => ({ decoder: Number(result.dataset.decoderMs), mask: Number(result.dataset.maskMs) }));
    assert.ok(times.decoder > 0, `the worker timed its decoder run (${times.decoder} ms)`);
    assert.ok(times.mask >= 0 && Number.isFinite(times.mask), `and the mask's upsampling (${times.mask} ms)`);
    await page.click('.clear-prompts');
    const [cleared] = await alphaAt(page, '#mask-canvas', [{ x: IN_RED.x + 15, y: IN_RED.y + 15 }]);
    assert.equal(cleared, 0);
  });

  test('downloads: mask and cut-out PNGs, COCO and Digital Twin JSON', async () => {
    await ask(page, 'the red rectangle');
    await page.waitForSelector('.answer[data-none="false"]', { timeout: WORK_TIMEOUT });
    const mask = await download(page, '.download-mask');
    assert.equal(mask.name, 'mask.png');
    assert.deepEqual(pngHeader(mask.bytes), { width: SCENE.width, height: SCENE.height, colourType: 6 });
    const cut = await download(page, '.download-cutout');
    assert.equal(cut.name, 'cutout.png');
    assert.deepEqual(pngHeader(cut.bytes), { width: SCENE.width, height: SCENE.height, colourType: 6 });
    const alpha = await page.evaluate(async (bytes) => {
      const bitmap = await createImageBitmap(new Blob([new Uint8Array(bytes)], { type: 'image/png' }));
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const context = canvas.getContext('2d');
      context.drawImage(bitmap, 0, 0);
      return [context.getImageData(40, 70, 1, 1).data[3], context.getImageData(125, 45, 1, 1).data[3]];
    }, Array.from(cut.bytes));
    assert.deepEqual(alpha, [255, 0], 'the cut-out keeps the answer and is transparent elsewhere');

    const count = Number(await page.$eval('.find-panel', (panel) => panel.dataset.count));
    const coco = JSON.parse((await download(page, '.download-coco')).bytes.toString('utf8'));
    assert.equal(coco.image.width, SCENE.width);
    assert.equal(coco.annotations.length, count);
    const twin = JSON.parse((await download(page, '.download-twin')).bytes.toString('utf8'));
    assert.equal(twin.image.height, SCENE.height);
    assert.equal(twin.objects.length, count);
  });

  test('a remote reasoner gets only the shown Digital Twin and question; its failures keep the work', async () => {
    const twin = JSON.parse((await download(page, '.download-twin')).bytes.toString('utf8'));
    const redId = twin.objects
      .filter((o) => o.bbox[0] <= 219 && o.bbox[2] > 219 && o.bbox[1] <= 500 && o.bbox[3] > 500)
      .sort((a, b) => a.area_pct - b.area_pct)[0].id;
    await page.click('.reasoner-panel summary');
    await page.check('#reasoner-remote');
    await page.fill('#reasoner-url', mock.url);
    await page.fill('#reasoner-model', 'mock-model');
    await page.fill('#reasoner-key', 'sk-test');
    await page.fill('#question', 'the red rectangle');
    await page.click('.show-payload');
    await page.waitForSelector('.payload');
    assert.equal(mock.bodies.length, 0, 'showing the payload sends nothing');
    const shown = await page.textContent('.payload');

    mock.reply = { status: 200, body: chatReply({ steps: ['Red: the left rectangle.'], ids: [redId] }) };
    await page.press('#question', 'Enter');
    await page.waitForSelector('.answer-meta:has-text("remote")', { timeout: WORK_TIMEOUT });
    assert.equal(mock.bodies.length, 1);
    const sent = mock.bodies[0];
    assert.equal(sent.path, '/v1/chat/completions');
    assert.equal(sent.auth, 'Bearer sk-test');
    assert.equal(sent.text, shown, 'the request body is exactly the shown payload');
    const body = JSON.parse(sent.text);
    assert.equal(body.model, 'mock-model');
    assert.deepEqual(Object.keys(body).sort(), ['messages', 'model', 'temperature']);
    assert.match(body.messages.at(-1).content, /Question: the red rectangle/);
    assert.doesNotMatch(sent.text, /data:image|base64|[A-Za-z0-9+/]{200}/, 'no image data');
    assert.ok(sent.text.length < 20_000, `small payload (${sent.text.length} chars)`);
    const [red, blue] = await alphaAt(page, '#mask-canvas', [IN_RED, IN_BLUE]);
    assert.ok(red > 0 && blue === 0, 'the remote answer is drawn');
    const count = await page.$eval('.find-panel', (panel) => panel.dataset.count);

    for (const [reply, expected] of [
      [{ status: 500, body: 'upstream exploded' }, /kept failing after 4 attempts \(last: HTTP 500: upstream exploded\)/],
      [{ status: 200, body: '<html>not json</html>' }, /not a chat completion/],
    ]) {
      mock.reply = reply;
      await page.press('#question', 'Enter');
      await page.waitForSelector('[role="alert"]', { timeout: WORK_TIMEOUT });
      assert.match(await page.textContent('[role="alert"]'), expected);
      const [stillRed] = await alphaAt(page, '#mask-canvas', [IN_RED]);
      assert.ok(stillRed > 0, 'the previous mask stays');
      assert.equal(await page.$eval('.find-panel', (panel) => panel.dataset.count), count, 'the objects stay');
      assert.equal(await page.inputValue('#question'), 'the red rectangle', 'the question stays');
      await page.click('[role="alert"] button');
    }
    await page.check('#reasoner-embedded');
  });

  test('stopping a run keeps what was found', async () => {
    await page.fill('#points-per-side', '48');
    await page.press('#points-per-side', 'Tab');
    await page.click('.find-all');
    await page.waitForSelector('.find-panel[data-run="running"]:not([data-count="0"]) .find-progress', { timeout: WORK_TIMEOUT });
    await page.keyboard.press('Escape');
    await page.waitForSelector('.find-panel[data-run="cancelled"]', { timeout: WORK_TIMEOUT });
    const summary = await page.textContent('.find-summary');
    const [, done, total] = summary.match(/Stopped after (\d+) of (\d+) grid points/) ?? [];
    assert.ok(Number(done) < Number(total), summary);
    assert.equal(Number(total), 48 * 48);
    const kept = Number(await page.$eval('.find-panel', (panel) => panel.dataset.count));
    assert.ok(kept > 0, 'what was found before the stop is kept');
    assert.equal(await page.$eval('.status', (s) => s.dataset.worker), 'ready', 'the worker kept running');
    await ask(page, 'the blue rectangle');
    await page.waitForSelector('.answer[data-none]', { timeout: WORK_TIMEOUT });
    assert.equal(await page.$eval('.find-panel', (panel) => panel.dataset.run), 'cancelled', 'the answer comes from the kept objects, not a new run');
    assert.equal(Number(await page.$eval('.find-panel', (panel) => panel.dataset.count)), kept);
    // Chromium logs the mock's 500 answer as a failed resource load; nothing else may fail.
    assert.deepEqual(errors.filter((error) => !/status of 500/.test(error)), []);
  });
});
