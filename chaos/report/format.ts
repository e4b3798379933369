// Number formatting shared by the terminal table, report.md and report.html, so they always agree.
import type { ExperimentResult } from '../results.js';

/** A 0..1 ratio as a percentage with one decimal: 0.9234 -> "92.3%". */
export function formatPercent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

/** Milliseconds without unit: one decimal below 10 ms (fast-fails live there), whole numbers above. */
export function formatMs(ms: number): string {
  return ms < 10 ? ms.toFixed(1) : Math.round(ms).toString();
}

/** A time-to-detect/recover in seconds; null means the run never got there. */
export function formatSeconds(ms: number | null): string {
  return ms === null ? 'never' : (ms / 1000).toFixed(2);
}

/** Backend requests per client request: "1.00x" means no amplification. */
export function formatAmplification(ratio: number): string {
  return `${ratio.toFixed(2)}x`;
}

/** A value of the hypothesis metric, in that metric's unit. */
export function formatMetricValue(metric: ExperimentResult['hypothesis']['metric'], value: number): string {
  switch (metric) {
    case 'successRate':
      return formatPercent(value);
    case 'p50':
    case 'p95':
    case 'p99':
    case 'max':
      return `${formatMs(value)} ms`;
    case 'amplification':
      return formatAmplification(value);
    default:
      return Number.isInteger(value) ? value.toString() : value.toFixed(3);
  }
}

/** "successRate >= 90.0%": the hypothesis threshold as a reader sees it. */
export function formatHypothesisRule(hypothesis: ExperimentResult['hypothesis']): string {
  return `${hypothesis.metric} ${hypothesis.op} ${formatMetricValue(hypothesis.metric, hypothesis.value)}`;
}
