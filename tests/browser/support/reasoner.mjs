// A mock OpenAI-compatible endpoint on 127.0.0.1 that records every request
// and answers from a script: status, body, extra headers and a delay.
import { createServer } from 'node:http';

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'content-type, authorization',
  'access-control-allow-methods': 'POST',
  'access-control-expose-headers': 'retry-after',
};

/**
 * Starts the mock; resolves to { url, bodies, reply, script, close() }.
 * Each request takes the next entry of `script` (an array of replies), or
 * `reply` once the script is used up. A reply is { status, body, headers?,
 * delay? } (delay in ms).
 */
export async function mockReasoner() {
  const mock = { bodies: [], reply: { status: 200, body: '{}' }, script: [] };
  const pending = new Set();
  const server = createServer((request, response) => {
    if (request.method === 'OPTIONS') {
      response.writeHead(204, CORS).end();
      return;
    }
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      mock.bodies.push({ path: request.url, auth: request.headers.authorization, text: Buffer.concat(chunks).toString('utf8') });
      const reply = mock.script.shift() ?? mock.reply;
      const answer = () => {
        pending.delete(timer);
        if (response.destroyed) return;
        response.writeHead(reply.status, { ...CORS, 'content-type': 'application/json', ...(reply.headers ?? {}) }).end(reply.body);
      };
      const timer = setTimeout(answer, reply.delay ?? 0);
      pending.add(timer);
    });
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  mock.url = `http://127.0.0.1:${server.address().port}/v1`;
  mock.close = () => {
    for (const timer of pending) clearTimeout(timer);
    server.closeAllConnections();
    return new Promise((done) => server.close(done));
  };
  return mock;
}

/** A chat completion whose message content is `answer` as JSON. */
export function chatReply(answer) {
  return JSON.stringify({ choices: [{ message: { role: 'assistant', content: JSON.stringify(answer) } }] });
}
