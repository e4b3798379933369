// The experiment files' sidecar policy is checked by Breakwater's own validator, on the file the runner would write:
// whatever the proxy accepts is accepted, and every problem names the experiment file and the path in it.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { loadExperiment } from '../../../chaos/experiment/experiment-file.js';
import { appPolicyFrom, resolvePolicy } from '../../../chaos/experiment/policy.js';
import { tinyExperimentYaml } from './experiment-fixture.js';

async function load(dir: string, changes: (e: Record<string, any>) => void) {
  const file = path.join(dir, 'x.yaml');
  await writeFile(file, stringify(tinyExperimentYaml(changes)));
  return loadExperiment(file);
}

t.test('what Breakwater accepts is accepted: 0% thresholds, no perTryTimeout, fault injection', async (t) => {
  const dir = t.testdir();
  const experiment = await load(dir, (e) => {
    e.policy.circuitBreaker.errorThresholdPercentage = 0;
    e.policy.circuitBreaker.volumeThreshold = 0;
    delete e.policy.retry.perTryTimeout;
    e.policy.fault = { abort: { percent: 10, status: 503 } };
  });
  const { route } = resolvePolicy(experiment.policy, experiment.topology);
  t.equal(route.circuitBreaker!.errorThresholdPercentage, 0);
  t.equal(route.retry.perTryTimeoutMs, undefined);
  t.ok(route.fault, 'fault injection reaches the sidecar policy');
  t.equal(appPolicyFrom({ route, upstream: resolvePolicy(experiment.policy, experiment.topology).upstream }).timeoutMs, route.timeoutMs,
    'without a per-try timeout the app attempt gets the whole route timeout, as in the sidecar');
});

t.test('problems name the experiment file and the path of the policy field, all at once', async (t) => {
  const dir = t.testdir();
  await t.rejects(load(dir, (e) => (e.policy.retry.attempts = 0)), /x\.yaml: policy\.retry\.attempts: must be >= 1/);
  await t.rejects(load(dir, (e) => (e.policy.upstream.connectTimeout = 'soon')), /x\.yaml: policy\.upstream\.connectTimeout: /);
  const both = load(dir, (e) => {
    e.policy.timeout = 'later';
    e.policy.retry.backoff.jitter = 'some';
  });
  await t.rejects(both, /x\.yaml: 2 problems\n {2}policy\.timeout: .*\n {2}policy\.retry\.backoff\.jitter: /);
  await t.rejects(load(dir, (e) => (e.policy.retries = 3)), /x\.yaml: policy\.retries: /, 'an unknown key is named');
});

t.test('the app arm gets the sidecar route policy as Breakwater reads it, defaults included', async (t) => {
  const dir = t.testdir();
  const experiment = await load(dir, (e) => {
    e.policy.retry.on = ['connect-failure', 'timeout', 503, 429];
    e.policy.retry.budget = { ratio: 0.3, minPerSecond: 2 };
  });
  const app = appPolicyFrom(resolvePolicy(experiment.policy, experiment.topology));
  t.equal(app.deadlineMs, 2000, 'the route timeout is the app call deadline');
  t.equal(app.timeoutMs, 500, 'perTryTimeout is the app attempt timeout');
  t.same(app.retry.on, { statuses: [503, 429], grpcCodes: [], connectFailure: true, reset: false, timeout: true });
  t.same(app.retry.budget, { ratio: 0.3, minPerSecond: 2, windowMs: 10_000 });
  const defaults = await load(dir, (e) => delete e.policy.retry.budget);
  t.same(appPolicyFrom(resolvePolicy(defaults.policy, defaults.topology)).retry.budget, { ratio: 0.2, minPerSecond: 10, windowMs: 10_000 },
    'no budget in the file: Breakwater\'s default budget, in the app too');
});
