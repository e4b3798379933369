// Each timeline action against real demo-backend processes, driven through the same FaultInjector the runner uses.
import http from 'node:http';
import t from 'tap';
import type { TimelineAction } from '../../../chaos/experiment/experiment.js';
import { FaultInjector } from '../../../chaos/environments/fault-injector.js';
import { LocalTopology } from '../../../chaos/environments/local/local-topology.js';
import { ProcessRegistry } from '../../../chaos/runner/processes.js';
import { tinyExperiment } from './experiment-fixture.js';
import { isGone, waitFor } from '../../helpers/wait-for.js';

interface Reply {
  status: number;
  replica: string | null;
  ms: number;
}

/** One GET on a new connection each time: the service balances per connection, as a ClusterIP does. */
function get(url: string, timeoutMs = 2000): Promise<Reply> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      response.on('end', () => resolve({
        status: response.statusCode!, replica: (response.headers['x-backend-replica'] as string) ?? null, ms: performance.now() - started,
      }));
    });
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

const answers = (url: string, timeoutMs = 500) => get(url, timeoutMs).then(() => true, () => false);

t.test('kill, freeze/thaw, latency/errors and blackhole act on real replicas and roll back', async (t) => {
  const { experiment, dir } = await tinyExperiment(t, (e) => {
    // A blackhole action in the timeline puts a relay in front of b/1.
    e.timeline = [{ at: '1s', action: 'blackhole', target: 'b/1', mode: 'drop' }];
    e.topology.backends[0].readyDelay = '3s'; // well above process start-up time, even on a busy machine
  });
  const registry = new ProcessRegistry();
  const events: Array<{ at: number; action: string; target: string }> = [];
  const topology = new LocalTopology({
    experiment, registry, seed: 1, runDir: dir, armName: 'none',
    onEvent: (action, target) => events.push({ at: performance.now(), action, target }),
  });
  t.teardown(async () => {
    await topology.stop();
    await registry.stopAll();
  });
  await topology.start();
  const injector = new FaultInjector(topology);
  const apply = (action: Omit<TimelineAction, 'atMs'>) => injector.apply({ atMs: 0, ...action });
  const [r0, r1] = topology.handles('b', 'all') as [ReturnType<LocalTopology['handles']>[0], ReturnType<LocalTopology['handles']>[0]];
  const service = `${topology.baseUrlFor('b')}/api/data`;

  await t.test('kill: SIGKILL, replaced on the same port after the restart delay, readiness gates it back', async (t) => {
    const oldPid = r0.replica.pid!;
    const port = r0.replica.port;
    await apply({ action: 'kill', target: { backend: 'b', replica: 0 } });
    await waitFor(() => isGone(oldPid), 5000, 'the killed replica to be gone');
    await waitFor(() => events.some((e) => e.action === 'endpoint-not-ready' && e.target === 'b/0'), 5000, 'the service to drop b/0');
    // While b/0 is out of the rotation, the service address only reaches b/1.
    for (let i = 0; i < 6; i++) t.equal((await get(service)).replica, 'b-1', 'served by the surviving replica');
    await waitFor(() => events.some((e) => e.action === 'restarted' && e.target === 'b/0'), 15_000, 'the supervisor to restart b/0');
    t.not(r0.replica.pid, oldPid, 'a new process');
    t.equal(r0.replica.port, port, 'on the same address');
    const restartedAt = events.find((e) => e.action === 'restarted')!.at;
    await waitFor(() => events.some((e) => e.action === 'endpoint-ready' && e.target === 'b/0' && e.at > restartedAt), 10_000, 'b/0 to pass readiness again');
    const readyAt = events.findLast((e) => e.action === 'endpoint-ready' && e.target === 'b/0')!.at;
    t.ok(readyAt - restartedAt >= 1500, `readiness waited for the ready delay (${Math.round(readyAt - restartedAt)} ms)`);
    const replicas = new Set<string | null>();
    for (let i = 0; i < 6; i++) replicas.add((await get(service)).replica);
    t.ok(replicas.has('b-0'), 'the replacement serves through the service again');
  });

  await t.test('freeze (SIGSTOP) stops answers; thaw (SIGCONT) brings them back', async (t) => {
    await apply({ action: 'freeze', target: { backend: 'b', replica: 0 } });
    t.notOk(await answers(`http://${r0.replica.address}/healthz`), 'a frozen replica does not answer');
    await apply({ action: 'thaw', target: { backend: 'b', replica: 0 } });
    await waitFor(() => answers(`http://${r0.replica.address}/healthz`), 5000, 'the thawed replica to answer');
  });

  await t.test('errors and latency change faults through the admin endpoint; restore puts them back', async (t) => {
    const direct = `http://${r0.replica.address}/api/data`;
    await apply({ action: 'errors', target: { backend: 'b', replica: 0 }, rate: 1, status: 503 });
    t.equal((await get(direct)).status, 503, 'errors: every request fails with the chosen status');
    await apply({ action: 'restore' });
    t.equal((await get(direct)).status, 200, 'restore: failures off');
    await apply({ action: 'latency', target: { backend: 'b', replica: 0 }, delayMs: 400, rate: 1 });
    t.ok((await get(direct)).ms >= 380, 'latency: requests are held');
    await apply({ action: 'restore' });
    t.ok((await get(direct)).ms < 380, 'restore: latency off');
  });

  await t.test('blackhole: the relay drops, then delays, then passes traffic', async (t) => {
    const relayed = `http://${r1.address}/api/data`;
    t.not(r1.address, r1.replica.address, 'b/1 is reached through its relay');
    t.equal((await get(relayed)).status, 200);
    await apply({ action: 'blackhole', target: { backend: 'b', replica: 1 }, mode: 'drop' });
    t.notOk(await answers(relayed, 700), 'drop: nothing comes back');
    await apply({ action: 'blackhole', target: { backend: 'b', replica: 1 }, mode: 'delay', delayMs: 300 });
    const delayed = await get(relayed, 3000);
    t.equal(delayed.status, 200);
    t.ok(delayed.ms >= 550, `delay: held each way (${Math.round(delayed.ms)} ms)`);
    await apply({ action: 'restore' });
    t.ok((await get(relayed)).ms < 300, 'restore: traffic passes again');
  });

  await t.test('stopping the topology ends every process it started', async (t) => {
    await topology.stop();
    await registry.stopAll();
    for (const pid of registry.started) t.ok(isGone(pid), `pid ${pid} is gone`);
  });
});
