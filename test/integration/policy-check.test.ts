/**
 * The policy check runs in a child process, not on the proxy's event loop: through real processes, requests keep being answered
 * while a reload checks a large policy, and a policy too large for the memory the proxy has left is refused while the
 * running proxy keeps serving (it used to exhaust the heap and kill the proxy mid-reload); a drain that begins during
 * the check refuses the reload, and is not counted as a failed one.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { stringify } from 'yaml';
import { realisticRoute } from '../../bench/targets/breakwater.js';
import { Runtime } from '../../proxy/runtime/runtime.js';
import { DataPlaneListener } from '../../proxy/server/listener.js';
import { createLoggers } from '../../proxy/telemetry/logger.js';
import { Metrics } from '../../proxy/telemetry/metrics.js';
import { startUpstream } from '../tools/demo-client/upstream.js';
import { CLI, http, metricValue, startBreakwater, withTestDefaults, type RunningBreakwater } from '../helpers/breakwater.js';

/** Enough routes that checking them takes a good part of a second (and tens of MB of heap). */
const LARGE = 2000;
/** A heap so small that the proxy has about 32 MiB to spare for the check: LARGE routes need more. Appended, so tap's own options stay. */
const SMALL_HEAP = `${process.env.NODE_OPTIONS ?? ''} --max-semi-space-size=1 --max-old-space-size=40`.trim();
const ANSWERED_DURING_CHECK = 20;

/** A loopback upstream answering 200; its host:port. */
async function upstream(t: Test): Promise<string> {
  const server = await startUpstream(() => ({ status: 200 }));
  t.teardown(() => server.close());
  return new URL(server.origin).host;
}

/** `routes` prefix routes (the bench's realistic route: retries, budget, breaker) and a catch-all last. */
function policy(endpoint: string, routes: number): Record<string, unknown> {
  const prefixed = Array.from({ length: routes }, (_, i) => realisticRoute(`r${i}`, `/r${i}/`, 'backend'));
  return withTestDefaults({
    listeners: [{ name: 'egress', address: '127.0.0.1:0', routes: [...prefixed, realisticRoute('rest', '/', 'backend')] }],
    upstreams: [{ name: 'backend', endpoints: [endpoint] }],
  });
}

async function generation(bw: RunningBreakwater): Promise<number> {
  return metricValue(await bw.metrics(), 'breakwater_config_generation');
}

t.test('requests keep being answered while a reload checks a large policy', async (t) => {
  const endpoint = await upstream(t);
  const bw = await startBreakwater(policy(endpoint, 1), { startTimeoutMs: 30_000 });
  t.teardown(() => bw.stop());
  bw.writePolicy(policy(endpoint, LARGE));
  let reloaded = false;
  const reload = http(`${bw.admin}/reload`, { method: 'POST' }).finally(() => (reloaded = true));
  let answered = 0;
  const statuses = new Set<number>();
  while (!reloaded) {
    statuses.add((await http(`${bw.url}/x`)).status);
    answered++;
  }
  t.strictSame([...statuses], [200], 'every request during the check was answered by the upstream');
  const result = await reload;
  t.equal(result.status, 200, `the large policy is applied: ${result.body.slice(0, 300)}`);
  t.ok(
    answered >= ANSWERED_DURING_CHECK,
    `${answered} requests were answered while the reload checked ${LARGE} routes (a check on the event loop lets through only the few that slip in before it)`,
  );
});

t.test('a policy too large for the memory the proxy has left is refused; the running proxy keeps serving', async (t) => {
  const endpoint = await upstream(t);
  const bw = await startBreakwater(policy(endpoint, 1), { env: { NODE_OPTIONS: SMALL_HEAP }, startTimeoutMs: 30_000 });
  t.teardown(() => bw.stop());
  bw.writePolicy(policy(endpoint, LARGE * 2));
  const result = await http(`${bw.admin}/reload`, { method: 'POST' });
  t.equal(result.status, 400, 'the reload is refused');
  t.match(JSON.parse(result.body), {
    ok: false,
    generation: 1,
    problems: [/^checking the policy needs more memory than the proxy's heap has left \(\d+ MiB\)/],
  });
  t.equal((await http(`${bw.url}/x`)).status, 200, 'the proxy still answers under the policy it had');
  t.equal(await generation(bw), 1, 'the running policy is unchanged');

  // `breakwater validate` under the same heap gives the same verdict, as a clear error rather than a crash.
  const validate = spawnSync(process.execPath, [CLI, 'validate', bw.policyFile], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: SMALL_HEAP },
    timeout: 60_000,
  });
  t.equal(validate.status, 1, `validate exits 1 (signal ${validate.signal}): ${validate.stderr.slice(0, 300)}`);
  t.match(validate.stderr, /1 problem\n {2}checking the policy needs more memory than the proxy's heap has left/);
});

t.test('a drain that begins while a reload checks the file has the last word: the reload is refused', async (t) => {
  const endpoint = await upstream(t);
  const dir = mkdtempSync(join(tmpdir(), 'policy-check-drain-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'policy.yaml');
  writeFileSync(file, stringify(policy(endpoint, 1)));
  const metrics = new Metrics();
  const runtime = await Runtime.start(file, metrics, createLoggers('silent'));
  writeFileSync(file, stringify(policy(endpoint, LARGE)));
  // The reload passes its own draining check at once, then waits for the check in its child process; the drain
  // begins in the same tick, long before any child can answer.
  const reload = runtime.reload('test');
  await runtime.drain(true);
  t.match(await reload, { ok: false, generation: 1, problems: ['Breakwater is draining; reload refused'] });
  t.equal(runtime.generation.id, 1, 'the drained proxy kept its generation');
  t.match(await runtime.reload('test'), { ok: false, generation: 1, problems: ['Breakwater is draining; reload refused'] }, 'a reload after the drain began is refused too');
  // The policy may be fine: a dashboard or alert on failed reloads must not fire because a pod went away.
  const failures = metricValue(await metrics.registry.metrics(), 'breakwater_config_reloads_total', { result: 'failure' });
  t.equal(failures, 0, 'neither refusal counts as a failed reload');
});

t.test('a drain that begins while a reload binds a new listener refuses the reload too', async (t) => {
  const endpoint = await upstream(t);
  const dir = mkdtempSync(join(tmpdir(), 'policy-check-bind-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'policy.yaml');
  const withListeners = (names: string[]) => {
    const base = policy(endpoint, 0) as { listeners: Array<Record<string, unknown>> };
    return { ...base, listeners: names.map((name) => ({ ...base.listeners[0], name, routes: [realisticRoute(`all-${name}`, '/', 'backend')] })) };
  };
  writeFileSync(file, stringify(withListeners(['egress'])));
  const metrics = new Metrics();
  const runtime = await Runtime.start(file, metrics, createLoggers('silent'));
  writeFileSync(file, stringify(withListeners(['egress', 'second'])));
  // SIGTERM arriving while the new listener binds, after the reload's last look at `draining` before it.
  const listen = DataPlaneListener.prototype.listen;
  t.teardown(() => (DataPlaneListener.prototype.listen = listen));
  let drain: Promise<void> | undefined;
  DataPlaneListener.prototype.listen = function (this: DataPlaneListener) {
    drain ??= runtime.drain(true);
    return listen.call(this);
  };
  const result = await runtime.reload('test');
  DataPlaneListener.prototype.listen = listen;
  t.ok(drain, 'the drain began during the bind');
  await drain;
  t.match(result, { ok: false, generation: 1, problems: ['Breakwater is draining; reload refused'] });
  t.equal(runtime.generation.id, 1, 'the drained proxy kept its generation');
  t.equal(metricValue(await metrics.registry.metrics(), 'breakwater_config_reloads_total', { result: 'success' }), 0, 'no reload succeeded');
});
