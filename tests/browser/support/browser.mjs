// Debian's headless Chromium, driven by playwright-core, kept on 127.0.0.1:
// every request elsewhere is aborted and recorded so tests can assert none happened.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches Chromium with a fresh profile; resolves to { context, offsite,
 * close() }, where `offsite` lists every blocked request that did not go to
 * 127.0.0.1 (from pages and workers alike).
 */
export async function launchBrowser() {
  const profile = await mkdtemp(join(tmpdir(), 'twinseg-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1000, height: 800 },
  });
  const offsite = [];
  await context.route('**/*', (route) => {
    const target = new URL(route.request().url());
    if (target.hostname === '127.0.0.1' || target.protocol === 'data:' || target.protocol === 'blob:') {
      return route.continue().catch(unforwarded(route));
    }
    offsite.push(route.request().url());
    return route.abort().catch(unforwarded(route));
  });
  return {
    context,
    offsite,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Reports a request the route handler could not pass on or abort (its page
 * or worker went away meanwhile) instead of leaving the rejection unhandled,
 * which would fail whichever test happens to be running.
 */
function unforwarded(route) {
  return (error) => console.warn(`# request not forwarded: ${route.request().url()}: ${error.message}`);
}

/** Opens `url` in a new page that records its console errors; resolves to { page, errors }. */
export async function openPage(context, url) {
  const page = await context.newPage();
  const errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('crash', () => {
    errors.push(`the page at ${url} crashed`);
    console.warn(`# the page at ${url} crashed`);
  });
  await page.goto(url);
  return { page, errors };
}
