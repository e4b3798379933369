// The hypothesis check: one metric, observed for every arm over the hypothesis window (default: the whole run).
// The protected arms must hold it and the baseline arms must not: only then does the experiment tell them apart.
import type { RequestRecord } from '../../demo-client/load.js';
import { percentile } from '../../demo-client/summary.js';
import type { ExperimentHypothesis } from './experiment.js';
import type { HypothesisSpec } from '../results.js';

export const HYPOTHESIS_METRICS = [
  'successRate', 'p50', 'p95', 'p99', 'max', 'fastFails', 'amplification', 'peakArrivalsPer100ms',
] as const;

export interface ObservedArm {
  /** The records the hypothesis looks at (its stream, if it names one). */
  records: RequestRecord[];
  /** Backend arrivals, as sampled (t in ms since the load started). */
  arrivals: Array<{ t: number; count: number }>;
  /** Arrivals per 100 ms, when sampled that finely. */
  fineArrivals?: Array<{ t: number; count: number }>;
}

export type ArmRole = 'protected' | 'baseline' | 'other';

/** The baseline arms: the hypothesis's `baseline`, or `none` when that arm ran. */
export function baselineArms(hypothesis: HypothesisSpec, armNames: readonly string[]): string[] {
  return hypothesis.baseline ?? (armNames.includes('none') ? ['none'] : []);
}

/** The protected arms: the hypothesis's `arms`, or every arm that is not a baseline. */
export function protectedArms(hypothesis: HypothesisSpec, armNames: readonly string[]): string[] {
  const baseline = baselineArms(hypothesis, armNames);
  return (hypothesis.arms ?? armNames.filter((name) => !baseline.includes(name))).filter((name) => armNames.includes(name));
}

export function roleOf(hypothesis: HypothesisSpec, armNames: readonly string[], arm: string): ArmRole {
  if (protectedArms(hypothesis, armNames).includes(arm)) return 'protected';
  return baselineArms(hypothesis, armNames).includes(arm) ? 'baseline' : 'other';
}

export function observe(hypothesis: ExperimentHypothesis, arm: ObservedArm): number {
  const window = hypothesis.window;
  const inWindow = (t: number) => !window || (t >= window.fromMs && t < window.toMs);
  const records = arm.records.filter((r) => inWindow(r.start));
  const latencies = records.map((r) => r.latencyMs).sort((a, b) => a - b);
  switch (hypothesis.metric) {
    case 'successRate':
      return records.length ? records.filter((r) => r.ok).length / records.length : 0;
    case 'p50':
      return percentile(latencies, 50);
    case 'p95':
      return percentile(latencies, 95);
    case 'p99':
      return percentile(latencies, 99);
    case 'max':
      return latencies.at(-1) ?? 0;
    case 'fastFails':
      return records.filter((r) => r.fastFail).length;
    case 'amplification': {
      // Backend arrivals in the window per client request sent in it: retries of the window's calls land in it too.
      const arrivals = arm.arrivals.filter((a) => inWindow(a.t)).reduce((sum, a) => sum + a.count, 0);
      return records.length ? arrivals / records.length : 0;
    }
    case 'peakArrivalsPer100ms':
      return Math.max(0, ...(arm.fineArrivals ?? []).filter((a) => inWindow(a.t)).map((a) => a.count));
    default:
      throw new Error(`unknown hypothesis metric "${hypothesis.metric}"`);
  }
}

export function holds(hypothesis: HypothesisSpec, observed: number): boolean {
  return hypothesis.op === '>=' ? observed >= hypothesis.value : observed <= hypothesis.value;
}

/** One repeat's verdicts per arm: did the rule hold? */
export type RepeatVerdicts = ReadonlyMap<string, boolean>;

export interface Verdict {
  /** Every protected arm held the rule in every repeat. */
  passed: boolean;
  /** Every repeat told the arms apart (protected held, baseline did not); null without a baseline or a protected arm. */
  discriminates: boolean | null;
  /** Repeats that told the arms apart, out of `repeats`. */
  discriminatingRepeats: number;
  repeats: number;
}

export function verdict(hypothesis: HypothesisSpec, armNames: readonly string[], repeats: readonly RepeatVerdicts[]): Verdict {
  const protectedNames = protectedArms(hypothesis, armNames);
  const baseline = baselineArms(hypothesis, armNames).filter((name) => armNames.includes(name));
  const protectedHeld = (r: RepeatVerdicts) => protectedNames.every((name) => r.get(name) === true);
  const baselineFailed = (r: RepeatVerdicts) => baseline.every((name) => r.get(name) === false);
  const discriminatingRepeats = repeats.filter((r) => protectedHeld(r) && baselineFailed(r)).length;
  return {
    passed: repeats.every(protectedHeld),
    discriminates: baseline.length === 0 || protectedNames.length === 0 ? null : discriminatingRepeats === repeats.length,
    discriminatingRepeats,
    repeats: repeats.length,
  };
}
