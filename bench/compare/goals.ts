// Ratios between targets of the same run, and the targets evaluated from them.
import { formatNumber, formatRatio, formatUs } from '../report/format.js';
import { median } from '../load/measure-window.js';
import type { GoalResult, ScaleResult, ScenarioResult, TargetComparisons, TargetFigures, TargetResult } from '../report/results.js';

export const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a === null || a === undefined || b === null || b === undefined || b === 0 ? null : a / b;
export const difference = (a: number | undefined, b: number | undefined): number | null =>
  a === undefined || b === undefined ? null : a - b;

type RoundFigure = 'cpuUsPerRequest' | 'rps';

/**
 * Median of the round-by-round ratios. A round measures the targets back to back, so each ratio compares windows a
 * few seconds apart; a neighbour that slows one window spoils one ratio, not the comparison, as it can a median.
 */
export function pairedRatio(
  own: Pick<TargetFigures, 'closedLoopRounds'>,
  other: Pick<TargetFigures, 'closedLoopRounds'> | undefined,
  figure: RoundFigure,
): number | null {
  if (!other) return null;
  const ratios = own.closedLoopRounds
    .map((round, index) => ratio(round[figure], other.closedLoopRounds[index]?.[figure]))
    .filter((value): value is number => value !== null);
  return ratios.length > 0 ? median(ratios) : null;
}

export function withComparisons(targets: readonly TargetResult[]): TargetResult[] {
  const figuresOf = (name: string): TargetFigures | undefined => targets.find((target) => target.name === name)?.figures;
  const direct = figuresOf('direct');
  const haproxy = figuresOf('haproxy');
  const fastify = figuresOf('fastify-http-proxy');
  return targets.map((target) => {
    const own = target.figures;
    if (!own) return target;
    const comparisons: TargetComparisons = {
      cpuVsHaproxy: pairedRatio(own, haproxy, 'cpuUsPerRequest'),
      cpuVsFastify: pairedRatio(own, fastify, 'cpuUsPerRequest'),
      rpsVsDirect: pairedRatio(own, direct, 'rps'),
      rpsVsHaproxy: pairedRatio(own, haproxy, 'rps'),
      rpsVsFastify: pairedRatio(own, fastify, 'rps'),
      c1AddedP50Us: difference(own.c1.p50Us, direct?.c1.p50Us),
      c1AddedP99Us: difference(own.c1.p99Us, direct?.c1.p99Us),
      c16P99VsHaproxy: ratio(own.c16.p99Us, haproxy?.c16.p99Us),
    };
    return { ...target, comparisons };
  });
}

function atMost(value: number | null | undefined, limit: number): boolean | null {
  return value === null || value === undefined || !Number.isFinite(value) ? null : value <= limit;
}

/** Per-request CPU and RSS at the biggest configs relative to the smallest one. */
const FLAT_LIMIT = 1.25;

function scaleGoals(scale: readonly ScaleResult[]): GoalResult[] {
  const base = scale.find((entry) => entry.name === 'routes-1')?.figures;
  return scale
    .filter((entry) => entry.name === 'routes-1000' || entry.name === 'endpoints-200')
    .flatMap((entry) => {
      const cpu = ratio(entry.figures?.cpuUsPerRequest, base?.cpuUsPerRequest);
      const rss = ratio(entry.figures?.rssLoadMB, base?.rssLoadMB);
      return [
        { goal: `${entry.name}: CPU/request flat (<= ${FLAT_LIMIT}x routes-1)`, value: formatRatio(cpu), met: atMost(cpu, FLAT_LIMIT) },
        { goal: `${entry.name}: RSS under load flat (<= ${FLAT_LIMIT}x routes-1)`, value: formatRatio(rss), met: atMost(rss, FLAT_LIMIT) },
      ];
    });
}

export function evaluateGoals(
  targets: readonly TargetResult[],
  scenarios: readonly ScenarioResult[],
  scale: readonly ScaleResult[],
): GoalResult[] {
  const breakwater = targets.find((target) => target.name === 'breakwater');
  const own = breakwater?.figures;
  const compared = breakwater?.comparisons;
  const scenario = (name: string) => scenarios.find((entry) => entry.name === name)?.figures;
  const goals: GoalResult[] = [
    { goal: 'CPU/request <= 1.0x @fastify/http-proxy', value: formatRatio(compared?.cpuVsFastify), met: atMost(compared?.cpuVsFastify, 1.0) },
    { goal: 'CPU/request <= 2.5x HAProxy', value: formatRatio(compared?.cpuVsHaproxy), met: atMost(compared?.cpuVsHaproxy, 2.5) },
    {
      goal: 'closed-loop rps >= 1.2x @fastify/http-proxy',
      value: formatRatio(compared?.rpsVsFastify),
      met: compared?.rpsVsFastify == null ? null : compared.rpsVsFastify >= 1.2,
    },
    { goal: 'added p50 over direct at c=1 <= 100 us', value: formatUs(compared?.c1AddedP50Us), met: atMost(compared?.c1AddedP50Us, 100) },
    { goal: 'added p99 over direct at c=1 <= 1 ms', value: formatUs(compared?.c1AddedP99Us), met: atMost(compared?.c1AddedP99Us, 1000) },
    { goal: 'p99 at c=16 <= 2x HAProxy', value: formatRatio(compared?.c16P99VsHaproxy), met: atMost(compared?.c16P99VsHaproxy, 2) },
    { goal: 'RSS under load <= 80 MB', value: `${formatNumber(own?.rssLoadMB, 1)} MB`, met: atMost(own?.rssLoadMB, 80) },
    { goal: 'RSS idle <= 60 MB', value: `${formatNumber(own?.rssIdleMB, 1)} MB`, met: atMost(own?.rssIdleMB, 60) },
    ...['fast-fail-breaker', 'fast-fail-bulkhead'].map((name) => ({
      goal: `${name}: p99 at the client <= 1 ms`,
      value: formatUs(scenario(name)?.p99Us),
      met: atMost(scenario(name)?.p99Us, 1000),
    })),
    ...scaleGoals(scale),
  ];
  return goals;
}
