// The plain client: a sidecar's fast-fail counts 0 attempts, and its request timeout reads as the time it was given.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { PlainCaller } from '../../../demo-client/plain-caller.js';

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

t.test('an open breaker answered by the sidecar is a fast-fail with 0 attempts', async (t) => {
  const server = createServer((_req, res) => {
    res.writeHead(503, { 'x-breakwater-circuit': 'open', 'x-breakwater-attempts': '0' });
    res.end('{"fallback":true}');
  });
  const url = await listen(server);
  t.teardown(() => server.close());
  const caller = new PlainCaller({ url: `${url}/api/data`, method: 'GET', socketTimeoutMs: 5000 });
  t.teardown(() => caller.close());
  t.same(await caller.call(), { status: 503, attempts: 0, fastFail: true });
});

t.test('the request timeout ends the call on time even when the server never answers', async (t) => {
  const held: Array<() => void> = [];
  const server = createServer((_req, res) => held.push(() => res.end()));
  const url = await listen(server);
  t.teardown(() => {
    held.forEach((end) => end());
    server.closeAllConnections();
    server.close();
  });
  const caller = new PlainCaller({ url: `${url}/api/data`, method: 'GET', socketTimeoutMs: 30_000, requestTimeoutMs: 200 });
  t.teardown(() => caller.close());
  const started = performance.now();
  const outcome = await caller.call();
  const took = performance.now() - started;
  t.match(outcome, { status: 0, error: 'timeout', fastFail: false });
  t.ok(took >= 190 && took < 2000, `ended after its 200 ms timeout (${Math.round(took)} ms)`);
});
