// The hostile soak's goals, all in one place: what normal traffic must keep, what must be released once the hostile
// load stops, and how long the proxy may let a misbehaving connection stay.
import { formatNumber, formatUs } from '../report/format.js';
import type { AttackerFigures, GoalResult, HostileFigures } from '../report/results.js';

/** Normal traffic's 2xx share: hostile clients must not take it below this. */
export const NORMAL_SUCCESS_MIN = 0.999;
/** Normal traffic's p99; 5% of one route's requests carry an injected 100 ms delay, under 1% of all. */
export const NORMAL_P99_MAX_US = 500_000;
/** Once the hostile load stops, every bulkhead gauge must be back to 0 within this. */
export const SETTLE_LIMIT_S = 10;
/**
 * RSS after the settle period against the baseline before load: at most this factor, plus the young generation the
 * chart's NODE_OPTIONS allow (3 x an 8 MB semi-space), which V8 grows into under load and keeps.
 */
export const RSS_END_FACTOR = 1.25;
export const RSS_END_HEADROOM_MB = 24;
/** Peak RSS under hostile load: three quarters of the chart's 256 Mi memory limit. */
export const RSS_PEAK_MAX_MB = 192;
/**
 * How long the proxy may let a connection stay open: the listener's default timeout (head 10 s, body 30 s) plus Node's
 * connection check interval (30 s), which is when an expired connection is noticed, plus 5 s.
 */
export const SLOWLORIS_MAX_OPEN_S = 45;
export const STALLED_BODY_MAX_OPEN_S = 65;

function atMost(goal: string, value: number, limit: number, shown: string): GoalResult {
  return { goal, value: shown, met: Number.isFinite(value) ? value <= limit : null };
}

function bulkheadsSettled(hostile: HostileFigures): GoalResult {
  const goal = `bulkhead gauges (active and queued, every scope and name) all 0 within ${SETTLE_LIMIT_S} s after the load stops`;
  if (hostile.bulkheadsAfterSettle.length === 0) return { goal, value: 'no gauges read', met: null };
  const stuck = hostile.bulkheadsAfterSettle.filter((gauge) => gauge.active !== 0 || gauge.queued !== 0);
  return {
    goal,
    value: stuck.length === 0
      ? `all 0 after ${formatNumber(hostile.settledAfterS, 1)} s`
      : stuck.map((gauge) => `${gauge.scope} "${gauge.name}": ${gauge.active} active, ${gauge.queued} queued`).join('; '),
    met: stuck.length === 0,
  };
}

/** A connection-lifetime goal, judged only when the run was long enough for the limit to be exceeded. */
function heldAtMost(who: string, attacker: AttackerFigures, limitS: number, durationS: number): GoalResult {
  const goal = `${who}: every connection closed by the proxy within ${limitS} s`;
  const value = `longest open ${formatNumber(attacker.longestOpenS, 1)} s, ${formatNumber(attacker.heldToEnd)} still open at the end`;
  if (durationS <= limitS) return { goal, value: `${value}; not judged: the run (${durationS} s) is not longer than the limit`, met: null };
  return { goal, value, met: attacker.longestOpenS <= limitS };
}

export function evaluateHostileGoals(hostile: HostileFigures): GoalResult[] {
  const { normal, rss, reloads } = hostile;
  const rssEndLimitMB = rss.baselineMB * RSS_END_FACTOR + RSS_END_HEADROOM_MB;
  return [
    {
      goal: `normal traffic: 2xx share >= ${NORMAL_SUCCESS_MIN * 100}%`,
      value: `${formatNumber(normal.successRate * 100, 3)}% of ${formatNumber(normal.sent)}`,
      met: normal.successRate >= NORMAL_SUCCESS_MIN,
    },
    atMost(`normal traffic: p99 <= ${formatUs(NORMAL_P99_MAX_US)}`, normal.p99Us, NORMAL_P99_MAX_US, formatUs(normal.p99Us)),
    bulkheadsSettled(hostile),
    {
      goal: 'after the load, one request down every route answers 2xx',
      value: hostile.afterLoad.map((probe) => `${probe.path} ${probe.status ?? 'no answer'} in ${formatNumber(probe.ms)} ms`).join(', '),
      met: hostile.afterLoad.length > 0 && hostile.afterLoad.every((probe) => probe.status !== null && probe.status >= 200 && probe.status < 300),
    },
    atMost(`RSS after settling <= ${RSS_END_FACTOR}x baseline + ${RSS_END_HEADROOM_MB} MB`, rss.endMB, rssEndLimitMB,
      `${formatNumber(rss.endMB, 1)} MB (baseline ${formatNumber(rss.baselineMB, 1)} MB, limit ${formatNumber(rssEndLimitMB, 1)} MB)`),
    atMost(`peak RSS under hostile load <= ${RSS_PEAK_MAX_MB} MB`, rss.peakMB, RSS_PEAK_MAX_MB, `${formatNumber(rss.peakMB, 1)} MB`),
    heldAtMost('slowloris', hostile.slowloris, SLOWLORIS_MAX_OPEN_S, hostile.durationS),
    heldAtMost('stalled bodies', hostile.stalledBodies, STALLED_BODY_MAX_OPEN_S, hostile.durationS),
    {
      goal: 'every policy rewrite reloaded, none failed',
      value: `${formatNumber(reloads.written)} written, ${formatNumber(reloads.succeeded)} succeeded, ${formatNumber(reloads.failed)} failed`,
      met: reloads.succeeded === null ? null : reloads.failed === 0 && reloads.succeeded === reloads.written,
    },
  ];
}
