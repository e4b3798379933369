import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { experimentsDir, listExperimentNames, loadExperiment, policyForArm, resolveExperimentFile } from '../../../chaos/experiment/experiment-file.js';
import { applyOverrides } from '../../../chaos/experiment/overrides.js';
import { appPolicyFrom, breakwaterConfigYaml, resolvePolicy } from '../../../chaos/experiment/policy.js';
import { parsePolicy } from '../../../proxy/config/load.js';

/** A valid experiment; each case below breaks one field of it. */
function validExperiment(): Record<string, unknown> {
  return {
    title: 'tiny',
    hypothesis: { description: 'works', metric: 'successRate', op: '>=', value: 0.9 },
    topology: { backends: [{ name: 'backend', replicas: 2 }] },
    load: { rate: 10, duration: '4s' },
    policy: { timeout: '1s', retry: { attempts: 3, perTryTimeout: '300ms', on: ['5xx', 429], backoff: { base: '10ms', max: '50ms', jitter: 'full' } } },
    arms: ['none', 'proxy', { name: 'proxy-no-jitter', base: 'proxy', policy: { retry: { backoff: { jitter: 'none' } } } }],
    timeline: [{ at: '1s', action: 'kill', target: 'backend/0' }, { at: '2s', action: 'restore' }],
  };
}

t.test('every shipped experiment validates', async (t) => {
  const names = await listExperimentNames();
  t.same(names, [
    'app-plus-proxy', 'breaker-fast-fail', 'bulkhead', 'flaky-backend', 'freeze-one', 'grpc-crash-one', 'grpc-flaky',
    'grpc-freeze-one', 'network-delay', 'node-failure-one', 'pod-kill-all', 'pod-kill-one', 'retry-storm', 'transient-429',
  ]);
  for (const name of names) {
    const experiment = await loadExperiment(path.join(experimentsDir(), `${name}.yaml`));
    t.equal(experiment.name, name);
    t.ok(experiment.title.length > 0, `${name} has a title`);
    t.ok(experiment.arms.length > 0, `${name} has arms`);
    for (const arm of experiment.arms) {
      const policy = policyForArm(experiment, arm.name);
      // The generated policy file must be one Breakwater accepts, for every arm (variants included).
      const yaml = breakwaterConfigYaml(policy, experiment.topology, (b) => [`127.0.0.1:${b.length + 20000}`]);
      t.doesNotThrow(() => parsePolicy(yaml, `${name}/${arm.name}`), `${name}/${arm.name}: Breakwater accepts the policy`);
      t.ok(appPolicyFrom(resolvePolicy(policy, experiment.topology)).timeoutMs > 0, `${name}/${arm.name}: the app policy has a timeout`);
    }
  }
});

t.test('validation errors name the file and the path of the problem', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chaos-validate-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const cases: Array<[string, (e: Record<string, any>) => void, RegExp]> = [
    ['unknown action', (e) => (e.timeline[0].action = 'kil'), /x\.yaml: timeline\[0\]\.action: unknown action "kil"/],
    ['unknown replica', (e) => (e.timeline[0].target = 'backend/5'), /timeline\[0\]\.target: replica 5 does not exist/],
    ['unknown backend', (e) => (e.timeline[0].target = 'db/0'), /timeline\[0\]\.target: unknown backend "db"/],
    ['bad duration', (e) => (e.load.duration = 'soon'), /load\.duration: invalid duration "soon"/],
    ['unknown field', (e) => (e.topology.backends[0].replica = 2), /topology\.backends\[0\]\.replica: unknown field/],
    ['unknown arm', (e) => e.arms.push('sidecar'), /arms\[3\]: unknown arm "sidecar"/],
    ['action after the load', (e) => (e.timeline[0].at = '9s'), /timeline\[0\]\.at: is at or after the end of the load/],
    ['missing latency delay', (e) => (e.timeline[0] = { at: '1s', action: 'latency', target: 'backend/all' }), /timeline\[0\]\.delay: required for action "latency"/],
    ['bad variant policy', (e) => (e.arms[2].policy.retry.attempts = 0), /arms\[2\]\.policy\(merged\)\.retry\.attempts: must be >= 1/],
    ['unknown metric', (e) => (e.hypothesis.metric = 'vibes'), /hypothesis\.metric: unknown metric "vibes"/],
  ];
  for (const [label, breakIt, expected] of cases) {
    const experiment = validExperiment();
    breakIt(experiment);
    const file = path.join(dir, 'x.yaml');
    await writeFile(file, stringify(experiment));
    await t.rejects(loadExperiment(file), expected, label);
  }
  await writeFile(path.join(dir, 'broken.yaml'), 'title: [unclosed');
  await t.rejects(loadExperiment(path.join(dir, 'broken.yaml')), /broken\.yaml: invalid YAML/);
});

t.test('protocol: grpc makes gRPC backends, a gRPC load and h2c upstreams', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chaos-grpc-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'g.yaml');
  await writeFile(file, stringify({ ...validExperiment(), protocol: 'grpc', policy: { timeout: '1s', retry: { attempts: 2, on: ['unavailable'] } } }));
  const experiment = await loadExperiment(file);
  t.equal(experiment.protocol, 'grpc');
  t.match(experiment.topology.backends, [{ name: 'backend', protocol: 'grpc', pathPrefix: '/breakwater.demo.Demo/' }]);
  t.match(experiment.load.streams, [{ path: '/breakwater.demo.Demo/Unary' }], 'the load calls Unary unless the file says otherwise');
  const config = parsePolicy(breakwaterConfigYaml(experiment.policy, experiment.topology, () => ['127.0.0.1:1']), 'g');
  t.equal(config.upstreams[0]!.protocol, 'h2c', 'Breakwater speaks h2c to the gRPC replicas');

  await writeFile(file, stringify({ ...validExperiment(), protocol: 'quic' }));
  await t.rejects(loadExperiment(file), /g\.yaml: protocol: unknown protocol "quic"/);
  const http = await loadExperiment(path.join(experimentsDir(), 'pod-kill-one.yaml'));
  t.equal(http.protocol, 'http', 'http by default');
});

t.test('an unknown experiment name lists the available ones', async (t) => {
  await t.rejects(resolveExperimentFile('pod-kil'), /pod-kil: unknown experiment \(available: .*pod-kill-one/);
});

t.test('arm variants merge their policy override; overrides scale the timeline with the duration', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chaos-variant-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'v.yaml');
  await writeFile(file, stringify(validExperiment()));
  const experiment = await loadExperiment(file);
  const retry = (arm: string) => resolvePolicy(policyForArm(experiment, arm), experiment.topology).route.retry;
  t.equal(retry('proxy').backoff.jitter, 'full');
  t.equal(retry('proxy-no-jitter').backoff.jitter, 'none');
  t.equal(retry('proxy-no-jitter').attempts, 3, 'the rest of the policy is kept');
  t.ok(retry('proxy').on.statuses.has(429) && retry('proxy').on.statuses.has(500), 'retry.on as Breakwater reads it');

  const short = applyOverrides(experiment, { durationMs: 2000, rate: 5, arms: ['proxy'] });
  t.same(short.timeline.map((a) => a.atMs), [500, 1000]);
  t.equal(short.load.streams[0]!.rate, 5);
  t.same(short.arms.map((a) => a.name), ['proxy']);
  t.throws(() => applyOverrides(experiment, { arms: ['app'] }), /--arms: unknown arm "app"/);
});
