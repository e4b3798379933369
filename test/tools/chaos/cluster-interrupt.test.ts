// SIGINT in the middle of a mini-cluster run: faults are rolled back, every process ends, and every namespace and
// link of the run is removed before the CLI exits.
import t from 'tap';
import { writeTinyExperiment } from './experiment-fixture.js';
import { exitWithin, reportedPids, startCli, stopCli } from './run-cli.js';
import { isGone, waitFor } from '../../helpers/wait-for.js';
import { clusterSkip, hostNames } from './cluster-fixture.js';

const skip = await clusterSkip(t);

t.test('SIGINT mid-run removes the cluster and ends every process', { skip }, async (t) => {
  const { file } = await writeTinyExperiment(t, (e) => {
    e.arms = ['proxy'];
    e.load.duration = '60s';
    e.timeline = [{ at: '1s', action: 'node-failure', target: 'b/0' }];
  });
  const run = startCli([file, '--target', 'cluster']);
  t.teardown(() => stopCli(run));
  const prefix = `bw-${run.pid.toString(36)}-`;
  const ours = async () => {
    const { namespaces, links } = await hostNames();
    return [...namespaces, ...links].filter((n) => n.startsWith(prefix));
  };
  await waitFor(() => /node-failure b\/0/.test(run.stderr()), 40_000, `the node failure to be applied (stderr: ${run.stderr()})`);
  t.ok((await ours()).length >= 4, 'the run made its namespaces and link');

  process.kill(run.pid, 'SIGINT');
  t.equal(await exitWithin(run, 20_000), 130, 'the CLI exits as interrupted');
  t.match(run.stderr(), /rolled back: node back b\/0/, 'the node failure was rolled back');
  t.same(await ours(), [], 'no namespace or link of the run is left');
  for (const pid of reportedPids(run.stderr())) t.ok(isGone(pid), `pid ${pid} ended`);
});
