// Report content shared by report.md and report.html: facts, secondary tables and the reading guide.
import type { ExperimentResult } from '../results.js';
import { hasAttemptsHistogram, orderArms } from './arms.js';
import { formatMs, formatPercent } from './format.js';
import type { SummaryColumn } from './summary-table.js';

export interface TextTable {
  columns: SummaryColumn[];
  rows: string[][];
}

/** Label/value pairs for the header of the report. */
export function experimentFacts(result: ExperimentResult): Array<[string, string]> {
  const repeats = result.repeats ?? 1;
  return [
    ['Experiment', result.name],
    ['Started', result.startedAt],
    ...(result.environment ? [['Environment', result.environment] as [string, string]] : []),
    repeats > 1
      ? ['Repeats', `${repeats} per arm, interleaved, seeds ${result.seed}-${result.seed + repeats - 1}; charts show the first repeat (seed ${result.seed})`]
      : ['Seed', result.seed.toString()],
    ['Load', `${result.load.rate} req/s, open loop, for ${result.load.durationMs / 1000} s per arm`],
    ['Arms', orderArms(result.arms).map((arm) => arm.arm).join(', ')],
  ];
}

/** Each arm's client and sidecar settings, with the files that hold them exactly; null when the result has none. */
export function armSettingsTable(result: ExperimentResult): TextTable | null {
  const arms = orderArms(result.arms).filter((arm) => arm.settings);
  if (arms.length === 0) return null;
  return {
    columns: [
      { header: 'arm', align: 'left' },
      { header: 'client', align: 'left' },
      { header: 'sidecar', align: 'left' },
      { header: 'exact settings', align: 'left' },
    ],
    rows: arms.map((arm) => [arm.arm, arm.settings!.client, arm.settings!.sidecar ?? '-', arm.settings!.files.join(', ')]),
  };
}

/** Calls per attempt count, one column per arm that has a histogram; null when no arm has one. */
export function attemptsTable(result: ExperimentResult): TextTable | null {
  const arms = orderArms(result.arms).filter(hasAttemptsHistogram);
  if (arms.length === 0) return null;
  const attemptCounts = [...new Set(arms.flatMap((arm) => Object.keys(arm.attemptsHistogram!)))].sort(
    (a, b) => Number(a) - Number(b),
  );
  const totals = arms.map((arm) => Object.values(arm.attemptsHistogram!).reduce((sum, count) => sum + count, 0));
  return {
    columns: [
      { header: 'attempts', align: 'right' },
      ...arms.map((arm) => ({ header: `${arm.arm} calls (share)`, align: 'right' as const })),
    ],
    rows: attemptCounts.map((attempts) => [
      attempts,
      ...arms.map((arm, i) => {
        const count = arm.attemptsHistogram![attempts] ?? 0;
        return `${count} (${formatPercent(totals[i] ? count / totals[i]! : 0)})`;
      }),
    ]),
  };
}

/** Failed calls by cause, one column per arm (over every repeat); null when no call failed. */
export function failuresTable(result: ExperimentResult): TextTable | null {
  const arms = orderArms(result.arms);
  const causes = [...new Set(arms.flatMap((arm) => Object.keys(arm.failures ?? {})))].sort();
  if (causes.length === 0) return null;
  return {
    columns: [{ header: 'cause', align: 'left' }, ...arms.map((arm) => ({ header: arm.arm, align: 'right' as const }))],
    rows: causes.map((cause) => [cause, ...arms.map((arm) => {
      const seen = arm.failures?.[cause];
      return seen ? `${seen.calls} (p50 ${formatMs(seen.p50Ms)} ms)` : '0';
    })]),
  };
}

/** Every chaos action as each arm ran it, in arm order then time. */
export function eventsTable(result: ExperimentResult): TextTable {
  return {
    columns: [
      { header: 'arm', align: 'left' },
      { header: 'time s', align: 'right' },
      { header: 'action', align: 'left' },
      { header: 'target', align: 'left' },
      { header: 'detail', align: 'left' },
    ],
    rows: orderArms(result.arms).flatMap((arm) =>
      [...arm.events]
        .sort((a, b) => a.t - b.t)
        .map((event) => [arm.arm, (event.t / 1000).toFixed(1), event.action, event.target ?? '', event.detail ?? '']),
    ),
  };
}

/** The short reading guide at the end of both reports. */
export const HOW_TO_READ = [
  'Each arm ran the same load and the same chaos actions from a fresh start with the same seed: ' +
    'none = no resilience, app = retries/timeouts/breaker coded in the client, proxy = the same policies in the ' +
    'Breakwater sidecar, app+proxy = both at once.',
  'Success rate and latency are what the client saw. Latency counts from the scheduled send time, so a stalled ' +
    'client cannot hide slow responses.',
  'Fast-fails were answered without reaching a backend (open breaker, bulkhead): cheap failures instead of slow ones; ' +
    'they count as 0 attempts. Time to detect is from the fault action to the first fast-fail or ejection; time to ' +
    'recover is from the heal action to the first 1 s bucket back at 95% success or better; both are n/a when the ' +
    'fault is there from the start.',
  'The hypothesis is judged for every arm. The experiment discriminates when the protected arms hold it and the ' +
    'baseline arms (by default none) do not, in every repeat; a run where the baseline holds it too does not show ' +
    'what the pattern changes.',
  'Amplification is backend requests per client request: 1.00x means no retries reached the backend; values well ' +
    'above 1 mean retries add load to a struggling backend.',
];
