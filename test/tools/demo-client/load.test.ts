import t from 'tap';
import { performance } from 'node:perf_hooks';
import { runLoad } from '../../../demo-client/load.js';
import type { AppPolicy } from '../../../demo-client/types.js';
import { startBackend, type FaultsPatch } from '../../helpers/demo-backend.js';
import { startUpstream, type UpstreamReply } from './upstream.js';

// One real demo-backend process for the file; each test resets it and sets the faults it is about.
const backend = await startBackend({ name: 'load-test', startTimeoutMs: 30_000 });
t.teardown(() => backend.stop());

async function freshBackend(faults: FaultsPatch = {}): Promise<void> {
  await backend.reset();
  await backend.setFaults({ failureRate: 0, slowRate: 0, transientRate: 0, hang: false, failNext: 0, ...faults });
}

async function backendRequests(route: string): Promise<number> {
  return (await backend.stats()).requests.byRoute[route] ?? 0;
}

async function upstream(t: { teardown(fn: () => unknown): void }, reply: (n: number) => UpstreamReply) {
  const server = await startUpstream(reply);
  t.teardown(() => server.close());
  return server;
}

/** Fast numbers for tests; each test overrides what it is about. */
function appPolicy(patch: { retry?: Partial<AppPolicy['retry']>; breaker?: Partial<AppPolicy['breaker']>; timeoutMs?: number }): AppPolicy {
  return {
    timeoutMs: patch.timeoutMs ?? 1000,
    retry: { attempts: 1, baseMs: 1, maxMs: 5, jitter: 'full', ...patch.retry },
    // a volume no test reaches keeps the percentage trip out of tests about the consecutive-failures trip
    breaker: { errorThresholdPercentage: 50, volumeThreshold: 10_000, windowMs: 10_000, resetTimeoutMs: 30_000, ...patch.breaker },
  };
}

t.test('open loop keeps the schedule when the server is slower than the send interval', async (t) => {
  await freshBackend();
  let maxInFlight = 0;
  let loading = true;
  const watching = (async () => {
    while (loading) maxInFlight = Math.max(maxInFlight, (await backend.stats()).inFlight);
  })();
  const { records, summary } = await runLoad({ url: `${backend.url}/api/slow?ms=300`, rate: 50, durationMs: 1000, mode: 'none', arm: 'none' });
  loading = false;
  await watching;
  t.equal(summary.count, 50, 'rate x duration requests, although each answer takes 15 send intervals');
  t.equal(await backendRequests('GET /api/slow'), 50);
  t.ok(maxInFlight >= 5, `requests overlapped at the backend (${maxInFlight} in flight at once): nobody waited for an answer`);
  t.same(records.map((r) => r.start), Array.from({ length: 50 }, (_, i) => i * 20), 'scheduled send times are seq / rate');
  t.ok(records.every((r) => r.ok && r.status === 200 && r.latencyMs >= 300), 'every latency includes the 300 ms the server took');
  t.ok(records.every((r) => r.replica === 'load-test'), 'each record names the replica that answered');
  t.equal(summary.successRate, 1);
});
t.test('latency counts from the scheduled send time, so a stalled sender cannot hide delay', async (t) => {
  await freshBackend();
  const blockMs = 300;
  let blockStart = 0;
  const loadStart = performance.now(); // <= the load's own start
  const { records } = await runLoad({
    url: `${backend.url}/api/data`,
    rate: 100,
    durationMs: 600,
    mode: 'none',
    arm: 'none',
    onRecord: (r) => {
      if (r.seq !== 0) return;
      // Stall the event loop like a GC pause: requests falling due meanwhile go out late.
      blockStart = performance.now();
      while (performance.now() - blockStart < blockMs);
    },
  });
  // Record k is scheduled at loadStart' + start with loadStart <= loadStart' <= blockStart; one scheduled after the stall
  // began cannot complete before it ends, so its latency is at least blockMs - start even if the send itself was instant.
  const stalled = records.filter((r) => r.start > blockStart - loadStart && r.start <= blockMs / 2);
  t.ok(stalled.length > 0, 'some requests fell due during the stall');
  for (const r of stalled) t.ok(r.latencyMs >= blockMs - r.start, `seq ${r.seq} scheduled at ${r.start} ms reports ${r.latencyMs} ms >= ${blockMs - r.start}`);
});

t.test('app mode retries a failing call: the backend sees every attempt', async (t) => {
  await freshBackend({ failureRate: 1, failureStatus: 503 });
  const { records } = await runLoad({ url: `${backend.url}/api/data`, rate: 10, durationMs: 100, mode: 'app', arm: 'app', appPolicy: appPolicy({ retry: { attempts: 3 } }) });
  t.equal(records.length, 1);
  t.equal(await backendRequests('GET /api/data'), 3, 'three attempts reached the backend');
  t.match(records[0], { status: 503, ok: false, attempts: 3, fastFail: false });
});
t.test('app mode: a retry that succeeds makes the call succeed', async (t) => {
  await freshBackend({ failNext: 2 });
  const { records } = await runLoad({ url: `${backend.url}/api/data`, rate: 10, durationMs: 100, mode: 'app', arm: 'app', appPolicy: appPolicy({ retry: { attempts: 4 } }) });
  t.match(records, [{ status: 200, ok: true, attempts: 3, replica: 'load-test' }], 'the replica that answered the last attempt is recorded');
  t.equal(await backendRequests('GET /api/data'), 3);
});
t.test('app mode: a per-attempt timeout abandons each slow attempt', async (t) => {
  await freshBackend();
  const { records } = await runLoad({ url: `${backend.url}/api/slow?ms=2000`, rate: 10, durationMs: 100, mode: 'app', arm: 'app', appPolicy: appPolicy({ timeoutMs: 150, retry: { attempts: 2 } }) });
  t.match(records, [{ status: 0, ok: false, error: 'timeout', attempts: 2, fastFail: false }]);
  t.ok(records[0]!.latencyMs < 2000, `both attempts were cut at their deadline, not awaited (${records[0]!.latencyMs} ms)`);
  t.equal(await backendRequests('GET /api/slow'), 2);
});
t.test('app mode opens its breaker after consecutive failures, then fast-fails without backend traffic', async (t) => {
  await freshBackend({ failureRate: 1, failureStatus: 500 });
  const { records, summary } = await runLoad({
    url: `${backend.url}/api/data`,
    rate: 50,
    durationMs: 1000,
    mode: 'app',
    arm: 'app',
    appPolicy: appPolicy({ breaker: { consecutiveFailures: 5 } }),
  });
  const reachedBackend = records.filter((r) => !r.fastFail);
  t.equal(await backendRequests('GET /api/data'), reachedBackend.length, 'only calls made before the breaker opened reached the backend');
  t.ok(reachedBackend.length >= 5 && reachedBackend.length <= 10, `the breaker opened after about 5 failures (${reachedBackend.length})`);
  t.equal(summary.fastFails, 50 - reachedBackend.length);
  const firstFastFail = records.findIndex((r) => r.fastFail);
  t.ok(records.slice(firstFastFail).every((r) => r.fastFail && r.error === 'EOPENBREAKER' && r.attempts === 0), 'every later call failed fast');
});
t.test('the proxy arm reads what Breakwater says: attempts, short-circuit and bulkhead rejections', async (t) => {
  const replies: UpstreamReply[] = [
    { status: 200, headers: { 'x-breakwater-attempts': '3' } },
    { status: 503, headers: { 'x-breakwater-circuit': 'open' } },
    { status: 503, headers: { 'x-breakwater-bulkhead': 'rejected' } },
    { status: 504, headers: { 'x-breakwater-attempts': '4' } },
  ];
  const server = await upstream(t, (n) => replies[n - 1]!);
  const { records } = await runLoad({ url: `${server.origin}/`, rate: 20, durationMs: 200, mode: 'none', arm: 'proxy' });
  t.match(records, [
    { arm: 'proxy', status: 200, ok: true, attempts: 3, fastFail: false },
    { status: 503, ok: false, fastFail: true },
    { status: 503, ok: false, fastFail: true },
    { status: 504, ok: false, attempts: 4, fastFail: false },
  ]);
});

t.test("none mode: no answer within the socket timeout is an error record with undici's code", async (t) => {
  await freshBackend();
  const { records } = await runLoad({ url: `${backend.url}/api/slow?ms=1500`, rate: 10, durationMs: 100, mode: 'none', arm: 'none', socketTimeoutMs: 200 });
  t.match(records, [{ status: 0, ok: false, error: 'UND_ERR_HEADERS_TIMEOUT', fastFail: false }]);
});
t.test('a refused connection is recorded, not thrown', async (t) => {
  const server = await upstream(t, () => ({ status: 200 }));
  const url = `${server.origin}/`;
  await server.close();
  const { records, summary } = await runLoad({ url, rate: 20, durationMs: 100, mode: 'none', arm: 'none' });
  t.match(records, [{ status: 0, ok: false, error: 'ECONNREFUSED' }, { status: 0, ok: false, error: 'ECONNREFUSED' }]);
  t.equal(summary.successRate, 0);
});

t.test('beyond maxInFlight a request is recorded as client-overload instead of queueing', async (t) => {
  await freshBackend();
  const { records } = await runLoad({ url: `${backend.url}/api/slow?ms=500`, rate: 100, durationMs: 200, mode: 'none', arm: 'none', maxInFlight: 5 });
  t.equal(records.length, 20);
  t.equal(records.filter((r) => r.error === 'client-overload').length, 15);
  t.equal(await backendRequests('GET /api/slow'), 5);
});
t.test('bad options are refused before any traffic, naming the option', async (t) => {
  const base = { url: 'http://127.0.0.1:1/', rate: 10, durationMs: 100, mode: 'none' as const, arm: 'x' };
  await t.rejects(runLoad({ ...base, url: 'not a url' }), /url must be an absolute http\(s\) URL/);
  await t.rejects(runLoad({ ...base, url: 'ftp://127.0.0.1/' }), /url must use http or https/);
  await t.rejects(runLoad({ ...base, rate: 0 }), /rate must be a positive number/);
  await t.rejects(runLoad({ ...base, durationMs: -1 }), /durationMs must be > 0/);
  await t.rejects(runLoad({ ...base, mode: 'retry' as never }), /mode must be none or app/);
  await t.rejects(runLoad({ ...base, maxInFlight: 0 }), /maxInFlight must be a positive whole number/);
});

t.test('an abort signal stops the schedule early and the load still resolves', async (t) => {
  await freshBackend();
  const controller = new AbortController();
  const { records } = await runLoad({
    url: `${backend.url}/api/data`,
    rate: 100,
    durationMs: Infinity,
    mode: 'none',
    arm: 'none',
    signal: controller.signal,
    onRecord: (r) => {
      if (r.seq === 9) controller.abort();
    },
  });
  t.ok(records.length >= 10 && records.length < 100, `stopped soon after the abort (${records.length} records)`);
});
