// Starts the threaded build of the worker (built by scripts/build-threads.sh).
// The page loads it as `worker-threads-loader.js?threads=N` only where it is
// cross-origin isolated; the worker reads N from its own address.
importScripts('./worker-threads.js');
wasm_bindgen({ module_or_path: './worker-threads_bg.wasm' });
