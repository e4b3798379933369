import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Test } from 'tap';
import type { Experiment } from '../../../chaos/experiment/experiment.js';
import { loadExperiment } from '../../../chaos/experiment/experiment-file.js';

/** A small, fast experiment for tests; `changes` edits the raw YAML object before it is validated. */
export function tinyExperimentYaml(changes: (e: Record<string, any>) => void = () => {}): Record<string, any> {
  const experiment: Record<string, any> = {
    title: 'tiny test experiment',
    hypothesis: { description: 'most calls succeed', metric: 'successRate', op: '>=', value: 0.5 },
    topology: { readinessPeriod: '100ms', backends: [{ name: 'b', replicas: 2, readyDelay: '300ms', restartDelay: '500ms' }] },
    load: { rate: 10, duration: '3s', path: '/api/data' },
    policy: {
      timeout: '2s',
      retry: { attempts: 3, perTryTimeout: '500ms', on: ['connect-failure', 'reset', 'timeout', '5xx'], backoff: { base: '10ms', max: '50ms', jitter: 'full' } },
      circuitBreaker: { errorThresholdPercentage: 50, volumeThreshold: 10, window: '5s', resetTimeout: '1s' },
      upstream: { connectTimeout: '250ms' },
    },
    arms: ['none', 'proxy'],
    timeline: [],
  };
  changes(experiment);
  return experiment;
}

/** Writes the experiment into a temporary folder removed at teardown; returns the file and its folder. */
export async function writeTinyExperiment(t: Test, changes?: (e: Record<string, any>) => void): Promise<{ file: string; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chaos-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'tiny.yaml');
  await writeFile(file, stringify(tinyExperimentYaml(changes)));
  return { file, dir };
}

export async function tinyExperiment(t: Test, changes?: (e: Record<string, any>) => void): Promise<{ experiment: Experiment; dir: string }> {
  const { file, dir } = await writeTinyExperiment(t, changes);
  return { experiment: await loadExperiment(file), dir };
}
