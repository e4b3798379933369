/**
 * Hot reload through real processes: an atomic rename (or a ConfigMap-style symlink swap) changes behaviour within
 * 2 s; a bad file changes nothing; SIGHUP and POST /reload reload too; unchanged routes keep their breaker state;
 * a listener moves only when its new address can be bound; requests in flight finish under their own policy.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { parsePrometheusText } from '../../chaos/prometheus-text.js';
import { eventually, http, metricValue, startBreakwater, withTestDefaults, type RunningBreakwater } from '../helpers/breakwater.js';
import { startBackend, type RunningBackend } from '../helpers/demo-backend.js';

const RELOAD_WITHIN_MS = 2000;

interface Shape {
  address?: string;
  abortStatus: number;
  /** Abort status of the /api/slow route, when it has a fault. */
  slowAbortStatus?: number;
  extraRoute?: boolean;
}

function policy(backend: RunningBackend, shape: Shape) {
  const routes: object[] = [
    { name: 'faulty', match: { pathPrefix: '/api/status' }, upstream: 'backend', fault: { abort: { percent: 100, status: shape.abortStatus } } },
    {
      name: 'slow',
      match: { pathPrefix: '/api/slow' },
      upstream: 'backend',
      ...(shape.slowAbortStatus ? { fault: { abort: { percent: 100, status: shape.slowAbortStatus } } } : {}),
    },
    { name: 'guarded', match: { pathPrefix: '/api/data' }, upstream: 'backend', circuitBreaker: { consecutiveFailures: 2, volumeThreshold: 1000, resetTimeout: '60s' } },
    { name: 'rest', upstream: 'backend' },
  ];
  if (shape.extraRoute) routes.unshift({ name: 'added', match: { pathPrefix: '/api/transient' }, upstream: 'backend', fault: { abort: { percent: 100, status: 451 } } });
  return withTestDefaults({
    listeners: [{ name: 'main', address: shape.address ?? '127.0.0.1:0', routes }],
    upstreams: [{ name: 'backend', endpoints: [backend.address] }],
  });
}

async function status(url: string): Promise<number | string> {
  try {
    return (await http(url)).status;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

function untilStatus(url: string, expected: number | string, what: string, timeoutMs = RELOAD_WITHIN_MS): Promise<true> {
  return eventually(`${what} (GET ${url} → ${expected})`, async () => ((await status(url)) === expected ? true : undefined), timeoutMs);
}

async function generation(bw: RunningBreakwater): Promise<number> {
  return metricValue(await bw.metrics(), 'breakwater_config_generation');
}

function holdPort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

t.test('hot reload', async (t) => {
  const backend = await startBackend({ startTimeoutMs: 60_000 });
  t.teardown(() => backend.stop());
  let shape: Shape = { abortStatus: 418 };
  const bw = await startBreakwater(policy(backend, shape), { startTimeoutMs: 60_000 });
  t.teardown(() => bw.stop());
  let url = bw.url;
  const apply = (next: Shape) => bw.writePolicy(policy(backend, (shape = next)));

  await t.test('an atomic rename changes behaviour within 2 s; an unchanged route keeps its open breaker', async (t) => {
    await backend.setFaults({ failNext: 2, failureStatus: 500 });
    for (let i = 0; i < 2; i++) t.equal(await status(`${url}/api/data`), 500);
    const open = await http(`${url}/api/data`);
    t.equal(open.headers['x-breakwater-circuit'], 'open', 'the breaker of route "guarded" is open before the reload');

    t.equal(await status(`${url}/api/status/200`), 418);
    t.equal(await status(`${url}/api/transient`), 200, 'no route "added" yet: /api/transient goes upstream');
    apply({ abortStatus: 429, extraRoute: true });
    await untilStatus(`${url}/api/status/200`, 429, 'the new abort status');
    await untilStatus(`${url}/api/transient`, 451, 'the new route');
    t.equal(await generation(bw), 2);

    const still = await http(`${url}/api/data`);
    t.equal(still.headers['x-breakwater-circuit'], 'open', 'the unchanged route kept its open breaker across the reload');
  });

  await t.test('an invalid file changes nothing and is reported with its paths', async (t) => {
    const text = await bw.metrics();
    const failures = metricValue(text, 'breakwater_config_reloads_total', { result: 'failure' });
    const from = bw.logs.length;
    const bad = policy(backend, shape) as { listeners: Array<{ routes: Array<Record<string, unknown>> }> };
    bad.listeners[0]!.routes[0]!.timeout = 'soon';
    bw.writePolicy(bad);
    const rejected = await bw.waitForLog((l) => l.msg?.includes('policy reload rejected') === true, RELOAD_WITHIN_MS, from);
    t.match(JSON.stringify(rejected.problems), /listeners\.0\.routes\.0\.timeout|listeners\[0\]\.routes\[0\]\.timeout/, 'the problem names its path');
    const after = await bw.metrics();
    t.equal(metricValue(after, 'breakwater_config_reloads_total', { result: 'failure' }), failures + 1);
    t.equal(metricValue(after, 'breakwater_config_generation'), 2, 'generation unchanged');
    t.equal(await status(`${url}/api/status/200`), 429, 'the running policy keeps serving');
    apply(shape); // back to a valid file for what follows
    await eventually('the valid file to be applied', async () => ((await generation(bw)) === 3 ? true : undefined), RELOAD_WITHIN_MS);
  });

  await t.test('SIGHUP and POST /reload reload the file', async (t) => {
    const from = bw.logs.length;
    bw.child.kill('SIGHUP');
    await bw.waitForLog((l) => l.msg === 'policy reloaded' && l.trigger === 'SIGHUP', RELOAD_WITHIN_MS, from);
    t.equal(await generation(bw), 4);
    const res = await http(`${bw.admin}/reload`, { method: 'POST' });
    t.equal(res.status, 200, res.body);
    t.match(JSON.parse(res.body), { ok: true, generation: 5 });
  });

  await t.test('a listener address change is applied, or refused when the address is taken', async (t) => {
    const taken = await holdPort();
    t.teardown(() => taken.close());
    const takenPort = (taken.address() as { port: number }).port;
    const from = bw.logs.length;
    // The same file also changes a route: refusing the address must refuse that too (nothing half-applied).
    bw.writePolicy(policy(backend, { ...shape, abortStatus: 430, address: `127.0.0.1:${takenPort}` }));
    const rejected = await bw.waitForLog((l) => l.msg?.includes('policy reload rejected') === true, RELOAD_WITHIN_MS, from);
    t.match(JSON.stringify(rejected.problems), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${takenPort}`));
    t.equal(await status(`${url}/api/status/200`), 429, 'the old listener keeps serving the old routes');
    t.equal(await generation(bw), 5, 'nothing was applied');

    const free = await holdPort();
    const freePort = (free.address() as { port: number }).port;
    await new Promise((resolve) => free.close(resolve));
    apply({ ...shape, address: `127.0.0.1:${freePort}` });
    const next = `http://127.0.0.1:${freePort}`;
    await untilStatus(`${next}/api/status/200`, 429, 'the new address to answer');
    await untilStatus(`${url}/api/status/200`, 'ECONNREFUSED', 'the old address to stop');
    url = next;
  });

  await t.test('requests in flight finish under the policy they started with', async (t) => {
    const before = (await backend.stats()).requests.total;
    const inflight = http(`${url}/api/slow?ms=1500`);
    await eventually('the slow request to reach the backend', async () => ((await backend.stats()).requests.total > before ? true : undefined));
    apply({ ...shape, slowAbortStatus: 503 });
    await untilStatus(`${url}/api/slow?ms=1`, 503, 'the new fault on /api/slow');
    const res = await inflight;
    t.equal(res.status, 200, 'the request that started before the reload completed normally');
    t.equal(res.headers['x-breakwater-fault'], undefined);
  });
});

t.test('a ConfigMap-style symlink swap reloads on every swap', async (t) => {
  const backend = await startBackend({ startTimeoutMs: 60_000 });
  t.teardown(() => backend.stop());
  const dir = mkdtempSync(join(tmpdir(), 'breakwater-configmap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Kubernetes' layout: policy.yaml → ..data/policy.yaml, and ..data → a timestamped folder, swapped by rename.
  let version = 0;
  const publish = (abortStatus: number) => {
    const folder = `..v${++version}`;
    mkdirSync(join(dir, folder));
    writeFileSync(join(dir, folder, 'policy.yaml'), stringify(policy(backend, { abortStatus })));
    symlinkSync(folder, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    if (version > 1) rmSync(join(dir, `..v${version - 1}`), { recursive: true });
  };
  publish(500);
  symlinkSync('..data/policy.yaml', join(dir, 'policy.yaml'));
  const bw = await startBreakwater({}, { policyPath: join(dir, 'policy.yaml'), startTimeoutMs: 60_000 });
  t.teardown(() => bw.stop());
  t.equal(await status(`${bw.url}/api/status/200`), 500);
  for (const abortStatus of [501, 502, 503]) {
    publish(abortStatus);
    await untilStatus(`${bw.url}/api/status/200`, abortStatus, `swap ${version - 1} to apply`);
  }
  t.equal(await generation(bw), 4, 'each of the three swaps was one reload');
});

t.test('a route removed by a reload stops exporting its circuit state and bulkhead gauges; a kept route keeps them', async (t) => {
  const backend = await startBackend({ startTimeoutMs: 60_000 });
  t.teardown(() => backend.stop());
  const guarded = (name: string, pathPrefix: string) => ({
    name,
    match: { pathPrefix },
    upstream: 'backend',
    maxConcurrent: 5,
    circuitBreaker: { consecutiveFailures: 2, volumeThreshold: 1000, resetTimeout: '60s' },
  });
  const withRoutes = (routes: object[]) =>
    withTestDefaults({ listeners: [{ name: 'main', address: '127.0.0.1:0', routes }], upstreams: [{ name: 'backend', endpoints: [backend.address] }] });
  const bw = await startBreakwater(withRoutes([guarded('removed', '/api/data'), guarded('kept', '/api/status'), { name: 'rest', upstream: 'backend' }]), {
    startTimeoutMs: 60_000,
  });
  t.teardown(() => bw.stop());
  const series = async (route: string) => {
    const samples = parsePrometheusText(await bw.metrics());
    return {
      circuit: samples.filter((s) => s.name === 'breakwater_circuit_state' && s.labels.route === route).length,
      bulkhead: samples.filter((s) => s.name === 'breakwater_bulkhead_active' && s.labels.scope === 'route' && s.labels.name === route).length,
    };
  };
  t.same(await series('removed'), { circuit: 3, bulkhead: 1 }, 'before the reload: one circuit_state series per state, one route bulkhead gauge');

  bw.writePolicy(withRoutes([guarded('kept', '/api/status'), { name: 'rest', upstream: 'backend' }]));
  await eventually('the reload', async () => ((await generation(bw)) === 2 ? true : undefined), RELOAD_WITHIN_MS);
  t.same(await eventually('the removed route\'s gauges to go', async () => {
    const now = await series('removed');
    return now.circuit === 0 && now.bulkhead === 0 ? now : undefined;
  }), { circuit: 0, bulkhead: 0 });
  t.same(await series('kept'), { circuit: 3, bulkhead: 1 }, 'the unchanged route still exports both');
  t.equal(metricValue(await bw.metrics(), 'breakwater_circuit_state', { route: 'kept', state: 'closed' }), 1);
});

t.test('the running upstream keeps its bulkhead and endpoint gauges through a changed upstream, applied or refused', async (t) => {
  // A plain upstream that can hold a request open and shows when a pooled connection closes.
  const held: ServerResponse[] = [];
  const sockets = new Set<Socket>();
  const upstream = createHttpServer((req, res) => {
    if (req.url === '/hold') held.push(res);
    else res.end('ok');
  });
  upstream.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const res of held) res.end();
    upstream.closeAllConnections();
    upstream.close();
  });
  const endpoint = `127.0.0.1:${(upstream.address() as { port: number }).port}`;
  const withPool = (maxConcurrent: number, address = '127.0.0.1:0') =>
    withTestDefaults({
      listeners: [{ name: 'main', address, routes: [{ name: 'capped', upstream: 'backend', maxConcurrent: maxConcurrent + 1 }] }],
      upstreams: [{ name: 'backend', endpoints: [endpoint], pool: { maxConcurrent } }],
    });
  const bw = await startBreakwater(withPool(10), { startTimeoutMs: 60_000 });
  t.teardown(() => bw.stop());
  const gauges = async () => {
    const samples = parsePrometheusText(await bw.metrics());
    const one = (name: string, labels: Record<string, string>) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value ?? 'absent';
    return {
      upstreamActive: one('breakwater_bulkhead_active', { scope: 'upstream', name: 'backend' }),
      routeActive: one('breakwater_bulkhead_active', { scope: 'route', name: 'capped' }),
      endpointHealthy: one('breakwater_endpoint_healthy', { upstream: 'backend', endpoint }),
    };
  };

  const inflight = http(`${bw.url}/hold`);
  await eventually('the held request to reach the upstream', () => (held.length === 1 ? true : undefined));
  t.same(await gauges(), { upstreamActive: 1, routeActive: 1, endpointHealthy: 1 }, 'before: one request holds both bulkheads');

  const taken = await holdPort();
  t.teardown(() => taken.close());
  const from = bw.logs.length;
  bw.writePolicy(withPool(20, `127.0.0.1:${(taken.address() as { port: number }).port}`));
  await bw.waitForLog((l) => l.msg?.includes('policy reload rejected') === true, RELOAD_WITHIN_MS, from);
  t.same(await gauges(), { upstreamActive: 1, routeActive: 1, endpointHealthy: 1 }, 'a refused reload leaves the running gauges as they were');
  held.shift()!.end('done');
  t.equal((await inflight).status, 200);

  const firstConnections = new Set(sockets);
  t.ok(firstConnections.size > 0, 'the running pool holds a keep-alive connection');
  bw.writePolicy(withPool(20));
  await eventually('the reload', async () => ((await generation(bw)) === 2 ? true : undefined), RELOAD_WITHIN_MS);
  await eventually('the replaced pool to close its connections', () => ([...firstConnections].every((s) => !sockets.has(s)) ? true : undefined));
  t.same(await gauges(), { upstreamActive: 0, routeActive: 0, endpointHealthy: 1 }, 'the new upstream exports its gauges once the old one is closed');
  t.equal((await http(`${bw.url}/after`)).status, 200);
});

t.test('a reload that changes only circuitBreaker.failOn gives the route a breaker that counts the new statuses', async (t) => {
  const backend = await startBackend({ startTimeoutMs: 60_000 });
  t.teardown(() => backend.stop());
  const failingOn = (failOn: number[]) =>
    withTestDefaults({
      listeners: [
        {
          name: 'main',
          address: '127.0.0.1:0',
          routes: [{ name: 'guarded', upstream: 'backend', circuitBreaker: { consecutiveFailures: 2, volumeThreshold: 1000, resetTimeout: '60s', failOn } }],
        },
      ],
      upstreams: [{ name: 'backend', endpoints: [backend.address] }],
    });
  const bw = await startBreakwater(failingOn([429]), { startTimeoutMs: 60_000 });
  t.teardown(() => bw.stop());
  const unavailable = `${bw.url}/api/status/503`;
  for (let i = 0; i < 3; i++) t.equal(await status(unavailable), 503);
  t.not((await http(unavailable)).headers['x-breakwater-circuit'], 'open', 'a 503 is no failure under failOn [429]');

  bw.writePolicy(failingOn([503]));
  await eventually('the reload', async () => ((await generation(bw)) === 2 ? true : undefined), RELOAD_WITHIN_MS);
  for (let i = 0; i < 2; i++) await http(unavailable);
  const open = await http(unavailable);
  t.equal(open.headers['x-breakwater-circuit'], 'open', 'two 503s under failOn [503] open the breaker');
  t.match(JSON.parse((await http(`${bw.admin}/breakers`)).body), { breakers: [{ route: 'guarded', state: 'open' }] }, '/breakers shows it open');
});
