// The core flow in Firefox (Debian's firefox-esr, headless, driven over
// WebDriver BiDi by puppeteer-core): pick an image, find all objects, ask the
// embedded reasoner, and click to segment. Chromium covers the rest of the
// page; this proves the same wasm, worker and canvases work in Gecko.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import puppeteer from 'puppeteer-core';

import { WORK_TIMEOUT } from './support/app.mjs';
import { IN_BLUE, IN_RED, OUTSIDE, alphaAt, scenePng } from './support/scene.mjs';
import { DIST, serveDist } from './support/server.mjs';

const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
/** Screen position of an image pixel on the (scaled) top canvas, scrolled into view. */
async function screenPoint(page, point) {
  await page.$eval('#mask-canvas', async (canvas) => {
    canvas.scrollIntoView({ block: 'center' });
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  });
  return page.$eval(
    '#mask-canvas',
    (canvas, p) => {
      const rect = canvas.getBoundingClientRect();
      return { x: rect.left + ((p.x + 0.5) * rect.width) / canvas.width, y: rect.top + ((p.y + 0.5) * rect.height) / canvas.height };
    },
    point,
  );
}

async function ask(page, question) {
  await page.$eval('#question', (input) => {
    input.value = '';
  });
  await page.type('#question', question);
  await page.keyboard.press('Enter');
}

describe('the core flow in Firefox', { timeout: 15 * 60_000, skip: !existsSync(FIREFOX) && `no Firefox at ${FIREFOX}` }, () => {
  let server;
  let browser;
  let page;
  let scratch;
  const offsite = [];
  const errors = [];

  before(async () => {
    assert.ok(existsSync(`${DIST}/index.html`), `no built app in ${DIST}: run \`trunk build --release --offline\` first`);
    server = await serveDist({ isolated: false });
    scratch = await mkdtemp(join(tmpdir(), 'twinseg-firefox-'));
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      userDataDir: join(scratch, 'profile'),
      defaultViewport: { width: 1000, height: 800 },
    });
    page = await browser.newPage();
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      const target = new URL(request.url());
      if (target.hostname === '127.0.0.1' || target.protocol === 'data:' || target.protocol === 'blob:') {
        request.continue();
      } else {
        offsite.push(request.url());
        request.abort();
      }
    });
    await page.goto(server.url);
    await page.waitForSelector('.status[data-worker="ready"]', { timeout: WORK_TIMEOUT });
    const image = join(scratch, 'scene.png');
    await writeFile(image, scenePng());
    const input = await page.$('#image-file');
    await input.uploadFile(image);
    await page.waitForSelector('.status[data-stage="done"]', { timeout: WORK_TIMEOUT });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
    assert.deepEqual(offsite, [], 'no request left 127.0.0.1');
  });

  test('finds the objects and answers a question with a mask over the right one', async () => {
    assert.equal(await page.evaluate(() => navigator.userAgent.includes('Firefox/')), true, 'this is Firefox');
    // The relaxed-SIMD build where this Firefox can run it, else the plain
    // one. What the page asked for is taken before this test fetches the
    // relaxed build itself to ask Firefox whether it validates.
    const asked = [...server.requests];
    const relaxed = await page.evaluate(async () => WebAssembly.validate(await (await fetch('/worker-relaxed_bg.wasm')).arrayBuffer()));
    const [build, other] = relaxed ? ['/worker-relaxed_bg.wasm', '/worker_bg.wasm'] : ['/worker_bg.wasm', '/worker-relaxed_bg.wasm'];
    assert.ok(asked.includes(build), `the page ran ${build}, as this Firefox ${relaxed ? 'has' : 'lacks'} relaxed SIMD`);
    assert.ok(!asked.includes(other), `the page did not load ${other}`);
    // The page's defaults: a 32x32 grid that skips points inside found objects.
    await page.click('.find-all');
    await page.waitForSelector('.find-panel[data-run="done"]', { timeout: WORK_TIMEOUT });
    const count = Number(await page.$eval('.find-panel', (panel) => panel.dataset.count));
    assert.ok(count >= 2, `found the two rectangles at least (${count})`);

    await ask(page, 'the blue rectangle');
    await page.waitForSelector('.answer[data-none="false"]', { timeout: WORK_TIMEOUT });
    const [red, blue, outside] = await alphaAt(page, '#mask-canvas', [IN_RED, IN_BLUE, OUTSIDE]);
    assert.ok(blue > 0, 'answer mask over the blue rectangle');
    assert.equal(red, 0, 'not over the red one');
    assert.equal(outside, 0, 'not over the background');
  });

  test('a click is a point prompt that gives the clicked object', async () => {
    const at = await screenPoint(page, IN_RED);
    const before = await page.$eval('#mask-canvas', (canvas) => canvas.getBoundingClientRect().top);
    await page.mouse.move(at.x, at.y);
    await page.waitForSelector('.hover-info[data-hover]');
    const hovering = await page.$eval('#mask-canvas', (canvas) => canvas.getBoundingClientRect().top);
    assert.equal(hovering, before, 'hovering an object does not move the image');
    await page.mouse.click(at.x, at.y);
    await page.waitForSelector('.prompt-result', { timeout: WORK_TIMEOUT });
    const [red, blue] = await alphaAt(page, '#mask-canvas', [{ x: IN_RED.x + 15, y: IN_RED.y + 15 }, IN_BLUE]);
    assert.ok(red > 0, 'mask over the clicked rectangle');
    assert.equal(blue, 0, 'not over the other one');
    assert.deepEqual(errors, []);
  });

  test('a cross-origin isolated page runs the model on two threads and finds the objects', async () => {
    const isolated = await serveDist({ isolated: true });
    try {
      await page.goto(`${isolated.url}?threads=2`);
      await page.waitForSelector('.status[data-worker="ready"]', { timeout: WORK_TIMEOUT });
      assert.equal(await page.$eval('.status', (status) => status.dataset.threads), '2', 'the threaded worker started two model threads');
      const input = await page.$('#image-file');
      await input.uploadFile(join(scratch, 'scene.png'));
      await page.waitForSelector('.status[data-stage="done"]', { timeout: WORK_TIMEOUT });
      await page.click('.find-all');
      await page.waitForSelector('.find-panel[data-run="done"]', { timeout: WORK_TIMEOUT });
      const count = Number(await page.$eval('.find-panel', (panel) => panel.dataset.count));
      assert.ok(count >= 2, `found the two rectangles at least on two threads (${count})`);
      assert.deepEqual(errors, []);
    } finally {
      await isolated.close();
    }
  });
});
