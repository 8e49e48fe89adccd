// Serves the built app (dist/) on 127.0.0.1 at a free port, with the same
// cross-origin isolation headers as scripts/serve.sh.
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
};

export const DIST = resolve(new URL('../../../dist', import.meta.url).pathname);

/**
 * Starts the server; resolves to { url, requests, close() }. `files` maps
 * extra URL paths to files on disk, `bodies` maps paths to Buffers to serve;
 * `requests` lists every path asked for.
 */
export async function serveDist({ root = DIST, isolated = true, files = {}, bodies = {} } = {}) {
  const requests = [];
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url, 'http://127.0.0.1').pathname);
    requests.push(path);
    if (bodies[path]) {
      response.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(bodies[path]);
      return;
    }
    const file = files[path] ?? normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!files[path] && file !== root && !file.startsWith(root + sep)) {
      response.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      const headers = {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': body.length,
      };
      if (isolated) {
        headers['cross-origin-opener-policy'] = 'same-origin';
        headers['cross-origin-embedder-policy'] = 'require-corp';
      }
      response.writeHead(200, headers).end(body);
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise((done) => server.close(done)),
  };
}

/** An address on 127.0.0.1 where nothing listens (a port just closed). */
export async function closedAddress() {
  const probe = createTcpServer();
  await new Promise((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = probe.address();
  await new Promise((done) => probe.close(done));
  return `http://127.0.0.1:${port}`;
}
