// The served page's Content-Security-Policy: present, strict about scripts,
// and the app works under it without a violation or a request leaving
// 127.0.0.1. Needs a built dist/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { canvasPixels, waitForStage, waitForWorker } from './support/app.mjs';
import { launchBrowser, openPage } from './support/browser.mjs';
import { encodePng, sceneColourAt } from './support/png.mjs';
import { DIST, serveDist } from './support/server.mjs';

function directives(policy) {
  return Object.fromEntries(
    policy
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0])
      .map(([name, ...sources]) => [name, sources]),
  );
}

test('the built page has no inline script and a strict script policy', () => {
  const html = readFileSync(`${DIST}/index.html`, 'utf8');
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.ok(scripts.length > 0, 'the page loads a script');
  for (const [, attributes, body] of scripts) {
    assert.match(attributes, /\bsrc=/, `every script is a file: ${attributes}`);
    assert.equal(body.trim(), '', 'no inline script');
  }
  const meta = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)"/);
  assert.ok(meta, 'a CSP meta tag');
  const policy = directives(meta[1]);
  assert.deepEqual(policy['default-src'], ["'self'"]);
  assert.deepEqual(policy['script-src'], ["'self'", "'wasm-unsafe-eval'"]);
  assert.deepEqual(policy['object-src'], ["'none'"]);
  assert.ok(!policy['connect-src'].includes('*') && !policy['connect-src'].includes('http:'), 'plain http only to this machine');
});

test('the app works under its policy, refuses inline script, and stays on 127.0.0.1', { timeout: 10 * 60_000 }, async () => {
  const server = await serveDist();
  const browser = await launchBrowser();
  try {
    await browser.context.addInitScript(() => {
      window.__violations = [];
      document.addEventListener('securitypolicyviolation', (event) =>
        window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`),
      );
    });
    const { page, errors } = await openPage(browser.context, server.url);
    await waitForWorker(page);
    const image = encodePng(40, 30, sceneColourAt([40, 160, 90], [{ x0: 0, y0: 0, x1: 20, y1: 30, colour: [40, 70, 200] }]));
    await page.setInputFiles('#image-file', { name: 'small.png', mimeType: 'image/png', buffer: image });
    await waitForStage(page, 'done');
    assert.deepEqual(await canvasPixels(page, [{ x: 5, y: 5 }, { x: 30, y: 5 }]), [
      [40, 70, 200, 255],
      [40, 160, 90, 255],
    ]);
    assert.deepEqual(await page.evaluate(() => window.__violations), [], 'the app itself breaks no rule');
    assert.deepEqual(errors, []);

    const ran = await page.evaluate(async () => {
      const script = document.createElement('script');
      script.textContent = 'window.__inlineRan = true;';
      document.body.append(script);
      await new Promise((done) => setTimeout(done, 100));
      return window.__inlineRan === true;
    });
    assert.equal(ran, false, 'an injected inline script does not run');
    const violations = await page.evaluate(() => window.__violations);
    assert.ok(violations.some((entry) => entry.startsWith('script-src')), `the refusal is reported: ${violations}`);
    assert.deepEqual(browser.offsite, [], 'no request left 127.0.0.1');
  } finally {
    await browser.close();
    await server.close();
  }
});
