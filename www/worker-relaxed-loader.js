// Starts the relaxed-SIMD build of the worker (built by scripts/build-relaxed.sh).
// The page loads it instead of worker_loader.js where the browser validates
// relaxed SIMD and the page runs the models on one thread.
importScripts('./worker-relaxed.js');
wasm_bindgen({ module_or_path: './worker-relaxed_bg.wasm' });
