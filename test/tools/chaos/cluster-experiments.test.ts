// Every experiment in chaos/experiments runs on the mini-cluster, CI-sized (2 s of load, one arm: the last, which is
// the one its hypothesis is about), through the CLI as users run it; each run leaves no namespace or link behind.
// Three run at a time: most of a run is waiting (readiness delays, the load's schedule), and concurrent clusters
// must not disturb each other anyway.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { experimentsDir, listExperimentNames, loadExperiment } from '../../../chaos/experiment/experiment-file.js';
import type { ExperimentResult } from '../../../chaos/results.js';
import { exitWithin, startCli, stopCli } from './run-cli.js';
import { clusterSkip, hostNames } from './cluster-fixture.js';

const skip = await clusterSkip(t);

t.test('each experiment completes on the mini-cluster and cleans up', { skip }, async (t) => {
  const out = await mkdtemp(path.join(os.tmpdir(), 'chaos-cluster-'));
  t.teardown(() => rm(out, { recursive: true, force: true }));
  const names = await listExperimentNames();
  const runOne = async (name: string) => {
    const experiment = await loadExperiment(path.join(experimentsDir(), `${name}.yaml`));
    const arm = experiment.arms.at(-1)!.name;
    const runDir = path.join(out, name);
    const run = startCli([name, '--target', 'cluster', '--arms', arm, '--duration', '2s', '--out', runDir]);
    t.teardown(() => stopCli(run));
    const code = await exitWithin(run, 60_000);
    t.ok(code === 0 || code === 1, `${name} (${arm}) ran to a verdict (exit ${code}; stderr: ${run.stderr().slice(-600)})`);
    const result = JSON.parse(await readFile(path.join(runDir, 'results.json'), 'utf8')) as ExperimentResult;
    t.match(result.environment, /^mini-cluster/, `${name} ran on the mini-cluster`);
    t.ok(result.arms[0]!.summary.count > 0, `${name}: the load ran inside the client pod (${result.arms[0]!.summary.count} requests)`);
    const prefix = `bw-${run.pid.toString(36)}-`;
    const { namespaces, links } = await hostNames();
    t.same([...namespaces, ...links].filter((n) => n.startsWith(prefix)), [], `${name}: nothing of its cluster left`);
  };
  const worker = async () => {
    for (let name = names.shift(); name !== undefined; name = names.shift()) await runOne(name);
  };
  await Promise.all([worker(), worker(), worker()]);
});
