// The gRPC load generator against real gRPC demo backends: the plain client (none, and proxy when pointed at
// Breakwater) with its deadline, grpc-js's own retries and round_robin (app), and the JSON log per call.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { appServiceConfig } from '../../../demo-client/grpc/service-config.js';
import { parseGrpcTarget } from '../../../demo-client/grpc/target.js';
import { runLoad, validateLoadOptions } from '../../../demo-client/load.js';
import type { AppPolicy } from '../../../demo-client/types.js';
import { startBackend } from '../../helpers/demo-backend.js';
import { runMain } from './spawn.js';

const UNARY = '/breakwater.demo.Demo/Unary';
const [failing, healthy] = await Promise.all(
  ['grpc-a', 'grpc-b'].map((name) => startBackend({ name, seed: 3, env: { BACKEND_GRPC: 'on' }, startTimeoutMs: 30_000 })),
);
t.teardown(() => Promise.all([failing!.stop(), healthy!.stop()]));

const appPolicy = (patch: Partial<AppPolicy> = {}): AppPolicy => ({
  timeoutMs: 500,
  deadlineMs: 1000,
  retry: { attempts: 4, baseMs: 5, maxMs: 20, jitter: 'full' },
  breaker: { errorThresholdPercentage: 50, volumeThreshold: 10_000, windowMs: 10_000, resetTimeoutMs: 10_000 },
  ...patch,
});

t.beforeEach(async () => {
  await Promise.all([failing!.reset(), healthy!.reset()]);
  await failing!.setFaults({ failureRate: 1, slowRate: 0, hang: false });
  await healthy!.setFaults({ failureRate: 0, slowRate: 0, hang: false });
});

t.test('none: one plain call each, its status named, its replica recorded', async (t) => {
  const ok = await runLoad({ url: `${healthy!.url}${UNARY}`, protocol: 'grpc', rate: 40, durationMs: 500, mode: 'none', arm: 'none', requestTimeoutMs: 1000 });
  t.equal(ok.summary.count, 20);
  t.equal(ok.summary.successRate, 1);
  t.ok(ok.records.every((r) => r.grpcStatus === 'ok' && r.status === 200 && r.replica === 'grpc-b' && r.attempts === undefined), 'ok, from grpc-b, no attempt count without a sidecar');

  const failed = await runLoad({ url: `${failing!.url}${UNARY}`, protocol: 'grpc', rate: 40, durationMs: 500, mode: 'none', arm: 'none', requestTimeoutMs: 1000 });
  t.equal(failed.summary.successRate, 0);
  t.ok(failed.records.every((r) => r.grpcStatus === 'unavailable' && r.error === 'unavailable' && r.status === 503 && !r.ok), 'UNAVAILABLE, as its HTTP equivalent 503');
  t.equal((await failing!.stats()).requests.total, 20, 'no retries: one arrival per call');
});

t.test('none: the deadline ends a call to a hung replica', async (t) => {
  await healthy!.setFaults({ hang: true });
  const { records } = await runLoad({ url: `${healthy!.url}${UNARY}`, protocol: 'grpc', rate: 10, durationMs: 300, mode: 'none', arm: 'none', requestTimeoutMs: 300 });
  t.ok(records.every((r) => r.grpcStatus === 'deadline-exceeded' && r.latencyMs >= 290 && r.latencyMs < 1500), `each call ended at its 300 ms deadline (${records.map((r) => r.latencyMs)})`);
});

t.test('app: round_robin over every replica, UNAVAILABLE retried onto the other one', async (t) => {
  const url = `http://${failing!.address},${healthy!.address}${UNARY}`;
  const { records, summary } = await runLoad({ url, protocol: 'grpc', rate: 40, durationMs: 1000, mode: 'app', arm: 'app', appPolicy: appPolicy() });
  // Until both connections are up, round_robin has only the first one to pick: the first calls may exhaust their
  // attempts there. From then on every call reaches the healthy replica.
  const settled = records.filter((r) => r.start >= 200);
  t.ok(settled.every((r) => r.ok && r.replica === 'grpc-b'), `every call from 200 ms on answered by the healthy replica (${summary.ok}/${summary.count} in all)`);
  t.ok(records.some((r) => (r.attempts ?? 0) >= 2), 'some calls needed a retry (grpc-previous-rpc-attempts)');
  t.ok(records.every((r) => (r.attempts ?? 0) >= 1), 'every call counts its attempts');
  t.ok((await failing!.stats()).requests.total > 0, 'the failing replica was tried');

  await failing!.setFaults({ failureRate: 0 });
  const spread = await runLoad({ url, protocol: 'grpc', rate: 40, durationMs: 500, mode: 'app', arm: 'app', appPolicy: appPolicy() });
  t.same(new Set(spread.records.map((r) => r.replica)), new Set(['grpc-a', 'grpc-b']), 'both replicas answer when both are healthy');
});

t.test('app: the service config deadline ends a hung call (no per-attempt timeout in grpc-js)', async (t) => {
  await healthy!.setFaults({ hang: true });
  const { records } = await runLoad({
    url: `${healthy!.url}${UNARY}`, protocol: 'grpc', rate: 10, durationMs: 300, mode: 'app', arm: 'app', appPolicy: appPolicy({ deadlineMs: 400 }),
  });
  t.ok(records.every((r) => r.grpcStatus === 'deadline-exceeded' && r.latencyMs >= 390 && r.latencyMs < 1500), `ended at the 400 ms deadline (${records.map((r) => r.latencyMs)})`);
});

t.test('the service config says what the app arm runs with', async (t) => {
  t.same(appServiceConfig(appPolicy({ retry: { attempts: 9, baseMs: 25, maxMs: 250, jitter: 'full' } }), 'breakwater.demo.Demo'), {
    loadBalancingConfig: [{ round_robin: {} }],
    methodConfig: [{
      name: [{ service: 'breakwater.demo.Demo' }],
      timeout: '1.000000000s',
      retryPolicy: { maxAttempts: 5, initialBackoff: '0.025000000s', maxBackoff: '0.250000000s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'] },
    }],
  }, 'attempts capped at grpc-js\'s 5');
  const onCodes = appPolicy({ retry: { attempts: 2, baseMs: 1, maxMs: 1, jitter: 'none', on: { statuses: [], grpcCodes: [14, 4, 8], connectFailure: true, reset: true, timeout: false } } });
  t.same(appServiceConfig(onCodes, 'x.Y').methodConfig[0]!.retryPolicy!.retryableStatusCodes, ['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED'], 'the route\'s retry.on codes');
  t.notOk(appServiceConfig(appPolicy({ retry: { attempts: 1, baseMs: 1, maxMs: 1, jitter: 'none' } }), 'x.Y').methodConfig[0]!.retryPolicy, 'one attempt: no retry policy');
});

t.test('targets: one address, several, a default port; bad ones are refused before any call', async (t) => {
  t.match(parseGrpcTarget(`http://127.0.0.1:5000${UNARY}`), { channel: '127.0.0.1:5000', path: UNARY, service: 'breakwater.demo.Demo' });
  t.match(parseGrpcTarget(`http://10.0.0.1:1,10.0.0.2:2${UNARY}`), { channel: 'ipv4:10.0.0.1:1,10.0.0.2:2', addresses: ['10.0.0.1:1', '10.0.0.2:2'] });
  t.match(parseGrpcTarget(`http://10.0.0.9${UNARY}`), { channel: '10.0.0.9:80' });
  const base = { protocol: 'grpc' as const, rate: 1, durationMs: 1, mode: 'none' as const, arm: 'none' };
  t.throws(() => validateLoadOptions({ ...base, url: 'http://127.0.0.1:5000/no-method' }), /a gRPC url is http:\/\/HOST:PORT/);
  t.throws(() => validateLoadOptions({ ...base, url: `http://a:1,,b:2${UNARY}` }), /"" in .* is not HOST or HOST:PORT/);
  t.throws(() => validateLoadOptions({ ...base, protocol: 'h3' as never, url: 'http://x' }), /protocol must be http or grpc/);
});

t.test('the CLI writes one JSON line per call and prints the summary', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'grpc-load-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'calls.jsonl');
  const run = await runMain(['load', '--protocol', 'grpc', '--url', `${healthy!.url}${UNARY}`, '--rate', '20', '--duration', '500ms', '--out', out], 20_000);
  t.equal(run.code, 0, run.stderr);
  t.match(JSON.parse(run.stdout.trim()), { arm: 'none', count: 10, successRate: 1 });
  const lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.equal(lines.length, 10);
  t.match(lines[0], { seq: 0, start: 0, latencyMs: Number, status: 200, ok: true, grpcStatus: 'ok', replica: 'grpc-b' });
  const bad = await runMain(['load', '--protocol', 'quic', '--url', 'http://x', '--rate', '1'], 20_000);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /--protocol: expected http or grpc, got "quic"/);
});
