// Runs an experiment: every arm in turn from a fresh start with the same seed, then writes the run folder
// (raw JSONL per arm, results.json, report.md/report.html) and returns the result.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runArm } from './arm-runner.js';
import type { ArmEnvironment, EventSink } from './arm-environment.js';
import type { ArmSpec, Experiment } from './experiment.js';
import { appliesTo } from './hypothesis.js';
import { LocalEnvironment } from './local-environment.js';
import { ProcessRegistry } from './processes.js';
import { Progress } from './progress.js';
import type { ArmResult, ExperimentResult } from './results.js';

export interface RunOptions {
  experiment: Experiment;
  seed: number;
  runDir: string;
  signal: AbortSignal;
  registry?: ProcessRegistry;
  progress?: Progress;
  /** Defaults to the local target: processes on this machine. */
  environment?: (arm: ArmSpec, onEvent: EventSink) => ArmEnvironment;
  /** Where the run happens, as results.json and the report state it. */
  description?: string;
}

export async function runExperiment(options: RunOptions): Promise<ExperimentResult> {
  const { experiment, seed, runDir } = options;
  const progress = options.progress ?? new Progress();
  const registry = options.registry ?? new ProcessRegistry(({ label, pid }) => progress.line(`  started ${label} (pid ${pid})`));
  await mkdir(runDir, { recursive: true });
  const startedAt = new Date().toISOString();
  const arms: ArmResult[] = [];
  try {
    for (const arm of experiment.arms) {
      const environment = options.environment
        ? (onEvent: EventSink) => options.environment!(arm, onEvent)
        : (onEvent: EventSink) => new LocalEnvironment({ experiment, arm, seed, runDir, registry, onEvent });
      const { result, records } = await runArm({ experiment, arm, progress, signal: options.signal, environment });
      await writeFile(path.join(runDir, `${fileSafe(arm.name)}.jsonl`), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
      arms.push(result);
      progress.line(`[${arm.name}] done: ${(result.summary.successRate * 100).toFixed(1)}% ok, p99 ${Math.round(result.summary.p99)} ms`);
    }
  } finally {
    await registry.stopAll();
  }
  const result: ExperimentResult = {
    name: experiment.name,
    title: experiment.title,
    ...(experiment.description ? { description: experiment.description } : {}),
    hypothesis: {
      description: experiment.hypothesis.description,
      metric: experiment.hypothesis.metric,
      op: experiment.hypothesis.op,
      value: experiment.hypothesis.value,
      ...(experiment.hypothesis.arms ? { arms: experiment.hypothesis.arms } : {}),
    },
    seed,
    startedAt,
    ...(options.description ? { environment: options.description } : {}),
    load: { rate: experiment.load.rate, durationMs: experiment.load.durationMs },
    arms,
    passed: arms.filter((a) => appliesTo(experiment.hypothesis, a.arm)).every((a) => a.hypothesis.passed),
  };
  await writeFile(path.join(runDir, 'results.json'), JSON.stringify(result, null, 2) + '\n');
  // Loaded when needed: the chart renderer is heavy, and bad input or --list should answer at once.
  const { writeReport } = await import('./report/index.js');
  await writeReport(runDir, result);
  return result;
}

const fileSafe = (name: string): string => name.replace(/[^a-z0-9-]/gi, '_');
