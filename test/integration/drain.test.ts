/**
 * Graceful drain through a real process: on SIGTERM readiness fails at once, the listener keeps serving for
 * drain.delay, then stops accepting; a request in flight finishes with 200, none is cut off, and the exit code is 0.
 */
import t from 'tap';
import { Agent, request } from 'undici';
import { eventually, http, startBreakwater } from '../helpers/breakwater.js';
import { startBackend } from '../helpers/demo-backend.js';

const DRAIN_DELAY_MS = 1500;
const MAX_LOAD_REQUESTS = 2000;

t.test('SIGTERM drains gracefully', async (t) => {
  const backend = await startBackend({ startTimeoutMs: 60_000 });
  t.teardown(() => backend.stop());
  const bw = await startBreakwater(
    {
      listeners: [{ name: 'main', address: '127.0.0.1:0', routes: [{ name: 'api', upstream: 'backend', timeout: '20s' }] }],
      upstreams: [{ name: 'backend', endpoints: [backend.address] }],
      drain: { delay: `${DRAIN_DELAY_MS}ms`, timeout: '20s' },
    },
    { startTimeoutMs: 60_000 },
  );
  t.teardown(() => bw.stop('SIGKILL'));
  t.equal((await http(`${bw.admin}/readyz`)).status, 200, 'ready before SIGTERM');

  const before = (await backend.stats()).requests.total;
  const slow = http(`${bw.url}/api/slow?ms=${DRAIN_DELAY_MS + 1500}`);
  await eventually('the slow request to reach the backend', async () => ((await backend.stats()).requests.total > before ? true : undefined));

  // Keep-alive load through drain.delay (stopping short of its end, so no request races the listener closing): every
  // request is answered in full, and each answer tells the client to close its connection and go elsewhere.
  const agent = new Agent({ connections: 2 });
  t.teardown(() => agent.close());
  const outcomes = { before: 0, during: 0, keptAlive: 0, other: [] as string[] };
  let signalled = Infinity;
  /** Set once /readyz has failed: requests sent from then on are sent to a draining Breakwater. */
  let drainSeen = false;
  const load = (async () => {
    for (let i = 0; i < MAX_LOAD_REQUESTS && Date.now() - signalled < DRAIN_DELAY_MS - 400; i++) {
      const sentWhileDraining = drainSeen;
      try {
        const res = await request(`${bw.url}/api/data`, { dispatcher: agent, headersTimeout: 5000, bodyTimeout: 5000 });
        await res.body.dump();
        if (res.statusCode !== 200) outcomes.other.push(`status ${res.statusCode}`);
        else if (!sentWhileDraining) outcomes.before++;
        else if (res.headers.connection === 'close') outcomes.during++;
        else outcomes.keptAlive++;
      } catch (err) {
        outcomes.other.push((err as { code?: string }).code ?? String(err));
      }
    }
  })();

  await eventually('the load to flow', () => (outcomes.other.length > 0 ? Promise.reject(new Error(outcomes.other.join())) : outcomes.before >= 3 ? true : undefined));
  signalled = Date.now();
  bw.child.kill('SIGTERM');
  await eventually('/readyz to fail', async () => ((await http(`${bw.admin}/readyz`)).status === 503 ? true : undefined), 1000);
  drainSeen = true;
  t.pass(`readiness failed ${Date.now() - signalled} ms after SIGTERM`);
  const reload = await http(`${bw.admin}/reload`, { method: 'POST' });
  t.equal(reload.status, 503, 'a reload asked for during the drain is refused as unavailable, not as a bad policy (400)');
  t.match(JSON.parse(reload.body), { ok: false, draining: true, problems: ['Breakwater is draining; reload refused'] });

  const stopped = await bw.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('draining: stopped accepting'), DRAIN_DELAY_MS + 5000);
  t.ok(Date.now() - signalled >= DRAIN_DELAY_MS - 50, 'the listener kept accepting for drain.delay');
  t.equal(stopped.inflight, 1, 'the slow request was still in flight when accepting stopped');
  await load;
  t.ok(outcomes.during > 0, `requests during drain.delay were served (${outcomes.during})`);
  t.same(outcomes.other, [], 'no request was cut off while draining');
  t.equal(outcomes.keptAlive, 0, 'while draining every response closes its connection');
  const refused = await http(`${bw.url}/api/data`).then(
    (r) => `status ${r.status}`,
    (err: { code?: string }) => err.code,
  );
  t.equal(refused, 'ECONNREFUSED', 'once stopped, new connections are refused');

  const res = await slow;
  t.equal(res.status, 200, 'the request in flight at SIGTERM completed');

  const exit = await bw.exited;
  t.same(exit, { code: 0, signal: null }, 'exit code 0');
  await bw.waitForLog((l) => l.msg === 'drained', 1000);
});
