// The Service VIP of the mini-cluster, as kube-proxy's iptables mode makes it: new connections spread at random over
// the ready endpoints, and a pod whose readiness fails stops getting new connections only once the change has
// propagated (readiness failures, then the endpoint delay), never before.
import t from 'tap';
import { ClusterEnvironment } from '../../../chaos/environments/cluster/environment.js';
import { ProcessRegistry } from '../../../chaos/runner/processes.js';
import { tinyExperiment } from './experiment-fixture.js';
import { waitFor } from '../../helpers/wait-for.js';
import { clusterSkip, getsFrom } from './cluster-fixture.js';

const skip = await clusterSkip(t);

const count = (seen: string[], what: string) => seen.filter((s) => s === what).length;

t.test('the VIP spreads connections over the endpoints and stops sending to a removed one after the delay', { skip }, async (t) => {
  const { experiment, dir } = await tinyExperiment(t, (e) => {
    e.topology.backends[0].replicas = 3;
    e.topology.backends[0].restartDelay = '30s'; // the crashed pod stays down for the whole test
    e.topology.readinessPeriod = '200ms';
    e.topology.endpointDelay = '1s';
    e.arms = ['none'];
  });
  const events: Array<{ at: number; action: string; target?: string }> = [];
  const registry = new ProcessRegistry();
  const environment = new ClusterEnvironment({
    experiment, arm: experiment.arms[0]!, seed: 1, runDir: dir, registry,
    onEvent: (action, target) => events.push({ at: performance.now(), action, target }),
  });
  t.teardown(async () => {
    await environment.stop();
    await registry.stopAll();
  });
  await environment.start();
  const url = environment.urlFor(experiment.load.streams[0]!);
  t.match(url, /^http:\/\/198\.19\.\d+\.1\/api\/data$/, 'the direct arm calls the Service VIP');
  const client = environment.topology.clientPod.netns;

  const spread = await getsFrom(client, url, 45);
  for (const replica of ['b-0', 'b-1', 'b-2']) {
    // 45 random picks over 3 endpoints miss one with probability 3 * (2/3)^45, about 4e-8.
    t.ok(count(spread, replica) > 0, `${replica} got some of the 45 connections (${count(spread, replica)})`);
  }
  t.equal(spread.length, 45);

  const crashedAt = performance.now();
  await environment.apply({ atMs: 0, action: 'crash', target: { backend: 'b', replica: 0 } });
  const removed = () => events.find((e) => e.action === 'endpoint-removed' && e.target === 'b/0');
  const beforeRemoval = await getsFrom(client, url, 15);
  if (!removed()) {
    t.ok(count(beforeRemoval, 'ECONNREFUSED') > 0, `until the change propagates, the VIP still sends some connections to the dead pod (${beforeRemoval.join(',')})`);
  }
  await waitFor(() => removed() !== undefined, 5000, 'the crashed pod to leave the Service');
  t.ok(removed()!.at - crashedAt >= 1000, `removed no sooner than the endpoint delay after the crash (${Math.round(removed()!.at - crashedAt)} ms)`);

  const after = await getsFrom(client, url, 30);
  t.equal(count(after, 'b-0'), 0, 'no connection reaches the removed endpoint');
  t.same(after.filter((s) => s !== 'b-1' && s !== 'b-2'), [], 'and every connection is answered by the two left');
});
