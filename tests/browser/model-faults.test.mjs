// Network faults of a model download, seen from the page: a scripted model
// server on 127.0.0.1 (another origin, as a model host is) answers 500 every
// time, 401, 404, stays silent, stops sending mid-file, hangs up mid-file,
// declares a file of 3 GiB; an address with nothing listening and a host
// name that does not resolve; a person stopping a download with the button
// and with Esc. Each gets a message that names the problem, and the model in
// use and the image stay. Then rate limits, a server error and a broken
// connection that pass, and a server sending slowly but steadily: those
// downloads arrive.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { WORK_TIMEOUT } from './support/app.mjs';
import { launchBrowser } from './support/browser.mjs';
import { alphaAt, IN_RED, openScene } from './support/scene.mjs';
import { DIST, closedAddress, serveDist } from './support/server.mjs';

const MODELS = new URL('../../models/', import.meta.url).pathname;
const ENCODER = readFileSync(`${MODELS}twinseg_test_encoder.onnx`);
const DECODER = readFileSync(`${MODELS}twinseg_test_decoder.onnx`);
// The built-in encoder is small (about 1.4 kB): faults mid-file come after half of it.
const HALF = ENCODER.length >> 1;
const STALL_S = 2;
const NO_SUCH_HOST = 'http://twinseg-no-such-host.invalid';

/**
 * A model host on 127.0.0.1 that answers each path from a script of steps
 * (the last step repeats) and records every request. Steps:
 * { status, headers } a short error body; { body } the file whole;
 * { body, pieces, gap } the file in pieces `gap` ms apart; { silent: true }
 * no answer at all; { body, stallAfter } or { body, cutAfter } the file's
 * first bytes, then silence or a hang-up; { declare } a larger size than sent.
 */
async function modelHost() {
  const scripts = new Map();
  const requests = [];
  const sockets = new Set();
  const cors = { 'access-control-allow-origin': '*', 'cross-origin-resource-policy': 'cross-origin' };
  const server = createServer(async (request, response) => {
    const path = new URL(request.url, 'http://127.0.0.1').pathname;
    requests.push(path);
    const script = scripts.get(path) ?? [{ status: 404 }];
    const step = script.length > 1 ? script.shift() : script[0];
    if (step.silent) return;
    if (step.status) {
      response.writeHead(step.status, { ...cors, 'content-type': 'text/plain', ...step.headers }).end(`scripted ${step.status}`);
      return;
    }
    const length = step.declare ?? step.body.length;
    response.writeHead(200, { ...cors, 'content-type': 'application/octet-stream', 'content-length': length });
    if (step.stallAfter !== undefined) {
      response.write(step.body.subarray(0, step.stallAfter));
      return;
    }
    if (step.cutAfter !== undefined) {
      response.write(step.body.subarray(0, step.cutAfter), () => setTimeout(() => request.socket.destroy(), 100));
      return;
    }
    const pieces = step.pieces ?? 1;
    const size = Math.ceil(step.body.length / pieces);
    for (let start = 0; start < step.body.length; start += size) {
      if (start > 0) await sleep(step.gap);
      response.write(step.body.subarray(start, start + size));
    }
    response.end();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    requests,
    /** Scripts `name`'s encoder and decoder; resolves to their addresses. */
    script(name, encoderSteps, decoderSteps = [{ body: DECODER }]) {
      scripts.set(`/${name}/encoder.onnx`, [...encoderSteps]);
      scripts.set(`/${name}/decoder.onnx`, [...decoderSteps]);
      return { encoder: `${url}/${name}/encoder.onnx`, decoder: `${url}/${name}/decoder.onnx` };
    },
    count: (name) => requests.filter((path) => path === `/${name}/encoder.onnx`).length,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((done) => server.close(done));
    },
  };
}

describe('model download faults in the page', { timeout: 15 * 60_000 }, () => {
  let server;
  let host;
  let browser;
  let page;
  let errors;

  /** Loads the pair at `addresses`; resolves once it is in `state` ("failed" or "ready"). */
  async function load({ encoder, decoder }, state = 'failed') {
    await page.fill('#encoder-url', encoder);
    await page.fill('#decoder-url', decoder);
    await page.click('.model-form button[type="submit"]');
    await page.waitForSelector(`.model-state[data-model-state="${state}"]`, { timeout: WORK_TIMEOUT });
  }

  /** The alert's text, dismissed. */
  async function alertText() {
    const text = await page.textContent('[role="alert"]');
    await page.click('[role="alert"] button');
    return text;
  }

  /** What must survive a failed download: the model in use and the image. */
  async function assertNothingLost(model = 'the built-in test model') {
    assert.match(await page.textContent('.model-state'), new RegExp(`still using ${model}`));
    assert.equal(await page.$eval('.status', (status) => status.dataset.stage), 'done', 'the image stays');
    const [[, , , alpha]] = await page.evaluate(
      ({ x, y }) => [Array.from(document.querySelector('#image-canvas').getContext('2d').getImageData(x, y, 1, 1).data)],
      IN_RED,
    );
    assert.equal(alpha, 255, 'the image is still painted');
  }

  before(async () => {
    assert.ok(existsSync(`${DIST}/index.html`), `no built app in ${DIST}: run \`trunk build --release --offline\` first`);
    server = await serveDist();
    host = await modelHost();
    browser = await launchBrowser();
    await browser.context.route(`${NO_SUCH_HOST}/**`, (route) => route.abort('namenotresolved'));
    ({ page, errors } = await openScene(browser.context, server.url));
    await page.click('.model-panel summary');
    await page.fill('#model-timeout', String(STALL_S));
    await page.press('#model-timeout', 'Tab');
  });

  after(async () => {
    await page?.close();
    await browser?.close();
    await server?.close();
    await host?.close();
    assert.deepEqual(browser?.offsite ?? [], [], 'no request left 127.0.0.1');
  });

  for (const { name, steps, expected, requests } of [
    {
      name: 'keeps-failing',
      steps: [{ status: 500 }],
      expected: /the server kept failing after 3 attempts \(last: HTTP 500\)/,
      requests: 3,
    },
    {
      name: 'refused',
      steps: [{ status: 401 }],
      expected: /the server refused access \(HTTP 401\); the address may need a login or a token/,
      requests: 1,
    },
    {
      name: 'missing',
      steps: [{ status: 404 }],
      expected: /nothing is there \(HTTP 404\); check the address/,
      requests: 1,
    },
    {
      name: 'silent',
      steps: [{ silent: true }],
      expected: new RegExp(`the server sent nothing for ${STALL_S} s; it may be down or overloaded`),
      requests: 1,
    },
    {
      name: 'stalls-mid-file',
      steps: [{ body: ENCODER, stallAfter: HALF }],
      expected: new RegExp(`the server sent nothing for ${STALL_S} s`),
      requests: 1,
    },
    {
      name: 'hangs-up-mid-file',
      steps: [{ body: ENCODER, cutAfter: HALF }],
      expected: /the connection broke off after .+ on each of 3 attempts/,
      requests: 3,
    },
    {
      name: 'huge',
      steps: [{ body: ENCODER, declare: 3 * 1024 ** 3, stallAfter: HALF }],
      expected: /the file is larger than 1 GiB, too large for a model/,
      requests: 1,
    },
  ]) {
    test(`a model server that ${name.replaceAll('-', ' ')} gives a clear message and loses nothing`, async () => {
      const addresses = host.script(name, steps);
      await load(addresses);
      const message = await alertText();
      assert.match(message, new RegExp(`The encoder model could not be downloaded from ${addresses.encoder}: `));
      assert.match(message, expected);
      assert.equal(host.count(name), requests, 'requests made');
      await assertNothingLost();
    });
  }

  test('nothing listening at the address, or a host that does not resolve, gives a clear message', async () => {
    for (const base of [await closedAddress(), NO_SUCH_HOST]) {
      await load({ encoder: `${base}/encoder.onnx`, decoder: `${base}/decoder.onnx` });
      assert.match(await alertText(), /the server could not be reached after 3 attempts \(is the address right, is the server up/);
      await assertNothingLost();
    }
  });

  test('a download is stopped at once by its button and by Esc', async () => {
    await page.fill('#model-timeout', '120');
    await page.press('#model-timeout', 'Tab');
    for (const [index, stop] of [() => page.click('.stop-model'), () => page.keyboard.press('Escape')].entries()) {
      const name = `stopped-${index}`;
      const addresses = host.script(name, [{ silent: true }]);
      await page.fill('#encoder-url', addresses.encoder);
      await page.fill('#decoder-url', addresses.decoder);
      await page.click('.model-form button[type="submit"]');
      await page.waitForSelector('.stop-model');
      while (host.count(name) === 0) await sleep(50);
      const started = Date.now();
      await stop();
      await page.waitForSelector('.model-state[data-model-state="failed"]', { timeout: 10_000 });
      assert.ok(Date.now() - started < 5_000, 'stopped at once, not at the timeout');
      assert.match(await alertText(), /the download was stopped/);
      assert.equal(await page.$('.stop-model'), null, 'no longer loading');
      await assertNothingLost();
    }
    await page.fill('#model-timeout', String(STALL_S));
    await page.press('#model-timeout', 'Tab');
  });

  test('rate limits, a server error and a broken connection are retried, then the model arrives', async () => {
    const addresses = host.script('passing', [
      { status: 429, headers: { 'retry-after': '0' } },
      { status: 503 },
      { body: ENCODER },
    ]);
    await load(addresses, 'ready');
    assert.equal(host.count('passing'), 3, 'asked three times');
    assert.match(await page.textContent('.model-state'), /Using encoder \(downloaded/);

    const broken = host.script('broken-once', [{ body: ENCODER, cutAfter: HALF }, { body: ENCODER }]);
    await load(broken, 'ready');
    assert.equal(host.count('broken-once'), 2, 'asked again after the hang-up');
  });

  test('a server sending slowly but steadily is not timed out: the stall limit is between pieces, not for the whole file', async () => {
    const pieces = Math.ceil(((STALL_S + 2) * 1000) / 700);
    const addresses = host.script('steady', [{ body: ENCODER, pieces, gap: 700 }]);
    const started = Date.now();
    await load(addresses, 'ready');
    assert.ok(Date.now() - started > (STALL_S + 1) * 1000, 'the whole transfer took longer than the stall limit');
    const [alpha] = await alphaAt(page, '#image-canvas', [IN_RED]);
    assert.equal(alpha, 255, 'the image is still shown');
    await page.waitForSelector('.status[data-stage="done"]', { timeout: WORK_TIMEOUT });
    // Chromium logs failed loads (the scripted errors, the closed port) on its console; nothing else may fail.
    assert.deepEqual(errors.filter((error) => !/Failed to load resource|net::ERR_/.test(error)), []);
  });
});
