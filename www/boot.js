// Starts the page's wasm. trunk is told not to inject its inline start-up
// script (Trunk.toml: inject_scripts = false), so the Content-Security-Policy
// can refuse every inline script; file names are stable (filehash = false).
import init from './twinseg-app.js';

await init({ module_or_path: new URL('./twinseg-app_bg.wasm', import.meta.url) });
