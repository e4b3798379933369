/**
 * Endpoint health through real processes: passive outlier detection ejects a killed endpoint (never the last one), and
 * active health checks take a failing endpoint out and put it back; with none healthy Breakwater panics and tries all.
 */
import t, { type Test } from 'tap';
import { eventually, http, metricValue, startBreakwater, type RunningBreakwater } from '../helpers/breakwater.js';
import { startBackend, type RunningBackend } from '../helpers/demo-backend.js';

const STATUS_ROUTE = 'GET /api/status/:code';

async function statusHits(backend: RunningBackend): Promise<number> {
  return (await backend.stats()).requests.byRoute[STATUS_ROUTE] ?? 0;
}

const RETRY_CONNECT = { attempts: 2, on: ['connect-failure'], backoff: { base: '1ms', max: '2ms' } };

t.test('endpoint health', async (t) => {
  // One Breakwater, one listener and upstream per scenario: process start-up dominates this file's run time.
  const [doomed, survivor, first] = await Promise.all(['doomed', 'survivor', 'first'].map((name) => startBackend({ name, startTimeoutMs: 60_000 })));
  t.teardown(() => doomed!.kill('SIGKILL'));
  for (const b of [survivor!, first!]) t.teardown(() => b.stop());
  const bw = await startBreakwater(
    {
      listeners: [
        { name: 'pair', address: '127.0.0.1:0', routes: [{ name: 'pair', upstream: 'pair', retry: RETRY_CONNECT }] },
        { name: 'single', address: '127.0.0.1:0', routes: [{ name: 'single', upstream: 'single' }] },
        { name: 'checked', address: '127.0.0.1:0', routes: [{ name: 'checked', upstream: 'checked' }] },
      ],
      upstreams: [
        {
          name: 'pair',
          endpoints: [doomed!.address, survivor!.address],
          outlierDetection: { consecutiveFailures: 3, baseEjectionTime: '30s', maxEjectionPercent: 50 },
        },
        // The killed endpoint again, alone: nothing else to fail over to.
        { name: 'single', endpoints: [doomed!.address], outlierDetection: { consecutiveFailures: 2, maxEjectionPercent: 100 } },
        {
          name: 'checked',
          endpoints: [first!.address, survivor!.address],
          // /api/data answers failureStatus while failureRate is 1: a health endpoint the test can break and mend.
          healthCheck: { path: '/api/data', interval: '200ms', timeout: '1s', unhealthyThreshold: 2, healthyThreshold: 1 },
        },
      ],
    },
    { startTimeoutMs: 60_000 },
  );
  t.teardown(() => bw.stop());

  await t.test('outlier detection ejects a killed endpoint, at most one failed attempt per request', async (t) => {
    await pairScenario(t, bw, doomed!, survivor!);
  });
  await t.test('the last endpoint is never ejected', async (t) => {
    await singleScenario(t, bw, doomed!);
  });
  await t.test('active health checks take a failing endpoint out, put it back, and panic when none is healthy', async (t) => {
    await checkedScenario(t, bw, first!, survivor!);
  });
});

async function pairScenario(t: Test, bw: RunningBreakwater, doomed: RunningBackend, survivor: RunningBackend): Promise<void> {
  const url = bw.listeners.pair!;

  for (let i = 0; i < 4; i++) t.equal((await http(`${url}/api/status/200`)).status, 200, 'both endpoints serve');
  doomed.kill('SIGKILL');
  await doomed.exited;

  const attempts: number[] = [];
  for (let i = 0; i < 30; i++) {
    const res = await http(`${url}/api/status/200`);
    t.equal(res.status, 200, `request ${i} succeeded despite the dead endpoint`);
    attempts.push(Number(res.headers['x-breakwater-attempts']));
  }
  t.ok(attempts.every((n) => n >= 1 && n <= 2), `at most one failed attempt per request: ${attempts.join(',')}`);
  t.ok(attempts.filter((n) => n === 2).length <= 3, 'the dead endpoint was ejected after 3 consecutive failures');
  t.same(attempts.slice(-10), Array(10).fill(1), 'after ejection every request goes straight to the survivor');

  await bw.waitForLog((l) => l.msg === 'endpoint ejected' && l.upstream === 'pair' && l.endpoint === doomed.address);
  const metrics = await bw.metrics();
  t.equal(metricValue(metrics, 'breakwater_endpoint_ejections_total', { upstream: 'pair', endpoint: doomed.address }), 1);
  t.equal(metricValue(metrics, 'breakwater_endpoint_healthy', { upstream: 'pair', endpoint: doomed.address }), 0);
  t.equal(metricValue(metrics, 'breakwater_endpoint_healthy', { upstream: 'pair', endpoint: survivor.address }), 1);
}

async function singleScenario(t: Test, bw: RunningBreakwater, only: RunningBackend): Promise<void> {
  const url = bw.listeners.single!;
  for (let i = 0; i < 6; i++) {
    const res = await http(`${url}/api/status/200`);
    t.equal(res.status, 503);
    t.equal(res.headers['x-breakwater-attempts'], '1', 'the only endpoint is still tried');
    t.match(res.body, /connect-failure/);
  }
  t.equal(metricValue(await bw.metrics(), 'breakwater_endpoint_ejections_total', { upstream: 'single', endpoint: only.address }), 0);
}

async function checkedScenario(t: Test, bw: RunningBreakwater, first: RunningBackend, second: RunningBackend): Promise<void> {
  const url = bw.listeners.checked!;
  const healthy = async (backend: RunningBackend) => metricValue(await bw.metrics(), 'breakwater_endpoint_healthy', { upstream: 'checked', endpoint: backend.address });

  await first.setFaults({ failureRate: 1, failureStatus: 503 });
  await bw.waitForLog((l) => l.msg === 'health check failing' && l.upstream === 'checked' && l.endpoint === first.address, 10_000);
  t.equal(await healthy(first), 0, 'breakwater_endpoint_healthy drops to 0');
  const endpoints = JSON.parse((await http(`${bw.admin}/endpoints`)).body) as {
    upstreams: Array<{ name: string; endpoints: Array<{ address: string; healthCheckPassing: boolean }> }>;
  };
  t.equal(endpoints.upstreams.find((u) => u.name === 'checked')?.endpoints.find((e) => e.address === first.address)?.healthCheckPassing, false, 'GET /endpoints shows it failing');

  const before = await statusHits(first);
  for (let i = 0; i < 10; i++) t.equal((await http(`${url}/api/status/200`)).status, 200);
  t.equal(await statusHits(first), before, 'no traffic goes to the endpoint failing its health check');

  await first.setFaults({ failureRate: 0 });
  await bw.waitForLog((l) => l.msg === 'health check passing' && l.upstream === 'checked' && l.endpoint === first.address, 10_000);
  t.equal(await healthy(first), 1, 'back to 1 once the check passes');
  for (let i = 0; i < 10; i++) await http(`${url}/api/status/200`);
  t.ok((await statusHits(first)) > before, 'traffic reaches it again');

  const logsBefore = bw.logs.length;
  await Promise.all([first, second].map((b) => b.setFaults({ failureRate: 1, failureStatus: 503 })));
  await eventually('both endpoints to fail their checks', async () => ((await healthy(first)) + (await healthy(second)) === 0 ? true : undefined), 10_000);
  const res = await http(`${url}/api/status/200`);
  t.equal(res.status, 200, 'panic mode: with no healthy endpoint every endpoint is tried rather than none');
  await bw.waitForLog((l) => typeof l.msg === 'string' && l.msg.includes('panic mode') && l.upstream === 'checked', 5000, logsBefore);
}
