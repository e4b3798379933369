// The per-arm comparison table as plain cells; terminal, Markdown and HTML only differ in how they draw it.
import { baselineArms, protectedArms, roleOf, type ArmRole } from '../experiment/hypothesis.js';
import { spread } from '../runner/repeats.js';
import type { ArmResult, ArmSummary, ExperimentResult } from '../results.js';
import { orderArms } from './arms.js';
import {
  formatAmplification,
  formatHypothesisRule,
  formatMetricValue,
  formatMs,
  formatPercent,
  formatSeconds,
} from './format.js';

/** good: a protected arm that held or a baseline that did not; bad: the opposite; neutral: an arm the verdict ignores. */
export type ArmVerdict = 'good' | 'bad' | 'neutral';

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

const armNamesOf = (result: ExperimentResult): string[] => result.arms.map((arm) => arm.arm);

/** Arms that must hold the hypothesis, in display order. */
export function judgedArms(result: ExperimentResult): string[] {
  const names = protectedArms(result.hypothesis, armNamesOf(result));
  return orderArms(result.arms).map((arm) => arm.arm).filter((name) => names.includes(name));
}

/** Arms that must not hold it for the experiment to discriminate, in display order. */
export function baselineArmNames(result: ExperimentResult): string[] {
  const names = baselineArms(result.hypothesis, armNamesOf(result));
  return orderArms(result.arms).map((arm) => arm.arm).filter((name) => names.includes(name));
}

/** The hypothesis cell: PASS/FAIL for a protected arm, held/not held for the others ("held 4/5" with repeats). */
function hypothesisCell(role: ArmRole, arm: ArmResult): string {
  const repeats = arm.repeats && arm.repeats.length > 1 ? arm.repeats : undefined;
  const held = repeats ? repeats.filter((r) => r.held).length : arm.hypothesis.passed ? 1 : 0;
  const count = repeats ? ` ${held}/${repeats.length}` : '';
  const always = held === (repeats?.length ?? 1);
  if (role === 'protected') return always ? `PASS${count}` : repeats ? `FAIL (held${count})` : 'FAIL';
  const text = held === 0 ? 'not held' : 'held';
  return `${text}${count}${role === 'baseline' ? ' (baseline)' : ''}`;
}

function armVerdict(role: ArmRole, arm: ArmResult): ArmVerdict {
  const heldAlways = arm.repeats ? arm.repeats.every((r) => r.held) : arm.hypothesis.passed;
  const heldNever = arm.repeats ? arm.repeats.every((r) => !r.held) : !arm.hypothesis.passed;
  if (role === 'protected') return heldAlways ? 'good' : 'bad';
  if (role === 'baseline') return heldNever ? 'good' : 'bad';
  return 'neutral';
}

/** One figure of an arm: its value, or with repeats the mean and the range "12 (9–15)". */
function figure(arm: ArmResult, pick: (summary: ArmSummary) => number | null, format: (value: number | null) => string): string {
  const repeats = arm.repeats;
  if (!repeats || repeats.length <= 1) return format(pick(arm.summary));
  const values = repeats.map((r) => pick(r.summary));
  const s = spread(values);
  if (!s) return format(null);
  const never = values.some((v) => v === null) ? ` ${values.filter((v) => v === null).length}x ${format(null)}` : '';
  const range = s.min === s.max ? '' : ` (${format(s.min)}–${format(s.max)})`;
  return `${format(s.mean)}${range}${never}`;
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

const NOT_APPLICABLE = 'n/a (fault from the start)';

export function buildSummaryTable(result: ExperimentResult): SummaryTable {
  const names = armNamesOf(result);
  const seconds = (value: number | null) => (result.faultFromStart ? NOT_APPLICABLE : formatSeconds(value));
  const rows = orderArms(result.arms).map((arm): SummaryRow => {
    const role = roleOf(result.hypothesis, names, arm.arm);
    const observed = arm.repeats && arm.repeats.length > 1
      ? figureOfValues(arm.repeats.map((r) => r.observed), (v) => formatMetricValue(result.hypothesis.metric, v))
      : formatMetricValue(result.hypothesis.metric, arm.hypothesis.observed);
    return {
      arm: arm.arm,
      verdict: armVerdict(role, arm),
      cells: [
        arm.arm,
        figure(arm, (s) => s.count, (v) => (v === null ? '-' : Math.round(v).toString())),
        figure(arm, (s) => s.successRate, (v) => (v === null ? '-' : formatPercent(v))),
        figure(arm, (s) => s.p50, (v) => (v === null ? '-' : formatMs(v))),
        figure(arm, (s) => s.p95, (v) => (v === null ? '-' : formatMs(v))),
        figure(arm, (s) => s.p99, (v) => (v === null ? '-' : formatMs(v))),
        figure(arm, (s) => s.max, (v) => (v === null ? '-' : formatMs(v))),
        figure(arm, (s) => s.fastFails, (v) => (v === null ? '-' : Math.round(v).toString())),
        figure(arm, (s) => s.amplification, (v) => (v === null ? '-' : formatAmplification(v))),
        result.faultFromStart ? NOT_APPLICABLE : figure(arm, (s) => s.timeToDetectMs, seconds),
        result.faultFromStart ? NOT_APPLICABLE : figure(arm, (s) => s.timeToRecoverMs, seconds),
        observed,
        hypothesisCell(role, arm),
      ],
    };
  });
  const repeats = result.repeats ?? 1;
  const legend =
    `Latency in ms from the scheduled send; amplif. = backend requests per client request; detect/recover in s ` +
    `after the fault/heal action; observed = ${result.hypothesis.metric}; hypothesis ${formatHypothesisRule(result.hypothesis)}` +
    ` (PASS/FAIL for the protected arms; the baseline must not hold it for the experiment to discriminate).` +
    (repeats > 1 ? ` ${repeats} repeats per arm: mean (min–max).` : '');
  return { columns: COLUMNS, rows, legend };
}

function figureOfValues(values: number[], format: (value: number) => string): string {
  const s = spread(values)!;
  return s.min === s.max ? format(s.mean) : `${format(s.mean)} (${format(s.min)}–${format(s.max)})`;
}

/** The experiment's overall verdict word: what a reader should take away first. */
export function verdictWord(result: ExperimentResult): 'DISCRIMINATES' | 'DOES NOT DISCRIMINATE' | 'FAIL' | 'PASS (no baseline)' {
  if (!result.passed) return 'FAIL';
  if (result.discriminates === true) return 'DISCRIMINATES';
  if (result.discriminates === false) return 'DOES NOT DISCRIMINATE';
  return 'PASS (no baseline)';
}

/** True when the verdict is the one an experiment is for: protected arms held, baseline arms did not. */
export function verdictIsGood(result: ExperimentResult): boolean {
  return result.passed && result.discriminates !== false;
}

/** One line: the overall verdict, with the arms that decided it. */
export function verdictLine(result: ExperimentResult): string {
  const rule = formatHypothesisRule(result.hypothesis);
  const judged = judgedArms(result);
  const baseline = baselineArmNames(result);
  const repeats = result.repeats ?? 1;
  const inRepeats = repeats > 1 ? ` in every one of ${repeats} repeats` : '';
  const byName = new Map(result.arms.map((arm) => [arm.arm, arm]));
  const observed = (names: string[]) => names
    .map((name) => `${name} ${formatMetricValue(result.hypothesis.metric, byName.get(name)!.hypothesis.observed)}`)
    .join(', ');
  const word = verdictWord(result);
  if (word === 'FAIL') {
    const failed = judged.filter((name) => !byName.get(name)!.hypothesis.passed);
    return `Verdict: FAIL - ${rule} did not hold${inRepeats ? ' in every repeat' : ''} for ${observed(failed)}${repeats > 1 ? ' (mean)' : ''}`;
  }
  if (word === 'DISCRIMINATES') {
    return `Verdict: DISCRIMINATES - ${rule} held for ${judged.join(', ')} and not for ${baseline.join(', ')}${inRepeats}`;
  }
  if (word === 'DOES NOT DISCRIMINATE') {
    const holding = baseline.filter((name) => byName.get(name)!.repeats?.some((r) => r.held) ?? byName.get(name)!.hypothesis.passed);
    // Over repeats the baseline may hold in one and fail on the mean: say in how many it held, or its mean reads as a pass.
    const heldIn = (name: string) => {
      const runs = byName.get(name)!.repeats;
      return runs ? ` in ${runs.filter((r) => r.held).length} of ${runs.length} repeats` : '';
    };
    const baselines = holding.map((name) => `${name}${heldIn(name)}`).join(', ');
    return `Verdict: DOES NOT DISCRIMINATE - ${rule} held for ${judged.join(', ')}, but also for the baseline ${baselines}${repeats > 1 ? ` (mean ${observed(holding)})` : ''}`;
  }
  return judged.length > 0
    ? `Verdict: PASS (no baseline) - ${rule} held for ${judged.join(', ')}; no baseline arm ran, so the run cannot show the contrast`
    : 'Verdict: PASS (no baseline) - no arm this hypothesis judges was run';
}
