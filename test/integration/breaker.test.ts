/**
 * Circuit breaker through real processes: Breakwater in front of the demo backend. While open it answers at once
 * with the fallback and sends nothing upstream (the backend's own request counter proves it).
 */
import t from 'tap';
import { eventually, http, metricValue, startBreakwater, type RunningBreakwater } from '../helpers/breakwater.js';
import { startBackend, type RunningBackend } from '../helpers/demo-backend.js';

// Long enough that a loaded machine finishes each open-state check before the breaker turns half-open.
const RESET_MS = 2000;

function policy(backend: RunningBackend) {
  return {
    listeners: [
      {
        name: 'main',
        address: '127.0.0.1:0',
        routes: [
          {
            name: 'retried',
            match: { pathPrefix: '/api/status' },
            upstream: 'backend',
            retry: { attempts: 3, on: ['5xx'], backoff: { base: '1ms', max: '2ms' } },
            circuitBreaker: { consecutiveFailures: 2, volumeThreshold: 1000, failOn: ['5xx'] },
          },
          {
            name: 'data',
            match: { pathPrefix: '/api/data' },
            upstream: 'backend',
            circuitBreaker: {
              errorThresholdPercentage: 50,
              volumeThreshold: 4,
              window: '10s',
              resetTimeout: `${RESET_MS}ms`,
              halfOpenRequests: 1,
              failOn: ['5xx', 'timeout', 'connect-failure'],
            },
            fallback: { status: 503, json: { error: 'backend unavailable', fallback: true }, headers: { 'x-fallback': 'yes' } },
          },
        ],
      },
    ],
    upstreams: [{ name: 'backend', endpoints: [backend.address] }],
  };
}

async function breakerState(bw: RunningBreakwater, route: string): Promise<{ state: string; msUntilProbe: number }> {
  const res = await http(`${bw.admin}/breakers`);
  const found = (JSON.parse(res.body) as { breakers: Array<{ route: string; state: string; msUntilProbe: number }> }).breakers.find(
    (b) => b.route === route,
  );
  if (!found) throw new Error(`GET /breakers lists no breaker for route "${route}": ${res.body}`);
  return found;
}

t.test('circuit breaker', async (t) => {
  const backend = await startBackend();
  t.teardown(() => backend.stop());
  const bw = await startBreakwater(policy(backend), { startTimeoutMs: 30_000 });
  t.teardown(() => bw.stop());

  await t.test('opens on failures, then short-circuits with the fallback and no upstream traffic', async (t) => {
    await backend.setFaults({ failureRate: 1, failureStatus: 500 });
    let opened = false;
    for (let i = 0; i < 20 && !opened; i++) {
      const res = await http(`${bw.url}/api/data`);
      opened = res.headers['x-breakwater-circuit'] === 'open';
      if (!opened) t.equal(res.status, 500, 'before opening, the upstream 500 is forwarded');
    }
    t.ok(opened, 'the breaker opened within 20 failing requests');

    const before = (await backend.stats()).requests.total;
    for (let i = 0; i < 5; i++) {
      const res = await http(`${bw.url}/api/data`);
      t.equal(res.status, 503);
      t.equal(res.headers['x-breakwater-circuit'], 'open');
      t.equal(res.headers['x-fallback'], 'yes', 'fallback headers are sent');
      t.same(JSON.parse(res.body), { error: 'backend unavailable', fallback: true });
      const retryAfter = Number(res.headers['retry-after']);
      t.ok(retryAfter >= 1 && retryAfter <= Math.ceil(RESET_MS / 1000), `Retry-After is the seconds to half-open, got ${res.headers['retry-after']}`);
    }
    t.equal((await backend.stats()).requests.total, before, 'no request reached the backend while open');

    const metrics = await bw.metrics();
    t.equal(metricValue(metrics, 'breakwater_circuit_state', { route: 'data', state: 'open' }), 1);
    t.equal(metricValue(metrics, 'breakwater_circuit_state', { route: 'data', state: 'closed' }), 0);
    t.equal(metricValue(metrics, 'breakwater_circuit_transitions_total', { route: 'data', from: 'closed', to: 'open' }), 1);
    t.ok(metricValue(metrics, 'breakwater_circuit_short_circuited_total', { route: 'data' }) >= 5);
  });

  await t.test('GET /breakers shows the state, counts and time to the next probe', async (t) => {
    const res = await http(`${bw.admin}/breakers`);
    t.equal(res.status, 200);
    const data = (JSON.parse(res.body) as { breakers: Array<Record<string, unknown>> }).breakers.find((b) => b.route === 'data');
    t.ok(data, 'route "data" is listed');
    t.equal(data!.state, 'open');
    t.ok((data!.msUntilProbe as number) > 0 && (data!.msUntilProbe as number) <= RESET_MS, `msUntilProbe ${String(data!.msUntilProbe)}`);
    t.ok(((data!.window as { failures: number }).failures) >= 4, 'failures in the window are counted');
  });

  await t.test('a failed half-open probe reopens the circuit', async (t) => {
    await eventually('the breaker to turn half-open', async () => ((await breakerState(bw, 'data')).state === 'half_open' ? true : undefined), 5000);
    const reopenedBefore = metricValue(await bw.metrics(), 'breakwater_circuit_transitions_total', { route: 'data', from: 'half_open', to: 'open' });
    const before = (await backend.stats()).requests.total;
    const probe = await http(`${bw.url}/api/data`);
    t.equal(probe.status, 500, 'the probe reached the (still failing) backend');
    t.equal((await backend.stats()).requests.total, before + 1, 'exactly one request went upstream');
    const next = await http(`${bw.url}/api/data`);
    t.equal(next.headers['x-breakwater-circuit'], 'open', 'the failed probe reopened the circuit');
    const metrics = await bw.metrics();
    t.equal(metricValue(metrics, 'breakwater_circuit_transitions_total', { route: 'data', from: 'half_open', to: 'open' }), reopenedBefore + 1);
  });

  await t.test('half-open lets halfOpenRequests probes through; a success closes', async (t) => {
    await backend.setFaults({ failureRate: 0, slowRate: 1, slowDelay: '300ms' });
    await eventually('the breaker to turn half-open', async () => ((await breakerState(bw, 'data')).state === 'half_open' ? true : undefined), 5000);
    const before = (await backend.stats()).requests.total;
    const answers = await Promise.all([1, 2, 3].map(() => http(`${bw.url}/api/data`)));
    const statuses = answers.map((a) => a.status).sort();
    t.same(statuses, [200, 503, 503], 'one probe passed, the other two were short-circuited');
    t.equal((await backend.stats()).requests.total, before + 1, 'only the probe reached the backend');
    t.equal((await breakerState(bw, 'data')).state, 'closed');
    await backend.setFaults({ slowRate: 0 });
    t.equal((await http(`${bw.url}/api/data`)).status, 200, 'closed again: requests flow');
    const metrics = await bw.metrics();
    t.equal(metricValue(metrics, 'breakwater_circuit_transitions_total', { route: 'data', from: 'half_open', to: 'closed' }), 1);
    t.equal(metricValue(metrics, 'breakwater_circuit_state', { route: 'data', state: 'closed' }), 1);
  });

  await t.test('4xx answers are not failures unless listed', async (t) => {
    const before = (await backend.stats()).requests.total;
    // /api/status is the "retried" route; its breaker counts only 5xx.
    for (let i = 0; i < 5; i++) t.equal((await http(`${bw.url}/api/status/404`)).status, 404);
    t.equal((await backend.stats()).requests.total, before + 5);
    t.equal((await breakerState(bw, 'retried')).state, 'closed');
  });

  await t.test('the breaker sits outside the retries: one request is one breaker call', async (t) => {
    const before = (await backend.stats()).requests.total;
    const first = await http(`${bw.url}/api/status/500`);
    t.equal(first.status, 500);
    t.equal(first.headers['x-breakwater-attempts'], '3', 'the request was retried');
    t.equal((await backend.stats()).requests.total, before + 3);
    t.equal((await breakerState(bw, 'retried')).state, 'closed', 'three failed attempts are one breaker failure (threshold 2)');
    await http(`${bw.url}/api/status/500`);
    t.equal((await breakerState(bw, 'retried')).state, 'open', 'the second failed request opens it (consecutiveFailures: 2)');
    const res = await http(`${bw.url}/api/status/200`);
    t.equal(res.status, 503, 'no fallback configured: a plain 503');
    t.equal(res.headers['x-breakwater-circuit'], 'open');
    t.ok(Number(res.headers['retry-after']) >= 1);
  });
});
