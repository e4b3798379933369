// Repeats: every arm runs N times with different seeds; the comparison shows each figure's mean and range, and the
// verdict asks every repeat to tell the arms apart.
import type { ArmResult, FailureCause } from '../results.js';

export interface Spread {
  mean: number;
  min: number;
  max: number;
}

/** Mean and range of the values; null values (e.g. never detected) are left out, and all-null gives null. */
export function spread(values: ReadonlyArray<number | null>): Spread | null {
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (present.length === 0) return null;
  return {
    mean: present.reduce((sum, v) => sum + v, 0) / present.length,
    min: Math.min(...present),
    max: Math.max(...present),
  };
}

/** The seed of repeat `index` (0-based): consecutive seeds from the run's seed. */
export function repeatSeed(seed: number, index: number): number {
  return seed + index;
}

/**
 * One arm's repeats as one ArmResult: the first repeat's timeline, events and summary (the charts show one run, not
 * an average of shapes), every repeat's figures in `repeats`, attempts summed, and the hypothesis held only if it held
 * every time.
 */
export function combineRepeats(runs: ReadonlyArray<{ seed: number; result: ArmResult }>): ArmResult {
  const first = runs[0]!.result;
  if (runs.length === 1) return first;
  const observed = runs.map((run) => run.result.hypothesis.observed);
  const histogram: Record<string, number> = {};
  const failures: Record<string, FailureCause> = {};
  for (const cause of new Set(runs.flatMap(({ result }) => Object.keys(result.failures ?? {})))) {
    const seen = runs.map(({ result }) => result.failures?.[cause]).filter((c): c is FailureCause => c !== undefined);
    failures[cause] = { calls: seen.reduce((sum, c) => sum + c.calls, 0), p50Ms: seen.reduce((sum, c) => sum + c.p50Ms, 0) / seen.length };
  }
  for (const { result } of runs) {
    for (const [attempts, count] of Object.entries(result.attemptsHistogram ?? {})) histogram[attempts] = (histogram[attempts] ?? 0) + count;
  }
  return {
    ...first,
    hypothesis: {
      passed: runs.every((run) => run.result.hypothesis.passed),
      observed: observed.reduce((sum, v) => sum + v, 0) / observed.length,
    },
    repeats: runs.map(({ seed, result }) => ({
      seed,
      summary: result.summary,
      observed: result.hypothesis.observed,
      held: result.hypothesis.passed,
    })),
    ...(Object.keys(histogram).length > 0 ? { attemptsHistogram: histogram } : {}),
    ...(Object.keys(failures).length > 0 ? { failures } : {}),
  };
}
