// The onnxruntime-web reference of the browser benchmark: the same encoder
// and decoder files, the same image prepared the SAM way, the same point
// prompt, timed here with its wasm backend. bench/web/bench.mjs opens this
// page and reads window.__result.
import * as ort from '/ort/ort.wasm.min.mjs';

const MEAN = [123.675, 116.28, 103.53];
const STD = [58.395, 57.12, 57.375];
const SIDE = 1024;

const params = new URLSearchParams(location.search);
const runs = Number(params.get('runs') ?? 3);
const threads = Number(params.get('threads') ?? 1);

/** The image as SAM's input: longest side 1024, normalised, padded bottom-right. */
async function prepare(url) {
  const bitmap = await createImageBitmap(await (await fetch(url)).blob());
  const scale = SIDE / Math.max(bitmap.width, bitmap.height);
  const width = Math.round(bitmap.width * scale);
  const height = Math.round(bitmap.height * scale);
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d');
  context.drawImage(bitmap, 0, 0, width, height);
  const rgba = context.getImageData(0, 0, width, height).data;
  const data = new Float32Array(3 * SIDE * SIDE);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        data[c * SIDE * SIDE + y * SIDE + x] = (rgba[(y * width + x) * 4 + c] - MEAN[c]) / STD[c];
      }
    }
  }
  return { tensor: new ort.Tensor('float32', data, [1, 3, SIDE, SIDE]), width: bitmap.width, height: bitmap.height, scale };
}

async function timed(runs, action) {
  await action();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await action();
    times.push(performance.now() - start);
  }
  return times;
}

async function main() {
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  const options = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  const loadStart = performance.now();
  const encoder = await ort.InferenceSession.create(params.get('encoder'), options);
  const decoder = await ort.InferenceSession.create(params.get('decoder'), options);
  const loadMs = performance.now() - loadStart;
  const image = await prepare(params.get('image'));
  let embedding;
  const encoderMs = await timed(runs, async () => {
    embedding = (await encoder.run({ [encoder.inputNames[0]]: image.tensor }))[encoder.outputNames[0]];
  });
  const point = [(image.width / 2) * image.scale, (image.height / 2) * image.scale];
  const feeds = {
    image_embeddings: embedding,
    point_coords: new ort.Tensor('float32', Float32Array.from([...point, 0, 0]), [1, 2, 2]),
    point_labels: new ort.Tensor('float32', Float32Array.from([1, -1]), [1, 2]),
    mask_input: new ort.Tensor('float32', new Float32Array(256 * 256), [1, 1, 256, 256]),
    has_mask_input: new ort.Tensor('float32', Float32Array.from([0]), [1]),
    orig_im_size: new ort.Tensor('float32', Float32Array.from([image.height, image.width]), [2]),
  };
  const decoderMs = await timed(runs, () => decoder.run(feeds));
  return { version: ort.env.versions?.web ?? '', threads, loadMs, encoderMs, decoderMs };
}

main().then(
  (result) => {
    window.__result = result;
    document.querySelector('#state').textContent = 'done';
  },
  (error) => {
    window.__result = { error: String(error?.message ?? error) };
    document.querySelector('#state').textContent = `failed: ${error}`;
  },
);
