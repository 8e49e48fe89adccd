// Embedding the app: address parameters (?image, ?model, ?query, ?embed), the
// <twin-seg> element and the documentation page www/embed.html. Needs a built
// dist/ (`trunk build --release --offline`).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { canvasPixels, waitForStage, waitForWorker } from './support/app.mjs';
import { launchBrowser, openPage } from './support/browser.mjs';
import { encodePng, sceneColourAt } from './support/png.mjs';
import { serveDist } from './support/server.mjs';

const MODELS = new URL('../../models/', import.meta.url).pathname;
const BACKGROUND = [40, 160, 90];
const RED = [220, 40, 40];
const BLUE = [40, 70, 200];
// The picture in www/embed-sample.png, which embed.html shows.
const SAMPLE_PROBES = [
  { x: 5, y: 5, colour: BACKGROUND },
  { x: 90, y: 100, colour: RED },
  { x: 240, y: 100, colour: BLUE },
];

async function appFrame(page, selector) {
  const handle = await page.waitForSelector(selector);
  const frame = await handle.contentFrame();
  assert.ok(frame, `${selector} has a frame`);
  return frame;
}

async function assertDrawn(frame, probes) {
  const pixels = await canvasPixels(frame, probes);
  probes.forEach((probe, i) => {
    assert.deepEqual(pixels[i], [...probe.colour, 255], `pixel at (${probe.x}, ${probe.y})`);
  });
}

describe('embedding', { timeout: 10 * 60_000 }, () => {
  let server;
  let browser;

  before(async () => {
    const scene = encodePng(64, 48, sceneColourAt(BLUE, [{ x0: 8, y0: 8, x1: 32, y1: 40, colour: RED }]));
    server = await serveDist({
      files: {
        '/test-models/encoder.onnx': `${MODELS}twinseg_test_encoder.onnx`,
        '/test-models/decoder.onnx': `${MODELS}twinseg_test_decoder.onnx`,
      },
      bodies: { '/pictures/small scene.png': scene },
    });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    assert.deepEqual(browser?.offsite ?? [], [], 'no request left 127.0.0.1');
  });

  test('address parameters open the image, load the model and use the compact layout', async () => {
    const params = new URLSearchParams({
      embed: '1',
      image: 'pictures/small scene.png',
      model: 'test-models/encoder.onnx,test-models/decoder.onnx',
      query: 'the red box & its shadow',
    });
    const { page, errors } = await openPage(browser.context, `${server.url}?${params}`);
    await page.waitForSelector('.model-state[data-model-state="ready"]', { state: 'attached', timeout: 240_000 });
    await waitForStage(page, 'done');
    assert.equal(await page.$eval('main.app', (main) => main.classList.contains('embed')), true, 'compact layout');
    assert.match(await page.textContent('.file-name'), /small scene\.png/);
    assert.match(await page.textContent('.image-size'), /64\s*×\s*48 px/);
    assert.match(await page.textContent('.model-panel summary'), /Model: encoder/);
    await assertDrawn(page, [
      { x: 2, y: 2, colour: BLUE },
      { x: 20, y: 20, colour: RED },
    ]);
    assert.ok(server.requests.includes('/pictures/small scene.png'), 'the app fetched the image itself');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a parameter that cannot be used is explained, not followed', async () => {
    const params = new URLSearchParams({ image: 'javascript:alert(1)', encoder: 'test-models/encoder.onnx' });
    const { page } = await openPage(browser.context, `${server.url}?${params}`);
    const alert = await page.waitForSelector('[role="alert"]');
    const text = await alert.textContent();
    assert.match(text, /image address uses javascript:/);
    assert.match(text, /needs both an encoder and a decoder/);
    assert.equal(await page.$eval('main.app', (main) => main.classList.contains('embed')), false);
    await page.close();
  });

  test('embed.html shows the element and a plain iframe, each drawing its image', async () => {
    const { page, errors } = await openPage(browser.context, `${server.url}embed.html`);
    const src = await page.waitForFunction(() =>
      document.querySelector('#element-demo')?.shadowRoot?.querySelector('iframe')?.getAttribute('src'),
    );
    const address = new URL(await src.jsonValue());
    assert.equal(address.origin + address.pathname, server.url);
    assert.equal(address.searchParams.get('embed'), '1');
    assert.equal(address.searchParams.get('image'), `${server.url}embed-sample.png`);
    assert.equal(address.searchParams.get('query'), 'the red square');
    const height = await page.$eval('#element-demo', (element) => element.shadowRoot.querySelector('iframe').style.height);
    assert.equal(height, '560px');

    const element = await page.waitForFunction(() => {
      const frame = document.querySelector('#element-demo').shadowRoot.querySelector('iframe');
      return frame.contentDocument?.querySelector('.status[data-stage="done"]') ? true : null;
    }, null, { timeout: 240_000 });
    assert.ok(element);
    const frames = page.frames().filter((frame) => frame !== page.mainFrame());
    assert.equal(frames.length, 2, 'one frame for the element, one plain iframe');
    for (const frame of frames) {
      await waitForStage(frame, 'done');
      assert.equal(await frame.$eval('main.app', (main) => main.classList.contains('embed')), true);
      await assertDrawn(frame, SAMPLE_PROBES);
    }
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the element escapes its attributes into the address and follows changes', async () => {
    const { page } = await openPage(browser.context, `${server.url}embed.html`);
    await page.waitForSelector('#element-demo');
    const address = await page.evaluate(() => {
      const element = document.createElement('twin-seg');
      element.setAttribute('app', '/app/');
      element.setAttribute('image', 'https://pictures.example/a b.png?x=1&y=2#top');
      element.setAttribute('model', 'enc.onnx, https://models.example/dec.onnx');
      element.setAttribute('query', 'the "cup" & <b>saucer</b>');
      element.setAttribute('height', '12em');
      document.body.append(element);
      element.setAttribute('query', 'the cup & saucer?');
      const frame = element.shadowRoot.querySelector('iframe');
      return { src: frame.getAttribute('src'), height: frame.style.height };
    });
    const url = new URL(address.src);
    assert.equal(url.pathname, '/app/');
    assert.equal(url.searchParams.get('image'), 'https://pictures.example/a%20b.png?x=1&y=2#top');
    assert.equal(url.searchParams.get('model'), `${server.url}enc.onnx,https://models.example/dec.onnx`);
    assert.equal(url.searchParams.get('query'), 'the cup & saucer?');
    assert.deepEqual([...url.searchParams.keys()].sort(), ['embed', 'image', 'model', 'query']);
    assert.equal(address.height, '12em');
    await page.close();
  });
});
