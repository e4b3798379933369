// The per-arm comparison table as plain cells; terminal, Markdown and HTML only differ in how they draw it.
import type { ArmResult, ExperimentResult } from '../results.js';
import { appliesTo } from '../hypothesis.js';
import { orderArms } from './arms.js';
import {
  formatAmplification,
  formatHypothesisRule,
  formatMetricValue,
  formatMs,
  formatPercent,
  formatSeconds,
} from './format.js';

export type ArmVerdict = 'PASS' | 'FAIL' | 'not judged';

export interface SummaryColumn {
  header: string;
  align: 'left' | 'right';
}

export interface SummaryRow {
  arm: string;
  verdict: ArmVerdict;
  cells: string[];
}

export interface SummaryTable {
  columns: SummaryColumn[];
  rows: SummaryRow[];
  /** One sentence on units and abbreviations, printed under the table. */
  legend: string;
}

/** Arms the hypothesis is judged on, in display order. */
export function judgedArms(result: ExperimentResult): string[] {
  return orderArms(result.arms)
    .map((arm) => arm.arm)
    .filter((name) => appliesTo(result.hypothesis, name));
}

function armVerdict(arm: ArmResult, judged: readonly string[]): ArmVerdict {
  if (!judged.includes(arm.arm)) return 'not judged';
  return arm.hypothesis.passed ? 'PASS' : 'FAIL';
}

const COLUMNS: SummaryColumn[] = [
  { header: 'arm', align: 'left' },
  { header: 'requests', align: 'right' },
  { header: 'success', align: 'right' },
  { header: 'p50 ms', align: 'right' },
  { header: 'p95 ms', align: 'right' },
  { header: 'p99 ms', align: 'right' },
  { header: 'max ms', align: 'right' },
  { header: 'fast-fails', align: 'right' },
  { header: 'amplif.', align: 'right' },
  { header: 'detect s', align: 'right' },
  { header: 'recover s', align: 'right' },
  { header: 'observed', align: 'right' },
  { header: 'hypothesis', align: 'left' },
];

export function buildSummaryTable(result: ExperimentResult): SummaryTable {
  const judged = judgedArms(result);
  const rows = orderArms(result.arms).map((arm): SummaryRow => {
    const { summary } = arm;
    const verdict = armVerdict(arm, judged);
    return {
      arm: arm.arm,
      verdict,
      cells: [
        arm.arm,
        summary.count.toString(),
        formatPercent(summary.successRate),
        formatMs(summary.p50),
        formatMs(summary.p95),
        formatMs(summary.p99),
        formatMs(summary.max),
        summary.fastFails.toString(),
        formatAmplification(summary.amplification),
        formatSeconds(summary.timeToDetectMs),
        formatSeconds(summary.timeToRecoverMs),
        formatMetricValue(result.hypothesis.metric, arm.hypothesis.observed),
        verdict === 'not judged' ? '-' : verdict,
      ],
    };
  });
  const legend =
    `Latency in ms from the scheduled send; amplif. = backend requests per client request; detect/recover in s ` +
    `after the fault/heal action; observed = ${result.hypothesis.metric}; hypothesis ${formatHypothesisRule(result.hypothesis)} ` +
    `('-' = arm not judged).`;
  return { columns: COLUMNS, rows, legend };
}

/** One line: the overall verdict, and which arms failed if any. */
export function verdictLine(result: ExperimentResult): string {
  const rule = formatHypothesisRule(result.hypothesis);
  const judged = judgedArms(result);
  if (result.passed) return judged.length > 0 ? `Verdict: PASS - ${rule} held for ${judged.join(', ')}` : `Verdict: PASS - no arm this hypothesis judges was run`;
  const failed = orderArms(result.arms).filter((arm) => judged.includes(arm.arm) && !arm.hypothesis.passed);
  const observed = failed
    .map((arm) => `${arm.arm} observed ${formatMetricValue(result.hypothesis.metric, arm.hypothesis.observed)}`)
    .join(', ');
  return `Verdict: FAIL - ${rule} did not hold${observed ? `: ${observed}` : ''}`;
}
