// `--target kubernetes`: the same runner, arms and report, with the cluster as the environment.
import type { Experiment } from '../../experiment/experiment.js';
import { checkKubernetesTimeline, KubernetesEnvironment, type KubernetesOptions } from './kubernetes-environment.js';
import type { Progress } from '../../runner/progress.js';
import type { ExperimentResult } from '../../results.js';
import { runExperiment } from '../../runner/runner.js';

export interface KubernetesRunOptions extends KubernetesOptions {
  experiment: Experiment;
  seed: number;
  repeat: number;
  runDir: string;
  signal: AbortSignal;
  progress: Progress;
}

export function runOnKubernetes(options: KubernetesRunOptions): Promise<ExperimentResult> {
  checkKubernetesTimeline(options.experiment);
  return runExperiment({
    ...options,
    environment: (_arm, onEvent) => new KubernetesEnvironment(options, onEvent),
    description: 'kubernetes',
  });
}
