// An action that throws mid-run: the arm stops, rollbacks still run (frozen replicas thawed, faults restored) and
// every process the run started is ended.
import t from 'tap';
import type { TimelineAction } from '../../../chaos/experiment/experiment.js';
import { LocalEnvironment } from '../../../chaos/environments/local/local-environment.js';
import { ProcessRegistry } from '../../../chaos/runner/processes.js';
import { Progress } from '../../../chaos/runner/progress.js';
import { runExperiment } from '../../../chaos/runner/runner.js';
import { tinyExperiment } from './experiment-fixture.js';
import { isGone } from '../../helpers/wait-for.js';

/** What the replicas looked like right after the rollbacks ran, before teardown ended them. */
interface AfterRollback {
  undone: string[];
  frozenAnswers: boolean;
  faults: { failureRate: number; slowRate: number };
}

t.test('a failing action stops the arm, runs every rollback and leaves no process behind', async (t) => {
  const { experiment, dir } = await tinyExperiment(t, (e) => {
    e.load.duration = '20s';
    e.arms = ['none'];
    e.timeline = [
      { at: '300ms', action: 'freeze', target: 'b/0' },
      { at: '600ms', action: 'latency', target: 'b/1', delay: '2s', rate: 1 },
      { at: '900ms', action: 'errors', target: 'b/1', rate: 1 },
    ];
  });
  const registry = new ProcessRegistry();
  t.teardown(() => registry.stopAll());
  let after: AfterRollback | undefined;
  const started = Date.now();
  const run = runExperiment({
    experiment, seed: 1, runDir: dir, signal: new AbortController().signal, registry,
    progress: new Progress(new NullStream() as unknown as NodeJS.WriteStream),
    environment: (arm, onEvent) => {
      const local = new LocalEnvironment({ experiment, arm, seed: 1, runDir: dir, registry, onEvent });
      return Object.assign(Object.create(local) as LocalEnvironment, {
        apply: async (action: TimelineAction) => {
          if (action.action === 'errors') throw new Error('injected failure');
          return local.apply(action);
        },
        rollbackAll: async () => {
          const undone = await local.rollbackAll();
          const [r0, r1] = local.topology.handles('b', 'all');
          const frozenAnswers = await fetch(`http://${r0!.replica.address}/healthz`, { signal: AbortSignal.timeout(2000) })
            .then((r) => r.ok, () => false);
          const faults = (await (await fetch(`http://${r1!.replica.address}/admin/faults`)).json()) as AfterRollback['faults'];
          after = { undone, frozenAnswers, faults };
          return undone;
        },
      });
    },
  });
  await t.rejects(run, /action errors b\/1 at 900 ms failed: injected failure/);
  t.ok(Date.now() - started < 15_000, 'the arm stopped at the failure instead of running its 20 s');
  t.same(after?.undone.sort(), ['restore faults b/1', 'thaw b/0'], 'both faults were rolled back');
  t.ok(after?.frozenAnswers, 'the frozen replica answers again after the rollback');
  t.match(after?.faults, { failureRate: 0, slowRate: 0 }, 'the slowed replica has its start-up faults back');
  t.ok(registry.started.length >= 2);
  for (const pid of registry.started) t.ok(isGone(pid), `pid ${pid} ended`);
});

/** Progress output is not under test here. */
class NullStream {
  isTTY = false;
  write(): boolean {
    return true;
  }
}
