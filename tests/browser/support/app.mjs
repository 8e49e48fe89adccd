// Waiting on and reading the twinseg page, shared by the browser tests.

/** How long a test waits for the worker to decode, load a model or encode. */
export const WORK_TIMEOUT = 240_000;

/** Resolves when the page's worker says it is ready. */
export async function waitForWorker(page) {
  await page.waitForSelector('.status[data-worker="ready"]', { timeout: WORK_TIMEOUT });
}

/** Resolves when the current image reaches `stage` (e.g. "done", "failed"). */
export async function waitForStage(page, stage) {
  await page.waitForSelector(`.status[data-stage="${stage}"]`, { timeout: WORK_TIMEOUT });
}

/** The RGBA of the image canvas at each {x, y} probe. */
export async function canvasPixels(page, probes) {
  return page.evaluate((points) => {
    const context = document.querySelector('#image-canvas').getContext('2d');
    return points.map(({ x, y }) => Array.from(context.getImageData(x, y, 1, 1).data));
  }, probes);
}
