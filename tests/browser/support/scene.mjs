// The small scene the flow tests open: a red and a blue rectangle on green,
// with probe points inside each and on the background.
import { waitForStage, waitForWorker } from './app.mjs';
import { openPage } from './browser.mjs';
import { encodePng, sceneColourAt } from './png.mjs';

export const BACKGROUND = [40, 160, 90];
export const RED = [220, 40, 40];
export const BLUE = [40, 70, 200];
export const SCENE = {
  width: 160,
  height: 120,
  rects: [
    { x0: 12, y0: 30, x1: 62, y1: 90, colour: RED },
    { x0: 100, y0: 20, x1: 150, y1: 60, colour: BLUE },
  ],
};
export const IN_RED = { x: 35, y: 60 };
export const IN_BLUE = { x: 125, y: 45 };
export const OUTSIDE = { x: 80, y: 110 };

/** The scene as PNG bytes. */
export function scenePng() {
  return encodePng(SCENE.width, SCENE.height, sceneColourAt(BACKGROUND, SCENE.rects));
}

/** Alpha of a canvas at image pixel probes (runs in the page). */
export function alphaAt(page, selector, probes) {
  return page.evaluate(
    ({ selector, probes }) => {
      const context = document.querySelector(selector).getContext('2d');
      return probes.map(({ x, y }) => context.getImageData(x, y, 1, 1).data[3]);
    },
    { selector, probes },
  );
}

/** Opens the app at `url` in a new page and the scene in it; resolves to { page, errors } once it is encoded. */
export async function openScene(context, url) {
  const { page, errors } = await openPage(context, url);
  await waitForWorker(page);
  await page.setInputFiles('#image-file', { name: 'scene.png', mimeType: 'image/png', buffer: scenePng() });
  await waitForStage(page, 'done');
  return { page, errors };
}
