// The fault actions added with the mini-cluster, as experiment files spell them: validated up front, with errors that
// name the file, the field and what is expected.
import t from 'tap';
import { tinyExperiment } from './experiment-fixture.js';

t.test('the cluster faults are read from the timeline with their parameters', async (t) => {
  const { experiment } = await tinyExperiment(t, (e) => {
    e.topology.endpointDelay = '2s';
    e.topology.nodeFailureDelay = '20s';
    e.topology.gracePeriod = '5s';
    e.timeline = [
      { at: '500ms', action: 'crash', target: 'b/0' },
      { at: '600ms', action: 'delete', target: 'b/1' },
      { at: '700ms', action: 'node-failure', target: 'b/0' },
      { at: '800ms', action: 'partition', target: 'b/all' },
      { at: '900ms', action: 'packet-loss', target: 'b/1', rate: 0.2 },
      { at: '1s', action: 'kill', target: 'b/0' },
    ];
  });
  t.match(experiment.topology, { endpointDelayMs: 2000, nodeFailureDelayMs: 20_000, gracePeriodMs: 5000 });
  t.same(experiment.timeline.map((a) => a.action), ['crash', 'delete', 'node-failure', 'partition', 'packet-loss', 'kill']);
  t.match(experiment.timeline[4], { rate: 0.2, target: { backend: 'b', replica: 1 } });
});

t.test('defaults: a realistic endpoint delay, a long node-failure delay, the Kubernetes grace period', async (t) => {
  const { experiment } = await tinyExperiment(t);
  t.match(experiment.topology, { endpointDelayMs: 1500, nodeFailureDelayMs: 40_000, gracePeriodMs: 30_000 });
});

t.test('bad cluster actions are refused with the field and the reason', async (t) => {
  const refused = (timeline: unknown[], message: RegExp) =>
    t.rejects(tinyExperiment(t, (e) => (e.timeline = timeline)), { message }, String(message));
  await refused([{ at: '1s', action: 'packet-loss', target: 'b/0' }], /timeline\[0\]\.rate: required for action "packet-loss"/);
  await refused([{ at: '1s', action: 'packet-loss', target: 'b/0', rate: 2 }], /timeline\[0\]\.rate/);
  await refused([{ at: '1s', action: 'node-failure' }], /timeline\[0\]\.target/);
  await refused([{ at: '1s', action: 'node-fail', target: 'b/0' }], /node-failure.*partition.*packet-loss/);
});
