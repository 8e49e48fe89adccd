// One model thread of the threaded worker: it loads the worker's module into
// the worker's shared memory, says it is ready, then serves the model pool
// until the worker ends (see crates/worker/src/threads.rs).
importScripts('./worker-threads.js');

self.onmessage = async (event) => {
  self.onmessage = null;
  const [module, memory, task] = event.data;
  try {
    await wasm_bindgen({ module_or_path: module, memory });
  } catch (error) {
    // Rethrown outside the promise, so the worker's error event reports it.
    setTimeout(() => {
      throw error;
    });
    return;
  }
  postMessage('ready');
  wasm_bindgen.run_model_thread(task);
};
