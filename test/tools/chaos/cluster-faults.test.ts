// The mini-cluster's faults as a client meets them, over real TCP: a crashed pod refuses (the kernel answers RST), a
// failed node says nothing (SYNs unanswered, an established connection hangs) and stays a Service endpoint until the
// node-failure delay has passed, a partition cuts only the client pod, and restore heals each.
import http from 'node:http';
import t from 'tap';
import type { EventSink } from '../../../chaos/environments/arm-environment.js';
import { ClusterEnvironment } from '../../../chaos/environments/cluster/environment.js';
import type { TimelineAction } from '../../../chaos/experiment/experiment.js';
import { ProcessRegistry } from '../../../chaos/runner/processes.js';
import { tinyExperiment } from './experiment-fixture.js';
import { isGone, waitFor } from '../../helpers/wait-for.js';
import { clusterSkip, connectFrom } from './cluster-fixture.js';

const skip = await clusterSkip(t);

/** One request on an already open keep-alive connection; resolves 'answered' or 'hung' after `ms`. */
function requestOn(agent: http.Agent, url: string, ms: number): Promise<'answered' | 'hung' | 'failed'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      request.destroy();
      resolve('hung');
    }, ms);
    const request = http.get(url, { agent }, (response) => {
      response.resume();
      response.on('end', () => {
        clearTimeout(timer);
        resolve('answered');
      });
    });
    request.on('error', () => {
      clearTimeout(timer);
      resolve('failed');
    });
  });
}

t.test('crash refuses, node failure blackholes, partition cuts the client pod only; restore heals', { skip }, async (t) => {
  const { experiment, dir } = await tinyExperiment(t, (e) => {
    e.topology.backends[0].replicas = 3;
    e.topology.backends[0].restartDelay = '30s'; // the crashed pod stays down for the whole test
    e.topology.endpointDelay = '300ms';
    e.topology.nodeFailureDelay = '2s';
    e.arms = ['none'];
  });
  const events: Array<{ at: number; action: string; target?: string }> = [];
  const onEvent: EventSink = (action, target) => events.push({ at: performance.now(), action, target });
  const registry = new ProcessRegistry();
  const environment = new ClusterEnvironment({ experiment, arm: experiment.arms[0]!, seed: 1, runDir: dir, registry, onEvent });
  t.teardown(async () => {
    await environment.rollbackAll().catch(() => undefined);
    await environment.stop();
    await registry.stopAll();
  });
  await environment.start();
  const [crashed, failed, cut] = environment.topology.handles('b', 'all');
  const client = environment.topology.clientPod.netns;
  const act = (action: TimelineAction['action'], replica: number) => environment.apply({ atMs: 0, action, target: { backend: 'b', replica } });

  await act('crash', 0);
  await waitFor(async () => (await connectFrom(undefined, crashed!.address, 1000)) === 'refused', 5000, 'the crashed pod to refuse');
  t.equal(await connectFrom(client, crashed!.address, 1000), 'refused', 'crash: the kernel resets connects to the pod (ECONNREFUSED)');

  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => keepAlive.destroy());
  t.equal(await requestOn(keepAlive, `http://${failed!.address}/api/data`, 2000), 'answered', 'a connection to the second pod is open');
  const failedAt = performance.now();
  await act('node-failure', 1);
  t.equal(await connectFrom(undefined, failed!.address, 1000), 'timeout', 'node failure: a connect gets no answer at all');
  t.equal(await connectFrom(client, failed!.address, 1000), 'timeout', 'from the client pod too');
  t.equal(await requestOn(keepAlive, `http://${failed!.address}/api/data`, 1000), 'hung', 'and the established connection hangs');

  await act('partition', 2);
  t.equal(await connectFrom(client, cut!.address, 1000), 'timeout', 'partition: the client pod cannot reach the third pod');
  t.equal(await connectFrom(undefined, cut!.address, 1500), 'connected', 'while the host still can');

  await waitFor(() => events.some((e) => e.action === 'endpoint-removed' && e.target === 'b/1'), 6000, 'the failed node to leave the Service');
  const removedAt = events.find((e) => e.action === 'endpoint-removed' && e.target === 'b/1')!.at;
  t.ok(removedAt - failedAt >= 2000, `the failed node stayed an endpoint for the node-failure delay (${Math.round(removedAt - failedAt)} ms)`);
  t.ok(events.some((e) => e.action === 'endpoint-removed' && e.target === 'b/0'), 'the crashed pod left the Service as its readiness failed');

  const undone = await environment.rollbackAll();
  t.same(undone.sort(), ['heal partition b/2', 'node back b/1'], 'restore undoes both network faults');
  t.equal(await connectFrom(client, failed!.address, 1500), 'connected', 'the node is back');
  t.equal(await connectFrom(client, cut!.address, 1500), 'connected', 'the partition is healed');
});

t.test('packet loss drops a share of packets; delete drains with SIGTERM and leaves the Service at once', { skip }, async (t) => {
  const { experiment, dir } = await tinyExperiment(t, (e) => {
    e.topology.backends[0].restartDelay = '30s';
    e.topology.readinessPeriod = '2s'; // readiness alone would take the deleted pod out only after 4 s
    e.topology.endpointDelay = '300ms';
    e.arms = ['none'];
  });
  const events: Array<{ at: number; action: string; target?: string; detail?: string }> = [];
  const registry = new ProcessRegistry();
  const environment = new ClusterEnvironment({
    experiment, arm: experiment.arms[0]!, seed: 1, runDir: dir, registry,
    onEvent: (action, target, detail) => events.push({ at: performance.now(), action, target, detail }),
  });
  t.teardown(async () => {
    await environment.rollbackAll().catch(() => undefined);
    await environment.stop();
    await registry.stopAll();
  });
  await environment.start();
  const [lossy, deleted] = environment.topology.handles('b', 'all');
  const client = environment.topology.clientPod.netns;

  await environment.apply({ atMs: 0, action: 'packet-loss', rate: 1, target: { backend: 'b', replica: 0 } });
  t.equal(await connectFrom(client, lossy!.address, 1000), 'timeout', 'packet loss at rate 1 loses every SYN');
  await environment.rollbackAll();
  t.equal(await connectFrom(client, lossy!.address, 1000), 'connected', 'and rollback stops it');

  const pid = deleted!.replica.pid!;
  const deletedAt = performance.now();
  const detail = await environment.apply({ atMs: 0, action: 'delete', target: { backend: 'b', replica: 1 } });
  t.match(detail, /SIGTERM/);
  await waitFor(() => events.some((e) => e.action === 'endpoint-removed' && e.target === 'b/1'), 3000, 'the deleted pod to leave the Service');
  const removedAt = events.find((e) => e.action === 'endpoint-removed' && e.target === 'b/1')!.at;
  t.ok(removedAt - deletedAt < 1500, `removed after the propagation delay, not after readiness failures (${Math.round(removedAt - deletedAt)} ms)`);
  await waitFor(() => isGone(pid), 5000, 'the deleted pod to exit on SIGTERM');
});
