// The browser benchmark (scripts/bench-web.sh): the real page in headless
// Chromium with a chosen model pair, timed step by step, against
// onnxruntime-web on the same files, image and prompt in the same browser.
// Prints figures; asserts nothing.
//
//   node bench/web/bench.mjs [--encoder E.onnx --decoder D.onnx] [--image P.png] [--runs N] [--full-runs N] [--no-big] [--no-find]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { launchBrowser, openPage } from '../../tests/browser/support/browser.mjs';
import { encodePng } from '../../tests/browser/support/png.mjs';
import { DIST, serveDist } from '../../tests/browser/support/server.mjs';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const ORT = `${ROOT}/bench/web/node_modules/onnxruntime-web/dist`;
const TIMEOUT = 30 * 60_000;

const { values: args } = parseArgs({
  options: {
    encoder: { type: 'string', default: `${ROOT}/models/twinseg_test_encoder.onnx` },
    decoder: { type: 'string', default: `${ROOT}/models/twinseg_test_decoder.onnx` },
    image: { type: 'string' },
    runs: { type: 'string', default: '3' },
    'no-big': { type: 'boolean', default: false },
    // Only the encoder and a point prompt: for models whose everything mode takes minutes.
    'no-find': { type: 'boolean', default: false },
    // Timed searches of the full 32x32 grid (every point prompted) per build; 0 leaves them out.
    'full-runs': { type: 'string', default: '1' },
  },
});
const runs = Math.max(1, Number(args.runs));
const fullRuns = Math.max(0, Number(args['full-runs']));
/** Threads for the threaded runs of both: every core, at most 4. */
const THREADS = Math.max(2, Math.min(4, availableParallelism()));

/** The picture to time: the given one, or bench/photo_like.py's at 1024x768. */
function benchImage() {
  if (args.image) return readFileSync(args.image);
  const out = `${ROOT}/target/bench-photo-1024.png`;
  if (!existsSync(out)) execFileSync('python3', [`${ROOT}/bench/photo_like.py`, out, '--width', '1024', '--height', '768']);
  return readFileSync(out);
}

/** A 4000x3000 photo-sized picture (smooth gradients and a few shapes). */
function bigImage() {
  return encodePng(4000, 3000, (x, y) => {
    const disc = (x - 1400) ** 2 + (y - 1500) ** 2 < 700 ** 2;
    const block = x > 2400 && x < 3400 && y > 900 && y < 2100;
    if (disc) return [200, 40, 40];
    if (block) return [40, 70, 200];
    return [40 + (x >> 5), 120 + (y >> 6), 90];
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const spread = (values) => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

async function waitDone(page, name) {
  await page.waitForFunction(
    (name) => document.querySelector('.status .file-name')?.textContent === name && document.querySelector('.status')?.dataset.stage === 'done',
    name,
    { timeout: TIMEOUT },
  );
}

async function openImage(page, name, buffer) {
  await page.setInputFiles('#image-file', { name, mimeType: 'image/png', buffer });
}

/**
 * Watches the page for `selector`, which must not match yet, and returns a function that waits
 * for it and gives the page's clock when it first matched. Timing with the page's own clock,
 * from the DOM change itself: Playwright's waitForSelector polls every 500 ms after the first
 * few checks, so it would round a step of a second or more up to its next poll.
 */
async function watchFor(page, selector) {
  await page.evaluate((selector) => {
    if (document.querySelector(selector)) throw new Error(`${selector} matches before the step`);
    window.__seen = new Promise((seen) => {
      const observer = new MutationObserver(() => {
        if (document.querySelector(selector)) {
          observer.disconnect();
          seen(performance.now());
        }
      });
      observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    });
  }, selector);
  const late = () => new Promise((_, fail) => setTimeout(() => fail(new Error(`no ${selector} in ${TIMEOUT} ms`)), TIMEOUT).unref());
  return () => Promise.race([page.evaluate(() => window.__seen), late()]);
}

const pageClock = (page) => page.evaluate(() => performance.now());

/** Opens the search's settings and sets whether grid points inside found objects are skipped. */
async function setSkipCovered(page, skip) {
  await page.$eval('.find-settings', (details) => {
    details.open = true;
  });
  await (skip ? page.check('#skip-covered') : page.uncheck('#skip-covered'));
}

/**
 * Runs *find all objects* on the picture already open (which may have been searched before):
 * its time on the page's clock from the click to the panel's next "done", what the panel
 * reports, and the objects as the page's COCO download.
 */
async function findAgain(page) {
  await page.evaluate(() => {
    window.__searched = new Promise((done) => {
      // Called only once some data-run changed, so "done" here is the new run's.
      const observer = new MutationObserver(() => {
        if (document.querySelector('.find-panel')?.dataset.run === 'done') {
          observer.disconnect();
          done(performance.now());
        }
      });
      observer.observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-run'] });
    });
  });
  const start = await pageClock(page);
  await page.click('.find-all');
  const end = await page.evaluate(() => window.__searched);
  const data = (key) => page.$eval('.find-panel', (panel, key) => Number(panel.dataset[key]), key);
  return { ms: end - start, prompts: await data('prompts'), proposalsMs: await data('proposalsMs'), coco: await cocoDownload(page) };
}

/** The objects found, as the page's own COCO download (which it offers only when there are some). */
async function cocoDownload(page) {
  const count = await page.$eval('.find-panel', (panel) => Number(panel.dataset.count));
  if (count === 0) return { annotations: [] };
  const [file] = await Promise.all([page.waitForEvent('download'), page.click('.download-coco')]);
  return JSON.parse(readFileSync(await file.path(), 'utf8'));
}

/** A COCO compressed RLE (pycocotools' string form) as one byte a pixel, column-major. */
function decodeRle({ size: [height, width], counts }) {
  const runs = [];
  for (let i = 0; i < counts.length; ) {
    let value = 0;
    let shift = 0;
    let more = true;
    let c = 0;
    while (more) {
      c = counts.charCodeAt(i++) - 48;
      value |= (c & 0x1f) << shift;
      more = (c & 0x20) !== 0;
      shift += 5;
    }
    if (c & 0x10) value |= -1 << shift;
    if (runs.length > 2) value += runs[runs.length - 2];
    runs.push(value);
  }
  const mask = new Uint8Array(height * width);
  let at = 0;
  runs.forEach((run, i) => {
    if (i % 2 === 1) mask.fill(1, at, at + run);
    at += run;
  });
  return mask;
}

function maskIou(a, b) {
  let both = 0;
  let either = 0;
  for (let i = 0; i < a.length; i++) {
    both += a[i] & b[i];
    either += a[i] | b[i];
  }
  return either === 0 ? 1 : both / either;
}

/**
 * Share of the full grid's objects that the skip-covered search also found, for each of `minIous`
 * (an object with at least that mask IoU, as `twinseg bench` counts it); 1 when the full grid
 * found none. Each mask is decoded and each pair compared once.
 */
function recalls(full, fewer, minIous) {
  const masks = (coco) => coco.annotations.map((a) => decodeRle(a.segmentation));
  const reference = masks(full);
  if (reference.length === 0) return minIous.map(() => 1);
  const found = masks(fewer);
  const best = reference.map((mask) => Math.max(0, ...found.map((other) => maskIou(mask, other))));
  return minIous.map((minIou) => best.filter((iou) => iou >= minIou).length / reference.length);
}

/** Milliseconds from a click `dx` pixels right of the picture's middle to its mask. */
async function pointPrompt(page, dx = 0) {
  await page.$eval('#mask-canvas', (canvas) => canvas.scrollIntoView({ block: 'center' }));
  const box = await (await page.$('#mask-canvas')).boundingBox();
  await page.evaluate(() => {
    window.__promptDone = new Promise((done) => {
      const observer = new MutationObserver(() => {
        if (document.querySelector('.prompt-result')) {
          observer.disconnect();
          done(performance.now());
        }
      });
      observer.observe(document.body, { subtree: true, childList: true, characterData: true });
    });
  });
  const start = await page.evaluate(() => performance.now());
  await page.mouse.click(box.x + box.width / 2 + dx, box.y + box.height / 2);
  const end = await page.evaluate(() => window.__promptDone);
  const worker = await page.$eval('.prompt-result', (result) => ({ decoder: Number(result.dataset.decoderMs), mask: Number(result.dataset.maskMs) }));
  await page.click('.clear-prompts');
  return { click: end - start, ...worker };
}

async function timeOurs(page, image) {
  const figures = {
    prepare: [], encoder: [], prompt: [], decoder: [], decoderMask: [], decoderAgain: [], find: [], proposals: [], perPoint: [], twin: [], reason: [], ask: [],
    full: [], fullProposals: [], fullPerPrompt: [], recall: [], looseRecall: [], objects: 0, fullObjects: 0, prompts: 0, fullPrompts: 0, memory: 0,
  };
  const data = (selector, key) => page.$eval(selector, (element, key) => Number(element.dataset[key]), key);
  for (let run = 0; run <= runs; run++) {
    const name = `photo-${run}.png`;
    await openImage(page, name, image);
    await waitDone(page, name);
    const prepareMs = await data('.timings', 'prepareMs');
    const encodeMs = await data('.timings', 'encodeMs');
    const prompt = await pointPrompt(page);
    const again = await pointPrompt(page, 24);
    const pushPerImage = () => {
      figures.prepare.push(prepareMs);
      figures.encoder.push(encodeMs);
      figures.prompt.push(prompt.click);
      figures.decoder.push(prompt.decoder);
      figures.decoderMask.push(prompt.decoder + prompt.mask);
      figures.decoderAgain.push(again.decoder);
    };
    if (args['no-find']) {
      figures.memory = Number(await page.$eval('.timings', (timings) => timings.dataset.workerMemory));
      if (run > 0) pushPerImage();
      continue;
    }
    const findDone = await watchFor(page, '.find-panel[data-run="done"]');
    const findStart = await pageClock(page);
    await page.click('.find-all');
    const findMs = (await findDone()) - findStart;
    figures.objects = await data('.find-panel', 'count');
    figures.prompts = await data('.find-panel', 'prompts');
    const proposalsMs = await data('.find-panel', 'proposalsMs');
    const twinMs = await data('.find-panel', 'twinMs');
    if (run > 0 && run <= fullRuns) {
      const fewer = await cocoDownload(page);
      await setSkipCovered(page, false);
      const full = await findAgain(page);
      await setSkipCovered(page, true);
      figures.full.push(full.ms);
      figures.fullProposals.push(full.proposalsMs);
      figures.fullPerPrompt.push(full.proposalsMs / Math.max(1, full.prompts));
      figures.fullPrompts = full.prompts;
      figures.fullObjects = full.coco.annotations.length;
      const [strict, loose] = recalls(full.coco, fewer, [0.9, 0.5]);
      figures.recall.push(strict);
      figures.looseRecall.push(loose);
    }

    const askName = `ask-${run}.png`;
    const answered = await watchFor(page, '.answer[data-none]');
    const askStart = await pageClock(page);
    await openImage(page, askName, image);
    await page.fill('#question', 'the largest object');
    await page.press('#question', 'Enter');
    const askMs = (await answered()) - askStart;
    const reasonMs = await data('.answer', 'reasonMs');
    figures.memory = Number(await page.$eval('.timings', (timings) => timings.dataset.workerMemory));
    if (run === 0) continue; // warm-up
    pushPerImage();
    figures.find.push(findMs);
    figures.proposals.push(proposalsMs);
    figures.perPoint.push(proposalsMs / Math.max(1, figures.prompts));
    figures.twin.push(twinMs);
    figures.reason.push(reasonMs);
    figures.ask.push(askMs);
  }
  return figures;
}

async function timeOrt(context, server, threads) {
  const url = `${server.url}bench/ort.html?encoder=/models/encoder.onnx&decoder=/models/decoder.onnx&image=/image.png&runs=${runs}&threads=${threads}`;
  const { page } = await openPage(context, url);
  await page.waitForFunction(() => window.__result, null, { timeout: TIMEOUT });
  const result = await page.evaluate(() => window.__result);
  await page.close();
  if (result.error) throw new Error(`onnxruntime-web failed: ${result.error}`);
  return result;
}

/** Which worker build a page ran, from the wasm files it asked the server for. */
const BUILDS = { '/worker_bg.wasm': 'plain SIMD', '/worker-relaxed_bg.wasm': 'relaxed SIMD', '/worker-threads_bg.wasm': 'plain SIMD, threaded' };

/**
 * The app at `?threads=N` (and `simd=plain` if `plain`) with the model pair loaded, timed; adds
 * `threads` (as the page reports it), `build`, `loadMs` and `big` (memory after the 4000x3000 picture).
 */
async function benchPage(context, server, image, threads, plain = false) {
  const asked = server.requests.length;
  const { page } = await openPage(context, `${server.url}?threads=${threads}${plain ? '&simd=plain' : ''}`);
  await page.waitForSelector('.status[data-worker="ready"]', { timeout: TIMEOUT });
  const loadStart = Date.now();
  await page.click('.model-panel summary');
  await page.fill('#encoder-url', 'models/encoder.onnx');
  await page.fill('#decoder-url', 'models/decoder.onnx');
  await page.click('.model-form button[type="submit"]');
  await page.waitForSelector('.model-state[data-model-state="ready"]', { timeout: TIMEOUT });
  const loadMs = Date.now() - loadStart;
  const figures = await timeOurs(page, image);
  figures.loadMs = loadMs;
  figures.threads = Number(await page.$eval('.status', (status) => status.dataset.threads));
  figures.build = server.requests.slice(asked).map((path) => BUILDS[path]).find(Boolean) ?? 'unknown build';
  if (!args['no-big']) {
    await openImage(page, 'big.png', bigImage());
    await waitDone(page, 'big.png');
    if (args['no-find']) {
      await pointPrompt(page);
    } else {
      await page.click('.find-all');
      await page.waitForSelector('.find-panel[data-run="done"]', { timeout: TIMEOUT });
    }
    figures.big = Number(await page.$eval('.timings', (timings) => timings.dataset.workerMemory));
  }
  await page.close();
  return figures;
}

async function main() {
  if (!existsSync(`${DIST}/index.html`)) throw new Error(`no built app in ${DIST}: run scripts/bench-web.sh`);
  if (!existsSync(`${ORT}/ort.wasm.min.mjs`)) throw new Error('onnxruntime-web is not installed: run scripts/bench-web.sh');
  const image = benchImage();
  const server = await serveDist({
    files: {
      '/models/encoder.onnx': args.encoder,
      '/models/decoder.onnx': args.decoder,
      '/bench/ort.html': `${ROOT}/bench/web/ort.html`,
      '/bench/ort-bench.mjs': `${ROOT}/bench/web/ort-bench.mjs`,
      '/ort/ort.wasm.min.mjs': `${ORT}/ort.wasm.min.mjs`,
      '/ort/ort-wasm-simd-threaded.mjs': `${ORT}/ort-wasm-simd-threaded.mjs`,
      '/ort/ort-wasm-simd-threaded.wasm': `${ORT}/ort-wasm-simd-threaded.wasm`,
    },
    bodies: { '/image.png': image },
  });
  const browser = await launchBrowser();
  try {
    const plain = await benchPage(browser.context, server, image, 1, true);
    const one = await benchPage(browser.context, server, image, 1);
    const many = await benchPage(browser.context, server, image, THREADS);
    const ort1 = await timeOrt(browser.context, server, 1);
    const ortN = await timeOrt(browser.context, server, THREADS);

    const version = execFileSync('chromium', ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    console.log(`browser benchmark | ${version} | encoder ${args.encoder} | decoder ${args.decoder}`);
    console.log(`image ${args.image ?? 'bench/photo_like.py 1024x768'} | ${runs} timed runs after one warm-up | twinseg worker: 1 thread (${plain.build}), 1 thread (${one.build}) and ${many.threads} threads (${many.build}, cross-origin isolated page)`);
    console.log(`model download + load + optimise (twinseg): ${one.loadMs} ms; onnxruntime-web session create: ${ort1.loadMs.toFixed(0)} ms`);
    console.log(`${'step'.padEnd(40)} median ms   spread`);
    const row = (label, values, note = '') => values.length > 0 && console.log(`${label.padEnd(40)} ${median(values).toFixed(1).padStart(9)}   ${spread(values).padEnd(12)} ${note}`);
    const label = (ours) => `${ours.threads} thread${ours.threads === 1 ? '' : 's'}, ${ours.build}`;
    for (const ours of [plain, one, many]) {
      console.log(`-- twinseg, ${label(ours)}`);
      row('image prepare (resize, normalise, pad)', ours.prepare);
      row('encoder (twinseg, tract wasm)', ours.encoder);
      row('point prompt, click to mask', ours.prompt, 'decoder + mask + message round trip + paint');
      row('  of which the decoder run (worker)', ours.decoder, 'low-resolution masks and scores');
      row('  decoder run + mask at image size', ours.decoderMask, 'what session.run below returns');
      row('  decoder run, the next prompt', ours.decoderAgain, "a second click on the same image: the decoder's image part is kept");
      row('find all objects (32x32, skip covered)', ours.find, `${ours.objects} objects, click to painted`);
      row('  of which the prompt grid (worker)', ours.proposals, `${ours.prompts} grid points, in decoder batches`);
      row('  per grid point', ours.perPoint, `${(1000 / median(ours.perPoint)).toFixed(1)} grid points/s (covered ones skip the decoder)`);
      row('  of which tree + Digital Twin (worker)', ours.twin);
      row('find all objects (32x32, full grid)', ours.full, `${ours.fullObjects} objects, every grid point prompted`);
      row('  of which the prompt grid (worker)', ours.fullProposals, `${ours.fullPrompts} prompts in decoder batches`);
      row('  decoder batches, per prompt', ours.fullPerPrompt, `${(1000 / median(ours.fullPerPrompt)).toFixed(1)} prompts/s`);
      if (ours.recall.length) {
        const listed = (values) => values.map((r) => r.toFixed(3)).join(', ');
        console.log(
          `recall of skip covered against the full grid (${ours.objects} against ${ours.fullObjects} objects): ${listed(ours.recall)} at mask IoU >= 0.9, ${listed(ours.looseRecall)} at >= 0.5`,
        );
      }
      row('embedded reasoning (worker)', ours.reason, '"the largest object"');
      row('whole ask (open image to answer)', ours.ask, 'decode + encode + find + twin + reason + mask');
    }
    console.log('-- onnxruntime-web (wasm backend)');
    row('onnxruntime-web encoder, 1 thread', ort1.encoderMs);
    row('onnxruntime-web decoder, 1 thread', ort1.decoderMs);
    row(`onnxruntime-web encoder, ${THREADS} threads`, ortN.encoderMs);
    row(`onnxruntime-web decoder, ${THREADS} threads`, ortN.decoderMs);
    const ratio = (a, b) => (median(a) / median(b)).toFixed(2);
    for (const [ours, ort] of [[plain, ort1], [one, ort1], [many, ortN]]) {
      console.log(
        `ratio twinseg (${label(ours)}) ÷ onnxruntime-web: encoder ${ratio(ours.encoder, ort.encoderMs)}, ` +
          `decoder (decoder run + mask at image size vs session.run) ${ratio(ours.decoderMask, ort.decoderMs)}, click to mask vs session.run ${ratio(ours.prompt, ort.decoderMs)}`,
      );
    }
    console.log(
      `ratio twinseg relaxed ÷ plain SIMD, 1 thread: encoder ${ratio(one.encoder, plain.encoder)}, decoder run ${ratio(one.decoder, plain.decoder)}` +
        `${one.ask.length ? `, whole ask ${ratio(one.ask, plain.ask)}` : ''}`,
    );
    console.log(`ratio twinseg ${many.threads} threads ÷ 1 thread: encoder ${ratio(many.encoder, one.encoder)}${one.ask.length ? `, whole ask ${ratio(many.ask, one.ask)}` : ''}`);
    for (const ours of [plain, one, many]) {
      console.log(`worker wasm memory after the runs (${label(ours)}): ${mib(ours.memory)}${ours.big ? `; after a 4000x3000 picture and its objects: ${mib(ours.big)}` : ''}`);
    }
    if (browser.offsite.length) console.log(`(blocked requests: ${browser.offsite.join(', ')})`);
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((error) => {
  console.error(error.message ?? error);
  process.exit(1);
});
