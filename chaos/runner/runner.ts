// Runs an experiment: every arm from a fresh start, `repeat` times with consecutive seeds, interleaved (arm A, B, C,
// then A, B, C with the next seed) so that a slow spell on the machine does not land on one arm only. Then writes the
// run folder (raw JSONL per arm and repeat, each arm's settings, results.json, report.md/report.html).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FAULT_ACTIONS } from './arm-result.js';
import { runArm } from './arm-runner.js';
import type { ArmEnvironment, EventSink } from '../environments/arm-environment.js';
import { armSetup, notEquivalentNotes } from '../experiment/arm-settings.js';
import type { ArmSpec, Experiment } from '../experiment/experiment.js';
import { verdict } from '../experiment/hypothesis.js';
import { LocalEnvironment } from '../environments/local/local-environment.js';
import { ProcessRegistry } from './processes.js';
import { Progress } from './progress.js';
import { combineRepeats, repeatSeed } from './repeats.js';
import type { ArmResult, ExperimentResult } from '../results.js';

export interface RunOptions {
  experiment: Experiment;
  seed: number;
  /** How many times each arm runs (default 1). */
  repeat?: number;
  runDir: string;
  signal: AbortSignal;
  registry?: ProcessRegistry;
  progress?: Progress;
  /** Defaults to the local target: processes on this machine. `seed` is the repeat's seed. */
  environment?: (arm: ArmSpec, onEvent: EventSink, seed: number) => ArmEnvironment;
  /** Where the run happens, as results.json and the report state it. */
  description?: string;
}

export async function runExperiment(options: RunOptions): Promise<ExperimentResult> {
  const { experiment, seed, runDir } = options;
  const repeat = options.repeat ?? 1;
  const progress = options.progress ?? new Progress();
  const registry = options.registry ?? new ProcessRegistry(({ label, pid }) => progress.line(`  started ${label} (pid ${pid})`));
  await mkdir(path.join(runDir, 'arms'), { recursive: true });
  const startedAt = new Date().toISOString();
  const setups = new Map(experiment.arms.map((arm) => [arm.name, armSetup(experiment, arm)]));
  for (const setup of setups.values()) {
    for (const [file, content] of setup.files) await writeFile(path.join(runDir, file), content);
  }
  const runs = new Map<string, Array<{ seed: number; result: ArmResult }>>(experiment.arms.map((arm) => [arm.name, []]));
  try {
    for (let index = 0; index < repeat; index++) {
      const armSeed = repeatSeed(seed, index);
      for (const arm of experiment.arms) {
        const label = repeat > 1 ? `${arm.name} ${index + 1}/${repeat}` : arm.name;
        const environment = options.environment
          ? (onEvent: EventSink) => options.environment!(arm, onEvent, armSeed)
          : (onEvent: EventSink) => new LocalEnvironment({ experiment, arm, seed: armSeed, runDir, registry, onEvent });
        const { result, records } = await runArm({
          experiment, arm, client: setups.get(arm.name)!.client, label, progress, signal: options.signal, environment,
        });
        const file = repeat > 1 ? `${fileSafe(arm.name)}.seed-${armSeed}.jsonl` : `${fileSafe(arm.name)}.jsonl`;
        await writeFile(path.join(runDir, file), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
        runs.get(arm.name)!.push({ seed: armSeed, result });
        progress.line(`[${label}] done: ${(result.summary.successRate * 100).toFixed(1)}% ok, p99 ${Math.round(result.summary.p99)} ms`);
      }
    }
  } finally {
    await registry.stopAll();
  }
  const arms = experiment.arms.map((arm) => ({ ...combineRepeats(runs.get(arm.name)!), settings: setups.get(arm.name)!.settings }));
  const armNames = arms.map((a) => a.arm);
  const judged = verdict(experiment.hypothesis, armNames, Array.from({ length: repeat }, (_, index) =>
    new Map(experiment.arms.map((arm) => [arm.name, runs.get(arm.name)![index]!.result.hypothesis.passed]))));
  const { window, stream, ...hypothesis } = experiment.hypothesis;
  const result: ExperimentResult = {
    name: experiment.name,
    title: experiment.title,
    ...(experiment.description ? { description: experiment.description } : {}),
    hypothesis: {
      ...hypothesis,
      description: experiment.hypothesis.description,
    },
    seed,
    startedAt,
    ...(options.description ? { environment: options.description } : {}),
    load: { rate: experiment.load.rate, durationMs: experiment.load.durationMs },
    arms,
    passed: judged.passed,
    discriminates: judged.discriminates,
    repeats: repeat,
    faultFromStart: !experiment.timeline.some((action) => FAULT_ACTIONS.has(action.action)),
    notEquivalent: notEquivalentNotes(experiment),
  };
  await writeFile(path.join(runDir, 'results.json'), JSON.stringify(result, null, 2) + '\n');
  // Loaded when needed: the chart renderer is heavy, and bad input or --list should answer at once.
  const { writeReport } = await import('../report/index.js');
  await writeReport(runDir, result);
  return result;
}

const fileSafe = (name: string): string => name.replace(/[^a-z0-9-]/gi, '_');
