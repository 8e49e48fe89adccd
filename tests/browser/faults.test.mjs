// Network faults of the remote reasoner, seen from the page: a mock
// endpoint on 127.0.0.1 answers 429 then 200, 401, 404, 503 every time,
// too slowly, a huge body, and prose without JSON; an address with nothing
// listening; and a person pressing Esc while waiting. Each gets a message
// that names the problem, and the image, the objects, the last answer and
// the question all stay.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { WORK_TIMEOUT } from './support/app.mjs';
import { launchBrowser } from './support/browser.mjs';
import { chatReply, mockReasoner } from './support/reasoner.mjs';
import { IN_BLUE, IN_RED, alphaAt, openScene } from './support/scene.mjs';
import { DIST, closedAddress, serveDist } from './support/server.mjs';

const QUESTION = 'the red rectangle';
const TIMEOUT_S = 2;

describe('remote reasoner faults in the page', { timeout: 15 * 60_000 }, () => {
  let server;
  let browser;
  let page;
  let errors;
  let mock;
  let redId;
  let objectCount;

  /** Asks again and resolves to the alert's text, then dismisses it. */
  async function failingAsk() {
    await page.press('#question', 'Enter');
    const alert = await page.waitForSelector('[role="alert"]', { timeout: WORK_TIMEOUT });
    const text = await alert.textContent();
    await page.click('[role="alert"] button');
    return text;
  }

  /** What must survive every failure: the question, the objects and the last answer's mask. */
  async function assertNothingLost() {
    assert.equal(await page.inputValue('#question'), QUESTION, 'the question stays');
    assert.equal(await page.$eval('.find-panel', (panel) => panel.dataset.count), objectCount, 'the objects stay');
    const [red, blue] = await alphaAt(page, '#mask-canvas', [IN_RED, IN_BLUE]);
    assert.ok(red > 0 && blue === 0, 'the last answer stays painted');
    assert.equal(await page.$eval('.status', (status) => status.dataset.stage), 'done', 'the image stays');
  }

  before(async () => {
    assert.ok(existsSync(`${DIST}/index.html`), `no built app in ${DIST}: run \`trunk build --release --offline\` first`);
    server = await serveDist();
    browser = await launchBrowser();
    mock = await mockReasoner();
    ({ page, errors } = await openScene(browser.context, server.url));
    await page.click('.find-all');
    await page.waitForSelector('.find-panel[data-run="done"]', { timeout: WORK_TIMEOUT });
    objectCount = await page.$eval('.find-panel', (panel) => panel.dataset.count);

    await page.click('.reasoner-panel summary');
    await page.check('#reasoner-remote');
    await page.fill('#reasoner-url', mock.url);
    await page.fill('#reasoner-model', 'mock-model');
    await page.fill('#reasoner-key', 'sk-never-shown');
    await page.fill('#reasoner-timeout', String(TIMEOUT_S));
    await page.press('#reasoner-timeout', 'Tab');
    await page.fill('#question', QUESTION);
    await page.click('.show-payload');
    await page.waitForSelector('.payload');
    const payload = JSON.parse(await page.textContent('.payload'));
    const table = payload.messages.at(-1).content;
    // The compact table's rows start with the id; the red rectangle's row names red.
    redId = Number(/^(\d+)\s.*\bred\b/m.exec(table)?.[1]);
    assert.ok(redId > 0, `the red rectangle is in the table:\n${table}`);
  });

  after(async () => {
    await page?.close();
    await browser?.close();
    await server?.close();
    await mock?.close();
    assert.deepEqual(browser?.offsite ?? [], [], 'no request left 127.0.0.1');
  });

  test('a rate limit is retried after the server\'s Retry-After, then answered', async () => {
    mock.bodies.length = 0;
    mock.script = [
      { status: 429, body: '{"error":"slow down"}', headers: { 'retry-after': '1' } },
      { status: 200, body: chatReply({ steps: ['the red one'], ids: [redId] }) },
    ];
    const started = Date.now();
    await page.press('#question', 'Enter');
    await page.waitForSelector('.answer-meta:has-text("remote")', { timeout: WORK_TIMEOUT });
    assert.equal(mock.bodies.length, 2, 'asked twice');
    assert.ok(Date.now() - started >= 900, 'waited for Retry-After (1 s) before asking again');
    await assertNothingLost();
  });

  for (const { name, script, expected, requests } of [
    {
      name: 'a refused key',
      script: [{ status: 401, body: '{"error":"bad key"}' }],
      expected: /refused the request as unauthorised \(HTTP 401\); check the API key/,
      requests: 1,
    },
    {
      name: 'a wrong address',
      script: [{ status: 404, body: 'no such route' }],
      expected: /answered HTTP 404: no such route/,
      requests: 1,
    },
    {
      name: 'a server that keeps failing',
      script: Array(4).fill({ status: 503, body: 'overloaded' }),
      expected: /kept failing after 4 attempts \(last: HTTP 503: overloaded\)/,
      requests: 4,
    },
    {
      name: 'an answer slower than the timeout',
      script: [{ status: 200, body: chatReply({ ids: [1] }), delay: (TIMEOUT_S + 3) * 1000 }],
      expected: new RegExp(`did not answer within ${TIMEOUT_S}\\.0 s`),
      requests: 1,
    },
    {
      name: 'a huge body',
      script: [{ status: 200, body: 'x'.repeat(5 * 1024 * 1024) }],
      expected: /reply is larger than 4 MiB/,
      requests: 1,
    },
    {
      name: 'prose without JSON',
      script: [{ status: 200, body: JSON.stringify({ choices: [{ message: { content: 'It is the red one, I think.' } }] }) }],
      expected: /no JSON object/,
      requests: 1,
    },
  ]) {
    test(`${name} gives a clear message and loses nothing`, async () => {
      mock.bodies.length = 0;
      mock.script = [...script];
      mock.reply = { status: 500, body: 'the script ran out' };
      const message = await failingAsk();
      assert.match(message, expected);
      assert.match(message, new RegExp(`remote reasoner at ${mock.url}/chat/completions failed`));
      assert.doesNotMatch(message, /sk-never-shown/, 'the key is never in a message');
      assert.equal(mock.bodies.length, requests, 'requests made');
      await assertNothingLost();
    });
  }

  test('nothing listening at the address gives a clear message', async () => {
    await page.fill('#reasoner-url', `${await closedAddress()}/v1`);
    const message = await failingAsk();
    assert.match(message, /could not reach the endpoint/);
    await assertNothingLost();
    await page.fill('#reasoner-url', mock.url);
  });

  test('Esc stops waiting at once and keeps everything', async () => {
    mock.bodies.length = 0;
    mock.script = [{ status: 200, body: chatReply({ ids: [redId] }), delay: 60_000 }];
    await page.fill('#reasoner-timeout', '120');
    await page.press('#reasoner-timeout', 'Tab');
    await page.press('#question', 'Enter');
    await page.waitForSelector('.stop-ask');
    while (mock.bodies.length === 0) await sleep(50);
    const started = Date.now();
    await page.keyboard.press('Escape');
    const alert = await page.waitForSelector('[role="alert"]', { timeout: 10_000 });
    assert.ok(Date.now() - started < 5_000, 'stopped at once, not at the timeout');
    assert.match(await alert.textContent(), /Stopped waiting for the remote reasoner/);
    await page.click('[role="alert"] button');
    assert.equal(await page.$('.stop-ask'), null, 'no longer waiting');
    await assertNothingLost();
    // Chromium logs failed loads (the mock's error statuses, the closed port) on its console; nothing else may fail.
    assert.deepEqual(errors.filter((error) => !/Failed to load resource|net::ERR_/.test(error)), []);
  });
});
