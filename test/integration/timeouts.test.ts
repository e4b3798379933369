import { createServer, type AddressInfo } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { startBackend } from '../helpers/demo-backend.js';
import { eventually, metricValue, startBreakwater } from '../helpers/breakwater.js';

const policy = (endpoints: string[], route: Record<string, unknown>) => ({
  listeners: [{ name: 'egress', address: '127.0.0.1:0', routes: [{ name: 'api', match: { pathPrefix: '/' }, upstream: 'backend', ...route }] }],
  upstreams: [{ name: 'backend', endpoints, connectTimeout: '250ms', outlierDetection: { consecutiveFailures: 100 } }],
});

t.test('a backend that never answers: 504 at the route deadline (not later), and the attempt is aborted', async (t) => {
  const backend = await startBackend({ name: 'hang' });
  t.teardown(() => backend.stop());
  await backend.setFaults({ hang: true });
  const bw = await startBreakwater(policy([backend.address], { timeout: '600ms', retry: { attempts: 3, perTryTimeout: '250ms', on: ['timeout'], backoff: { base: '10ms', max: '20ms' } } }));
  t.teardown(() => bw.stop());

  const started = performance.now();
  const res = await request(`${bw.url}/api/data`);
  const body = (await res.body.json()) as { error: string };
  const elapsed = performance.now() - started;
  t.equal(res.statusCode, 504);
  t.equal(body.error, 'deadline');
  t.ok(elapsed >= 590, `not before the deadline (${Math.round(elapsed)} ms)`);
  // Breakwater's own measure of the request, from arrival to the 504 written: free of this test process's scheduling.
  const log = await bw.waitForLog((l) => l.msg === 'request' && l.outcome === 'deadline');
  const served = log.durationMs as number;
  t.ok(served >= 595 && served < 700, `answered within 100 ms of the 600 ms deadline (${served} ms)`);
  t.equal(res.headers['x-breakwater-attempts'], '3', 'per-try timeouts were retried because `timeout` is listed');
  await eventually('the backend to see the aborted attempts close', async () => ((await backend.stats()).inFlight === 0 ? true : undefined), 5000);
  const metrics = await bw.metrics();
  t.equal(metricValue(metrics, 'breakwater_timeouts_total', { kind: 'per-try' }), 2);
  t.equal(metricValue(metrics, 'breakwater_timeouts_total', { kind: 'deadline' }), 1);
});

t.test('a per-try timeout is not retried unless `timeout` is listed', async (t) => {
  const backend = await startBackend({ name: 'slow' });
  t.teardown(() => backend.stop());
  await backend.setFaults({ hang: true });
  const bw = await startBreakwater(policy([backend.address], { timeout: '2s', retry: { attempts: 3, perTryTimeout: '200ms', on: [503] } }));
  t.teardown(() => bw.stop());
  const res = await request(`${bw.url}/api/data`);
  const body = (await res.body.json()) as { error: string };
  t.equal(res.statusCode, 504);
  t.equal(body.error, 'timeout', 'the per-try timeout answered, long before the 2 s deadline');
  t.equal(res.headers['x-breakwater-attempts'], '1');
});

t.test('connection refused → 503, connection reset → 502, never a generic 500', async (t) => {
  const gone = await startBackend({ name: 'gone' });
  await gone.stop();
  const resetter = createServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
  await new Promise<void>((resolve) => resetter.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => resetter.close(() => resolve())));
  const resetAddress = `127.0.0.1:${(resetter.address() as AddressInfo).port}`;

  const refused = await startBreakwater(policy([gone.address], { timeout: '2s' }));
  t.teardown(() => refused.stop());
  const r1 = await request(`${refused.url}/api/data`);
  const b1 = (await r1.body.json()) as { error: string };
  t.equal(r1.statusCode, 503);
  t.equal(b1.error, 'connect-failure');

  const reset = await startBreakwater(policy([resetAddress], { timeout: '2s' }));
  t.teardown(() => reset.stop());
  const r2 = await request(`${reset.url}/api/data`);
  const b2 = (await r2.body.json()) as { error: string; detail: string };
  t.equal(r2.statusCode, 502);
  t.equal(b2.error, 'reset');
  t.match(b2.detail, /^127\.0\.0\.1:\d+: the connection failed mid-exchange \((ECONNRESET|UND_ERR_SOCKET)\)$/, 'the cause in words, not the library message');
});
