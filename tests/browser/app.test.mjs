// The page and its worker in headless Chromium: an image goes in through the
// file picker, a drop or a paste; the worker decodes and encodes it; the page
// draws it, reports progress and timings, and never blocks. Needs a built
// dist/ (`trunk build --release --offline`).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, openPage } from './support/browser.mjs';
import { encodePng, sceneColourAt } from './support/png.mjs';
import { DIST, serveDist } from './support/server.mjs';

const MODELS = new URL('../../models/', import.meta.url).pathname;
const TEST_MODEL_FILES = {
  '/test-models/encoder.onnx': `${MODELS}twinseg_test_encoder.onnx`,
  '/test-models/decoder.onnx': `${MODELS}twinseg_test_decoder.onnx`,
  '/test-models/not-a-model.onnx': `${MODELS}README.md`,
};

const WORK_TIMEOUT = 240_000;

const BACKGROUND = [40, 160, 90];
const RED = [220, 40, 40];
const BLUE = [40, 70, 200];
const YELLOW = [240, 220, 50];
const SCENE = {
  width: 1600,
  height: 900,
  rects: [
    { x0: 100, y0: 100, x1: 700, y1: 500, colour: RED },
    { x0: 900, y0: 300, x1: 1500, y1: 800, colour: BLUE },
    { x0: 300, y0: 200, x1: 400, y1: 300, colour: YELLOW },
  ],
};
const PROBES = [
  { x: 5, y: 5, colour: BACKGROUND },
  { x: 1595, y: 895, colour: BACKGROUND },
  { x: 150, y: 450, colour: RED },
  { x: 350, y: 250, colour: YELLOW },
  { x: 1200, y: 550, colour: BLUE },
  { x: 800, y: 200, colour: BACKGROUND },
];

function scenePng(scene = SCENE) {
  return encodePng(scene.width, scene.height, sceneColourAt(BACKGROUND, scene.rects));
}

/** Records timer ticks and data-stage changes in the page, to check it never froze. */
async function watchMainThread(page) {
  await page.evaluate(() => {
    const status = document.querySelector('.status');
    const watch = { ticks: [], stages: [{ stage: status.dataset.stage, at: performance.now() }] };
    window.__watch = watch;
    setInterval(() => watch.ticks.push(performance.now()), 5);
    new MutationObserver(() => {
      const stage = status.dataset.stage;
      if (watch.stages.at(-1).stage !== stage) watch.stages.push({ stage, at: performance.now() });
    }).observe(status, { attributes: true, attributeFilter: ['data-stage'] });
  });
}

async function waitForStage(page, stage) {
  await page.waitForSelector(`.status[data-stage="${stage}"]`, { timeout: WORK_TIMEOUT });
}

async function waitForWorker(page) {
  await page.waitForSelector('.status[data-worker="ready"]', { timeout: WORK_TIMEOUT });
}

async function canvasPixels(page, probes) {
  return page.evaluate((points) => {
    const canvas = document.querySelector('#image-canvas');
    const context = canvas.getContext('2d');
    return points.map(({ x, y }) => Array.from(context.getImageData(x, y, 1, 1).data));
  }, probes);
}

async function assertCanvasShowsScene(page) {
  const size = await page.$eval('#image-canvas', (canvas) => ({
    width: canvas.width,
    height: canvas.height,
    shownWidth: canvas.getBoundingClientRect().width,
    shownHeight: canvas.getBoundingClientRect().height,
    viewport: window.innerWidth,
  }));
  assert.equal(size.width, SCENE.width, 'canvas holds the image at its own width');
  assert.equal(size.height, SCENE.height, 'canvas holds the image at its own height');
  assert.ok(size.shownWidth > 0 && size.shownWidth <= size.viewport, `scaled to fit: ${JSON.stringify(size)}`);
  assert.ok(
    Math.abs(size.shownWidth / size.shownHeight - SCENE.width / SCENE.height) < 0.01,
    `aspect ratio kept: ${JSON.stringify(size)}`,
  );
  const pixels = await canvasPixels(page, PROBES);
  PROBES.forEach((probe, i) => {
    assert.deepEqual(pixels[i], [...probe.colour, 255], `pixel at (${probe.x}, ${probe.y})`);
  });
}

async function dispatchFileEvent(page, kind, { name, type, bytes }) {
  await page.evaluate(
    ({ kind, name, type, data }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(data)], name, { type }));
      const event =
        kind === 'paste'
          ? new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true })
          : new DragEvent(kind, { dataTransfer: transfer, bubbles: true, cancelable: true });
      document.body.dispatchEvent(event);
    },
    { kind, name, type, data: Array.from(bytes) },
  );
}

describe('twinseg page without cross-origin isolation', { timeout: 10 * 60_000 }, () => {
  test('an image is drawn and encoded on a plain static server', async () => {
    const server = await serveDist({ isolated: false });
    const browser = await launchBrowser();
    try {
      const { page, errors } = await openPage(browser.context, server.url);
      assert.equal(await page.evaluate(() => window.crossOriginIsolated), false);
      await waitForWorker(page);
      await page.setInputFiles('#image-file', { name: 'scene.png', mimeType: 'image/png', buffer: scenePng() });
      await waitForStage(page, 'done');
      await assertCanvasShowsScene(page);
      assert.deepEqual(errors, []);
      assert.deepEqual(browser.offsite, [], 'no request left 127.0.0.1');
    } finally {
      await browser.close();
      await server.close();
    }
  });
});

describe('twinseg page', { timeout: 20 * 60_000 }, () => {
  let server;
  let browser;

  before(async () => {
    assert.ok(existsSync(`${DIST}/index.html`), `no built app in ${DIST}: run \`trunk build --release --offline\` first`);
    server = await serveDist({ files: TEST_MODEL_FILES });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    assert.deepEqual(browser?.offsite ?? [], [], 'no request left 127.0.0.1');
  });

  test('an image picked with the file input is drawn and encoded in the worker while the page stays responsive', async () => {
    const { page, errors } = await openPage(browser.context, server.url);
    assert.equal(await page.evaluate(() => window.crossOriginIsolated), true, 'served cross-origin isolated');
    await waitForWorker(page);
    assert.match(await page.textContent('.status-line'), /drop, paste or choose an image/i);
    assert.equal(await page.$eval('.stage', (figure) => getComputedStyle(figure).display), 'none', 'no canvas before an image');
    await watchMainThread(page);

    await page.setInputFiles('#image-file', { name: 'scene.png', mimeType: 'image/png', buffer: scenePng() });
    await waitForStage(page, 'done');

    await assertCanvasShowsScene(page);
    assert.match(await page.textContent('.image-size'), /1600\s*×\s*900 px/);
    assert.match(await page.textContent('.file-name'), /scene\.png/);
    assert.match(await page.textContent('.status-line'), /encoded/i);
    const timings = await page.$$eval('.timing', (rows) =>
      Object.fromEntries(rows.map((row) => [row.querySelector('dt').textContent, row.querySelector('dd').textContent])),
    );
    for (const label of ['Decoded', 'Model loaded', 'Prepared', 'Encoded', 'Total']) {
      assert.match(timings[label] ?? '', /^\d+(\.\d+)? m?s$/, `${label} time shown: ${JSON.stringify(timings)}`);
    }
    assert.equal(await page.$eval('.stage-progress', (bar) => bar.value === bar.max), true, 'progress bar full');

    const watch = await page.evaluate(() => window.__watch);
    const seen = watch.stages.map((entry) => entry.stage);
    for (const stage of ['decoding', 'loading_model', 'encoding', 'done']) {
      assert.ok(seen.includes(stage), `stage ${stage} reported, saw ${seen.join(' → ')}`);
    }
    const start = watch.stages.find((entry) => entry.stage === 'decoding').at;
    const end = watch.stages.find((entry) => entry.stage === 'done').at;
    const ticks = watch.ticks.filter((at) => at >= start && at <= end);
    const points = [start, ...ticks, end];
    const gaps = points.slice(1).map((at, i) => at - points[i]);
    const longestStall = Math.max(...gaps);
    const busy = end - start;
    console.log(`worker busy ${busy.toFixed(0)} ms; page timer ticked ${ticks.length} times, longest stall ${longestStall.toFixed(0)} ms`);
    assert.ok(ticks.length >= 2, `the page's timer kept ticking while the worker worked (${ticks.length} ticks)`);
    assert.ok(longestStall < busy, `the page never stalled for the whole work (stall ${longestStall} ms of ${busy} ms)`);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a file that is not an image gets a readable error in the page', async () => {
    const { page } = await openPage(browser.context, server.url);
    await waitForWorker(page);
    await page.setInputFiles('#image-file', {
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('shopping list: apples, a chair, two red cups\n'),
    });
    await waitForStage(page, 'failed');
    const alert = await page.textContent('[role="alert"]');
    assert.match(alert, /notes\.txt/);
    assert.match(alert, /not an image/i);
    assert.match(await page.textContent('.status-line'), /decoding the image failed/i);
    assert.equal(await page.$eval('.stage', (figure) => getComputedStyle(figure).display), 'none', 'nothing drawn');

    await page.click('[role="alert"] button');
    assert.equal(await page.$('[role="alert"]'), null, 'the error can be dismissed');
    await page.close();
  });

  test('an image dropped anywhere on the page is drawn and encoded', async () => {
    const { page } = await openPage(browser.context, server.url);
    await waitForWorker(page);
    await dispatchFileEvent(page, 'dragover', { name: 'scene.png', type: 'image/png', bytes: scenePng() });
    assert.equal(await page.$eval('.picker', (picker) => picker.classList.contains('dragging')), true, 'drop target highlighted');
    await dispatchFileEvent(page, 'drop', { name: 'dropped.png', type: 'image/png', bytes: scenePng() });
    await waitForStage(page, 'done');
    assert.equal(await page.$eval('.picker', (picker) => picker.classList.contains('dragging')), false);
    assert.match(await page.textContent('.file-name'), /dropped\.png/);
    await assertCanvasShowsScene(page);
    await page.close();
  });

  test('a pasted image is drawn and encoded, and replaces the previous one', async () => {
    const { page } = await openPage(browser.context, server.url);
    await waitForWorker(page);
    const small = { width: 40, height: 30, rects: [{ x0: 0, y0: 0, x1: 20, y1: 30, colour: BLUE }] };
    await page.setInputFiles('#image-file', { name: 'small.png', mimeType: 'image/png', buffer: scenePng(small) });
    await waitForStage(page, 'done');
    assert.match(await page.textContent('.image-size'), /40\s*×\s*30 px/);

    await dispatchFileEvent(page, 'paste', { name: 'pasted.png', type: 'image/png', bytes: scenePng() });
    await page.waitForFunction(() => document.querySelector('.file-name')?.textContent === 'pasted.png');
    await waitForStage(page, 'done');
    assert.match(await page.textContent('.image-size'), /1600\s*×\s*900 px/);
    await assertCanvasShowsScene(page);
    const timings = await page.$$eval('.timing dt', (terms) => terms.map((term) => term.textContent));
    assert.ok(!timings.includes('Model loaded'), `the model is loaded once per worker: ${timings}`);
    await page.close();
  });

  test('Escape cancels the work on an image, and the next image still works', async () => {
    const { page } = await openPage(browser.context, server.url);
    await waitForWorker(page);
    const big = { width: 4000, height: 3000, rects: [{ x0: 500, y0: 500, x1: 2500, y1: 2000, colour: RED }] };
    await page.setInputFiles('#image-file', { name: 'big.png', mimeType: 'image/png', buffer: scenePng(big) });
    await page.waitForSelector('.status button.cancel');
    await page.keyboard.press('Escape');
    await waitForStage(page, 'cancelled');
    assert.match(await page.textContent('.status-line'), /cancelled/i);
    assert.equal(await page.$('.status button.cancel'), null, 'nothing left to cancel');
    await waitForWorker(page);
    // A report from the cancelled work must not arrive later and change the state.
    await page.waitForTimeout(500);
    assert.equal(await page.$eval('.status', (status) => status.dataset.stage), 'cancelled');

    await page.setInputFiles('#image-file', { name: 'scene.png', mimeType: 'image/png', buffer: scenePng() });
    await waitForStage(page, 'done');
    await assertCanvasShowsScene(page);
    await page.close();
  });

  test('Escape dismisses an error', async () => {
    const { page } = await openPage(browser.context, server.url);
    await waitForWorker(page);
    await page.setInputFiles('#image-file', { name: 'empty.png', mimeType: 'image/png', buffer: Buffer.alloc(0) });
    await page.waitForSelector('[role="alert"]');
    await page.keyboard.press('Escape');
    assert.equal(await page.$('[role="alert"]'), null);
    await page.close();
  });

  test('a model given by address is downloaded with progress, encodes the image again, and comes from the cache next visit', async () => {
    const modelRequests = () => server.requests.filter((path) => /^\/test-models\/(en|de)coder\.onnx$/.test(path)).length;
    const loadModel = async (page, encoder, decoder) => {
      await page.click('.model-panel summary');
      await page.fill('#encoder-url', encoder);
      await page.fill('#decoder-url', decoder);
      await page.click('.model-form button[type="submit"]');
    };
    const { page, errors } = await openPage(browser.context, server.url);
    await waitForWorker(page);
    await page.setInputFiles('#image-file', { name: 'scene.png', mimeType: 'image/png', buffer: scenePng() });
    await waitForStage(page, 'done');
    await page.evaluate(() => {
      const panel = document.querySelector('.model-panel');
      window.__modelTexts = [];
      new MutationObserver(() => {
        window.__modelTexts.push(panel.querySelector('.model-state').textContent);
        if (panel.querySelector('.model-progress')) window.__sawModelProgress = true;
      }).observe(panel, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    const before = modelRequests();

    await loadModel(page, 'test-models/encoder.onnx', 'test-models/decoder.onnx');
    await page.waitForSelector('.model-state[data-model-state="ready"]', { timeout: WORK_TIMEOUT });
    assert.match(await page.textContent('.model-state'), /downloaded/);
    assert.match(await page.textContent('.model-panel summary'), /Model: encoder/);
    assert.equal(modelRequests() - before, 2, 'both files downloaded once');
    const texts = await page.evaluate(() => window.__modelTexts);
    assert.ok(texts.some((text) => /Getting the (encoder|decoder): \d+ KB of \d+ KB/.test(text)), `progress shown: ${texts}`);
    assert.equal(await page.evaluate(() => window.__sawModelProgress), true, 'a progress bar was shown');
    await page.waitForFunction(() => [...document.querySelectorAll('.timing dt')].map((dt) => dt.textContent).join() === 'Prepared,Encoded,Total');
    await waitForStage(page, 'done');
    await assertCanvasShowsScene(page);
    assert.deepEqual(errors, []);

    await page.reload();
    await waitForWorker(page);
    await loadModel(page, 'test-models/encoder.onnx', 'test-models/decoder.onnx');
    await page.waitForSelector('.model-state[data-model-state="ready"]', { timeout: WORK_TIMEOUT });
    assert.match(await page.textContent('.model-state'), /from this browser's cache/);
    assert.equal(modelRequests() - before, 2, 'nothing downloaded on the second visit');

    await page.click('text=Forget downloaded models');
    await page.waitForSelector('.model-note:has-text("forgotten")');
    await page.click('.model-form button[type="submit"]');
    await page.waitForSelector('.model-state[data-model-state="ready"]:has-text("downloaded")', { timeout: WORK_TIMEOUT });
    assert.equal(modelRequests() - before, 4, 'downloaded again after forgetting');
    await page.close();
  });

  test('a model that is missing or not ONNX gets a readable error and the previous model stays', async () => {
    const { page } = await openPage(browser.context, server.url);
    await waitForWorker(page);
    await page.click('.model-panel summary');
    await page.fill('#encoder-url', 'test-models/missing.onnx');
    await page.fill('#decoder-url', 'test-models/decoder.onnx');
    await page.click('.model-form button[type="submit"]');
    await page.waitForSelector('.model-state[data-model-state="failed"]', { timeout: WORK_TIMEOUT });
    assert.match(await page.textContent('[role="alert"]'), /encoder model could not be downloaded from test-models\/missing\.onnx: nothing is there \(HTTP 404\); check the address/);
    assert.match(await page.textContent('.model-state'), /still using the built-in test model/);

    await page.fill('#encoder-url', 'test-models/not-a-model.onnx');
    await page.click('.model-form button[type="submit"]');
    await page.waitForSelector('.model-state[data-model-state="failed"]', { timeout: WORK_TIMEOUT });
    assert.match(await page.textContent('[role="alert"]'), /cannot be used: .*not a valid ONNX file/);

    await page.setInputFiles('#image-file', { name: 'scene.png', mimeType: 'image/png', buffer: scenePng() });
    await waitForStage(page, 'done');
    await page.close();
  });

  test('the file picker is reachable with the keyboard and labelled', async () => {
    const { page } = await openPage(browser.context, server.url);
    await page.waitForSelector('#image-file', { state: 'attached' });
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => ({
      id: document.activeElement.id,
      label: document.activeElement.labels?.[0]?.textContent,
    }));
    assert.equal(focused.id, 'image-file');
    assert.match(focused.label ?? '', /choose an image/i);
    await page.close();
  });
});
