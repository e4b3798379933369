import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually, MAIN, runMain, waitForJsonLine } from './spawn.js';
import { startUpstream } from './upstream.js';

// Bounds, not speed goals: under the test runner a child node process starts with its coverage hooks, which on a
// busy 2-core machine can take many seconds.
const BOUND_MS = 60_000;

t.test('load: prints the summary on stdout and writes one JSON line per request', async (t) => {
  const server = await startUpstream((n) => ({ status: n % 4 === 0 ? 503 : 200 }));
  t.teardown(() => server.close());
  const dir = t.testdir();
  const out = join(dir, 'records.jsonl');
  const run = await runMain(['load', '--url', `${server.origin}/api/data`, '--rate', '40', '--duration', '1s', '--arm', 'baseline', '--out', out], BOUND_MS);
  t.equal(run.code, 0, run.stderr);
  const summary = JSON.parse(run.stdout);
  t.match(summary, { arm: 'baseline', count: 40, ok: 30, successRate: 0.75, fastFails: 0 });
  t.ok(summary.p50 <= summary.p95 && summary.p95 <= summary.p99 && summary.p99 <= summary.max, 'percentiles are ordered');
  const lines = (await readFile(out, 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
  t.equal(lines.length, 40);
  t.equal(server.requests, 40);
  t.match(lines[0], { arm: 'baseline', seq: Number, start: Number, latencyMs: Number, status: Number, ok: Boolean, fastFail: false });
});

t.test('bad arguments exit 1 with a message naming the argument', async (t) => {
  const run = await runMain(['load', '--url', 'http://127.0.0.1:1/', '--rate', 'fast'], BOUND_MS);
  t.match(run, { code: 1, stderr: /--rate .*expected a positive number.*"fast"/ });
});

t.test('serve: steady load from env settings, /stats, /metrics and /healthz, clean exit on SIGTERM', async (t) => {
  const server = await startUpstream((n) => ({ status: n % 5 === 0 ? 500 : 200 }));
  t.teardown(() => server.close());
  const child = spawn(process.execPath, [MAIN, 'serve', '--host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DEMO_CLIENT_URL: `${server.origin}/api/data`, DEMO_CLIENT_RATE: '50', DEMO_CLIENT_PORT: '0', DEMO_CLIENT_MODE: 'none' },
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const listening = await waitForJsonLine(child, (line) => line.msg === 'listening', BOUND_MS);
  const base = `http://127.0.0.1:${listening.port}`;

  const stats = await eventually('20 requests in /stats', 30_000, async () => {
    const body = (await (await fetch(`${base}/stats`)).json()) as Record<string, any>;
    return body.count >= 20 ? body : undefined;
  });
  t.match(stats, { count: Number, ok: Number, successRate: Number, p50: Number, p99: Number, fastFails: 0 });
  t.match(stats.window, { seconds: 60, count: Number, successRate: Number, p50: Number, p99: Number, fastFails: 0 });
  t.ok(stats.successRate > 0.5 && stats.successRate < 1, `one request in five fails upstream (success rate ${stats.successRate})`);
  t.ok(stats.window.count >= 20 && stats.window.count <= stats.count);

  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.match(metrics, /demo_client_requests_total\{outcome="ok",status_class="2xx"\} \d+/);
  t.match(metrics, /demo_client_requests_total\{outcome="error",status_class="5xx"\} \d+/);
  t.match(metrics, /demo_client_request_duration_seconds_bucket\{le="0.05",outcome="ok"\} \d+/);
  t.notMatch(metrics, /nodejs_active_(handles|requests|resources)_total/, 'no gauges named like counters (promtool rejects them)');
  t.equal((await fetch(`${base}/healthz`)).status, 200);
  t.equal((await fetch(`${base}/nope`)).status, 404);

  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  t.equal(code, 0, 'exits 0 after SIGTERM');
  const sent = server.requests;
  t.ok(sent >= 20, `the service sent steady load (${sent} requests)`);
});
