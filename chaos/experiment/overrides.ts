// Command-line overrides of an experiment (short test runs): --duration scales the action timeline with the load,
// so a 4 s run still kills at the same point of the run as the 40 s one; --rate scales every stream alike.
import type { Experiment } from './experiment.js';

export interface Overrides {
  durationMs?: number;
  rate?: number;
  arms?: string[];
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function applyOverrides(experiment: Experiment, overrides: Overrides): Experiment {
  const durationMs = overrides.durationMs ?? experiment.load.durationMs;
  const rate = overrides.rate ?? experiment.load.rate;
  const timeScale = durationMs / experiment.load.durationMs;
  const rateScale = rate / experiment.load.rate;
  const window = experiment.hypothesis.window;
  const known = experiment.arms.map((a) => a.name);
  for (const arm of overrides.arms ?? []) {
    if (!known.includes(arm)) throw new UsageError(`--arms: unknown arm "${arm}" for ${experiment.name} (available: ${known.join(', ')})`);
  }
  return {
    ...experiment,
    load: {
      ...experiment.load,
      rate,
      durationMs,
      streams: experiment.load.streams.map((s) => ({ ...s, rate: s.rate * rateScale })),
    },
    timeline: experiment.timeline.map((a) => ({ ...a, atMs: Math.round(a.atMs * timeScale) })),
    hypothesis: {
      ...experiment.hypothesis,
      ...(window ? { window: { fromMs: Math.round(window.fromMs * timeScale), toMs: Math.round(window.toMs * timeScale) } } : {}),
    },
    arms: overrides.arms ? experiment.arms.filter((a) => overrides.arms!.includes(a.name)) : experiment.arms,
  };
}
