// The open-loop client's achieved rate: answers that run late into the drain must lower it, or the soak would
// count a backlogged window as one that held its rate.
import t, { type Test } from 'tap';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { nodeOpenLoop } from '../../bench/node-load.js';

const RPS = 40;
const WINDOW_S = 0.5;

/** A server that answers each request `answerAfterMs` after it arrives. */
async function serve(t: Test, answerAfterMs: number): Promise<string> {
  const server: Server = createServer((_req, res) => {
    setTimeout(() => res.end('ok'), answerAfterMs);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

t.test('answers that keep pace carry the asked rate', async (t) => {
  const result = await nodeOpenLoop({ url: await serve(t, 0), rps: RPS, durationS: WINDOW_S });
  t.equal(result.errors, 0, 'every request answered');
  // Room for a loaded machine sending the last few late; answers a window late (below) land near half.
  t.ok(result.achievedRps >= RPS * 0.7, `achieved ${result.achievedRps.toFixed(1)} rps of ${RPS}`);
});

t.test('answers a full window late halve the achieved rate', async (t) => {
  // Each answer takes one window length: the last arrives about two windows after the first send.
  const result = await nodeOpenLoop({ url: await serve(t, WINDOW_S * 1000), rps: RPS, durationS: WINDOW_S });
  t.equal(result.errors, 0, 'every request answered, within the drain');
  t.ok(result.achievedRps < RPS * 0.6, `achieved ${result.achievedRps.toFixed(1)} rps of ${RPS}: below the asked rate`);
});
