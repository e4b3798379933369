/**
 * Bulkheads through real processes: a hanging upstream fills only its own compartment, overflow is turned away at
 * once (503, x-breakwater-bulkhead: rejected) without an upstream attempt, and a route limit leaves its upstream free.
 */
import t from 'tap';
import { request } from 'undici';
import { eventually, http, metricValue, startBreakwater, type RunningBreakwater } from '../helpers/breakwater.js';
import { startBackend } from '../helpers/demo-backend.js';

const A_CONCURRENT = 4;
const A_PENDING = 2;
const SAMPLES = 200;

/** Milliseconds per request for `count` requests, two at a time, bounded by the per-request timeout. */
async function latencies(url: string, count: number): Promise<{ ms: number[]; statuses: number[] }> {
  const ms: number[] = [];
  const statuses: number[] = [];
  const worker = async () => {
    while (ms.length + inflight < count) {
      inflight++;
      const start = performance.now();
      const res = await request(url, { headersTimeout: 5000, bodyTimeout: 5000 });
      await res.body.dump();
      inflight--;
      ms.push(performance.now() - start);
      statuses.push(res.statusCode);
    }
  };
  let inflight = 0;
  await Promise.all([worker(), worker()]);
  return { ms, statuses };
}

function p99(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length * 0.99) - 1]!;
}

async function gauge(bw: RunningBreakwater, name: string, labels: Record<string, string>): Promise<number> {
  return metricValue(await bw.metrics(), name, labels);
}

t.test('bulkheads', async (t) => {
  const backendA = await startBackend({ name: 'a' });
  t.teardown(() => backendA.stop());
  const backendB = await startBackend({ name: 'b' });
  t.teardown(() => backendB.stop());
  const bw = await startBreakwater(
    {
      listeners: [
        { name: 'a', address: '127.0.0.1:0', routes: [{ name: 'a', upstream: 'A', timeout: '20s' }] },
        {
          name: 'b',
          address: '127.0.0.1:0',
          routes: [
            { name: 'slow', match: { pathPrefix: '/api/slow' }, upstream: 'B', maxConcurrent: 2, timeout: '20s' },
            { name: 'b', upstream: 'B' },
          ],
        },
      ],
      upstreams: [
        { name: 'A', endpoints: [backendA.address], pool: { maxConcurrent: A_CONCURRENT, maxPending: A_PENDING, queueTimeout: '300ms' } },
        { name: 'B', endpoints: [backendB.address] },
      ],
    },
    { startTimeoutMs: 30_000 },
  );
  t.teardown(() => bw.stop());
  const a = bw.listeners.a!;
  const b = bw.listeners.b!;

  await t.test('a hanging upstream fills only its own pool; the other keeps its success rate and latency', async (t) => {
    await latencies(`${b}/api/data`, 20); // warm up connections and code paths
    const healthy = await latencies(`${b}/api/data`, SAMPLES);
    t.ok(healthy.statuses.every((s) => s === 200), 'B answers 200 while A is healthy');

    await backendA.setFaults({ hang: true });
    const hangs = new AbortController();
    t.teardown(() => hangs.abort());
    const hanging = Array.from({ length: A_CONCURRENT }, () => request(`${a}/api/data`, { signal: hangs.signal }).catch(() => undefined));
    await eventually(`A's bulkhead to hold ${A_CONCURRENT} requests`, async () =>
      (await gauge(bw, 'breakwater_bulkhead_active', { scope: 'upstream', name: 'A' })) === A_CONCURRENT ? true : undefined,
    );

    const overflow = await Promise.all(Array.from({ length: A_PENDING + 1 }, () => http(`${a}/api/data`)));
    for (const res of overflow) {
      t.equal(res.status, 503, 'overflow is answered 503');
      t.equal(res.headers['x-breakwater-bulkhead'], 'rejected');
      t.equal(res.headers['x-breakwater-attempts'], '0', 'no upstream attempt was made');
    }
    t.equal((await backendA.stats()).requests.total, A_CONCURRENT, 'only the requests holding a slot reached A');
    const metrics = await bw.metrics();
    t.equal(metricValue(metrics, 'breakwater_bulkhead_rejected_total', { scope: 'upstream', name: 'A', reason: 'queue-full' }), 1);
    t.equal(metricValue(metrics, 'breakwater_bulkhead_rejected_total', { scope: 'upstream', name: 'A', reason: 'queue-timeout' }), A_PENDING);
    t.equal(metricValue(metrics, 'breakwater_bulkhead_active', { scope: 'upstream', name: 'A' }), A_CONCURRENT);
    t.equal(metricValue(metrics, 'breakwater_bulkhead_queued', { scope: 'upstream', name: 'A' }), 0);

    const during = await latencies(`${b}/api/data`, SAMPLES);
    t.ok(during.statuses.every((s) => s === 200), 'B answers 200 while A hangs');
    const before = p99(healthy.ms);
    const after = p99(during.ms);
    // Not a latency ratio (a busy machine's scheduler decides those; bench/ measures them): B never waits on A's
    // slots, so no request of B's queued, and none took anything like the time A's hang holds a request.
    const bMetrics = await bw.metrics();
    t.equal(metricValue(bMetrics, 'breakwater_bulkhead_rejected_total', { scope: 'upstream', name: 'B', reason: 'queue-timeout' }), 0, 'no request of B timed out waiting for a slot');
    t.ok(after < 1000, `B's p99 with A hanging (${after.toFixed(1)} ms; ${before.toFixed(1)} ms with A healthy) is nowhere near A's hang`);

    hangs.abort();
    await Promise.all(hanging);
    await backendA.setFaults({ hang: false });
    await eventually("A's bulkhead to empty once the clients left", async () =>
      (await gauge(bw, 'breakwater_bulkhead_active', { scope: 'upstream', name: 'A' })) === 0 ? true : undefined,
    );
    t.equal((await http(`${a}/api/data`)).status, 200, 'A serves again once it stops hanging');
  });

  await t.test('a route limit rejects that route only, not its upstream', async (t) => {
    const initial = (await backendB.stats()).requests.total;
    const held = Array.from({ length: 2 }, () => http(`${b}/api/slow?ms=1500`));
    await eventually('the 2 slow requests to reach B', async () => ((await backendB.stats()).requests.total === initial + 2 ? true : undefined));
    t.equal(await gauge(bw, 'breakwater_bulkhead_active', { scope: 'route', name: 'slow' }), 2, 'they hold both route slots');
    const before = initial + 2;
    const rejected = await http(`${b}/api/slow?ms=1`);
    t.equal(rejected.status, 503);
    t.equal(rejected.headers['x-breakwater-bulkhead'], 'rejected');
    t.equal((await backendB.stats()).requests.total, before, 'the rejected request never reached B');
    t.equal((await http(`${b}/api/data`)).status, 200, 'another route to the same upstream still answers');
    t.equal(
      metricValue(await bw.metrics(), 'breakwater_bulkhead_rejected_total', { scope: 'route', name: 'slow', reason: 'queue-full' }),
      1,
    );
    for (const res of await Promise.all(held)) t.equal(res.status, 200, 'the requests holding the route slots complete');
  });
});
