// The hypothesis check: one metric, observed per arm over the hypothesis window (default: the whole run).
import type { RequestRecord } from '../demo-client/load.js';
import { percentile } from '../demo-client/summary.js';
import type { Experiment } from './experiment.js';

export const HYPOTHESIS_METRICS = [
  'successRate', 'p50', 'p95', 'p99', 'max', 'fastFails', 'amplification', 'peakArrivalsPer100ms',
] as const;

export interface ObservedArm {
  /** The records the hypothesis looks at (its stream, if it names one). */
  records: RequestRecord[];
  amplification: number;
  arrivals?: Array<{ t: number; count: number }>;
}

/** The arms a hypothesis is judged on: its `arms`, or every arm but the unprotected baseline. */
export function appliesTo(hypothesis: Experiment['hypothesis'], arm: string): boolean {
  return hypothesis.arms ? hypothesis.arms.includes(arm) : arm !== 'none';
}

export function observe(hypothesis: Experiment['hypothesis'], arm: ObservedArm): number {
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
    case 'amplification':
      return arm.amplification;
    case 'peakArrivalsPer100ms':
      return Math.max(0, ...(arm.arrivals ?? []).filter((a) => inWindow(a.t)).map((a) => a.count));
    default:
      throw new Error(`unknown hypothesis metric "${hypothesis.metric}"`);
  }
}

export function holds(hypothesis: Experiment['hypothesis'], observed: number): boolean {
  return hypothesis.op === '>=' ? observed >= hypothesis.value : observed <= hypothesis.value;
}
