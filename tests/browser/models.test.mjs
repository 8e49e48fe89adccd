// Choosing the model in the page: a pair of ONNX files picked from disk (read
// by the worker, never uploaded), a pair that breaks the SAM contract, and
// clearing the browser's model cache. Needs a built dist/.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { WORK_TIMEOUT, waitForStage, waitForWorker } from './support/app.mjs';
import { launchBrowser, openPage } from './support/browser.mjs';
import { encodePng, sceneColourAt } from './support/png.mjs';
import { serveDist } from './support/server.mjs';

const MODELS = new URL('../../models/', import.meta.url).pathname;
const ENCODER = `${MODELS}twinseg_test_encoder.onnx`;
const DECODER = `${MODELS}twinseg_test_decoder.onnx`;
const MODEL_CACHE = 'twinseg-models-v1';
// The shared MobileSAM reference pair (real architecture, random weights),
// as people download it: int8 encoder, decoder quantized the upstream way.
const SHARED = new URL('../../../shared/models/', import.meta.url).pathname;
const REFERENCE_ENCODER = `${SHARED}mobilesam_encoder_int8.onnx`;
const REFERENCE_DECODER = `${SHARED}mobilesam_decoder_int8.onnx`;
const HAVE_REFERENCE = existsSync(REFERENCE_ENCODER) && existsSync(REFERENCE_DECODER);

function smallScene() {
  return encodePng(48, 32, sceneColourAt([40, 160, 90], [{ x0: 4, y0: 4, x1: 20, y1: 28, colour: [220, 40, 40] }]));
}

async function pickModelFiles(page, encoder, decoder) {
  if (!(await page.$eval('.model-panel', (panel) => panel.open))) await page.click('.model-panel summary');
  await page.setInputFiles('#encoder-file', encoder);
  await page.setInputFiles('#decoder-file', decoder);
  await page.click('.model-files button[type="submit"]');
}

describe('model choice', { timeout: 10 * 60_000 }, () => {
  let server;
  let browser;

  before(async () => {
    server = await serveDist({
      files: {
        '/test-models/encoder.onnx': ENCODER,
        '/test-models/decoder.onnx': DECODER,
        ...(HAVE_REFERENCE ? { '/reference/encoder.onnx': REFERENCE_ENCODER, '/reference/decoder.onnx': REFERENCE_DECODER } : {}),
      },
    });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    assert.deepEqual(browser?.offsite ?? [], [], 'no request left 127.0.0.1');
  });

  test('a model picked as two files loads in the worker and encodes the image', async () => {
    const { page, errors } = await openPage(browser.context, server.url);
    await waitForWorker(page);
    await pickModelFiles(page, ENCODER, DECODER);
    await page.waitForSelector('.model-state[data-model-state="ready"]:has-text("twinseg_test_encoder.onnx")', {
      timeout: WORK_TIMEOUT,
    });
    assert.match(await page.textContent('.model-panel summary'), /Model: the picked file twinseg_test_encoder\.onnx/);
    await page.setInputFiles('#image-file', { name: 'small.png', mimeType: 'image/png', buffer: smallScene() });
    await waitForStage(page, 'done');
    assert.ok(!server.requests.some((path) => path.endsWith('.onnx')), `no model file went over the network: ${server.requests}`);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('files that break the SAM contract get a message naming the file and the problem', async () => {
    const { page } = await openPage(browser.context, server.url);
    await waitForWorker(page);
    await pickModelFiles(page, DECODER, ENCODER);
    await page.waitForSelector('.model-state[data-model-state="failed"]', { timeout: WORK_TIMEOUT });
    const alert = await page.textContent('[role="alert"]');
    assert.match(alert, /cannot be used: the encoder model does not fit the SAM contract: /);
    assert.match(await page.textContent('.model-state'), /still using the built-in test model/);

    await pickModelFiles(page, ENCODER, { name: 'notes.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from('not a model') });
    await page.waitForSelector('.model-state[data-model-state="failed"]', { timeout: WORK_TIMEOUT });
    assert.match(await page.textContent('[role="alert"]'), /the decoder model is not a valid ONNX file/);
    await page.close();
  });

  test('picking only one file asks for both', async () => {
    const { page } = await openPage(browser.context, server.url);
    await page.click('.model-panel summary');
    await page.setInputFiles('#encoder-file', ENCODER);
    await page.click('.model-files button[type="submit"]');
    assert.match(await page.textContent('.model-note'), /Pick both files/);
    await page.close();
  });

  test('clearing cached models empties the Cache API', async () => {
    const { page } = await openPage(browser.context, server.url);
    await waitForWorker(page);
    await page.click('.model-panel summary');
    await page.fill('#encoder-url', 'test-models/encoder.onnx');
    await page.fill('#decoder-url', 'test-models/decoder.onnx');
    await page.click('.model-form button[type="submit"]');
    await page.waitForSelector('.model-state[data-model-state="ready"]', { timeout: WORK_TIMEOUT });
    const cached = await page.evaluate(async (name) => (await (await caches.open(name)).keys()).map((request) => request.url), MODEL_CACHE);
    assert.deepEqual(cached.sort(), [`${server.url}test-models/decoder.onnx`, `${server.url}test-models/encoder.onnx`]);

    await page.click('text=Forget downloaded models');
    await page.waitForSelector('.model-note:has-text("forgotten")');
    assert.equal(await page.evaluate((name) => caches.has(name), MODEL_CACHE), false, 'the model cache is gone');
    await page.close();
  });

  test(
    'the MobileSAM reference pair (int8 as upstream ships it) loads, encodes and answers a point prompt in wasm',
    { skip: HAVE_REFERENCE ? false : '../shared/models is absent' },
    async () => {
      const { page, errors } = await openPage(browser.context, server.url);
      await waitForWorker(page);
      await page.click('.model-panel summary');
      await page.fill('#encoder-url', 'reference/encoder.onnx');
      await page.fill('#decoder-url', 'reference/decoder.onnx');
      await page.click('.model-form button[type="submit"]');
      await page.waitForSelector('.model-state[data-model-state="ready"]', { timeout: WORK_TIMEOUT });
      await page.setInputFiles('#image-file', { name: 'small.png', mimeType: 'image/png', buffer: smallScene() });
      await waitForStage(page, 'done');
      const at = await page.$eval('#mask-canvas', (canvas) => {
        canvas.scrollIntoView({ block: 'center' });
        const rect = canvas.getBoundingClientRect();
        return { x: rect.left + (12.5 * rect.width) / canvas.width, y: rect.top + (16.5 * rect.height) / canvas.height };
      });
      await page.mouse.click(at.x, at.y);
      await page.waitForSelector('.prompt-result', { timeout: WORK_TIMEOUT });
      assert.match(await page.textContent('.prompt-result'), /Prompt mask: \d+ px, predicted IoU -?\d+\.\d\d\./);
      assert.deepEqual(errors, []);
      assert.equal(await page.$('[role="alert"]'), null, 'no error shown');
      await page.close();
    },
  );
});
