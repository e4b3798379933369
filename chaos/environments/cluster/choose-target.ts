// `--target cluster` (the default) or `--target local`: the mini-cluster where namespaces can be made, otherwise the
// loopback environment, saying why. Experiments using faults only the mini-cluster has cannot fall back.
import type { ArmEnvironment, EventSink } from '../arm-environment.js';
import { CLUSTER_ONLY_ACTIONS, type ArmSpec, type Experiment } from '../../experiment/experiment.js';
import { UsageError } from '../../experiment/overrides.js';
import type { ProcessRegistry } from '../../runner/processes.js';
import type { Progress } from '../../runner/progress.js';
import { ClusterEnvironment } from './environment.js';
import { removeLeftovers } from './leftovers.js';
import { clusterUnavailableReason } from './support.js';

export interface ChosenTarget {
  /** Undefined: the runner's default, the local loopback environment. */
  environment?: (arm: ArmSpec, onEvent: EventSink, seed: number) => ArmEnvironment;
  /** Where the run happened, for results.json and the report. */
  description: string;
}

export interface TargetContext {
  experiment: Experiment;
  seed: number;
  runDir: string;
  registry: ProcessRegistry;
  progress: Progress;
}

export async function chooseLocalTarget(requested: 'cluster' | 'local', ctx: TargetContext): Promise<ChosenTarget> {
  const reason = requested === 'cluster' ? await clusterUnavailableReason() : '--target local';
  if (reason === undefined) {
    const removed = await removeLeftovers();
    if (removed.length) ctx.progress.line(`removed leftovers of an earlier run that died: ${removed.join(', ')}`);
    return {
      description: 'mini-cluster (a network namespace per pod, Service VIPs by iptables DNAT)',
      environment: (arm, onEvent, seed) => new ClusterEnvironment({ ...ctx, seed, arm, onEvent }),
    };
  }
  const clusterOnly = ctx.experiment.timeline.find((a) => CLUSTER_ONLY_ACTIONS.includes(a.action));
  if (clusterOnly) {
    const why = requested === 'local' ? ' (--target cluster)' : `, which cannot be made here: ${reason}`;
    throw new UsageError(`${ctx.experiment.name}: action "${clusterOnly.action}" needs the mini-cluster${why}`);
  }
  if (requested === 'cluster') ctx.progress.line(`mini-cluster not available (${reason}): running on the local loopback environment`);
  return { description: `local loopback processes (${reason})` };
}
