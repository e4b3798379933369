// The hostile soak's verdicts: bulkhead gauges stuck after the settle period fail, connection-lifetime goals are only
// judged when the run outlasts them, and the command line selects the hostile soak on its own.
import t from 'tap';
import { evaluateHostileGoals, SLOWLORIS_MAX_OPEN_S } from '../../../bench/hostile/goals.js';
import { parseOptions } from '../../../bench/options.js';
import type { AttackerFigures, HostileFigures } from '../../../bench/report/results.js';

const attacker = (overrides: Partial<AttackerFigures> = {}): AttackerFigures => ({
  connections: 10,
  connectFailed: 0,
  answered: { 408: 10 },
  closedWithoutAnswer: 0,
  reset: 0,
  abandoned: {},
  heldToEnd: 0,
  longestOpenS: 12,
  ...overrides,
});

const healthy = (overrides: Partial<HostileFigures> = {}): HostileFigures => ({
  durationS: 600,
  normal: { rps: 200, sent: 120_000, statuses: { 200: 120_000 }, statusesByPath: {}, unanswered: 0, successRate: 1, p50Us: 2000, p99Us: 20_000, maxUs: 200_000 },
  slowloris: attacker(),
  stalledBodies: attacker({ longestOpenS: 32 }),
  aborting: attacker({ abandoned: { head: 5 } }),
  reloads: { written: 120, succeeded: 120, failed: 0 },
  samples: [],
  rss: { baselineMB: 60, peakMB: 120, endMB: 80 },
  afterLoad: [{ path: '/fast', status: 200, ms: 2 }, { path: '/queued/fast', status: 200, ms: 3 }],
  bulkheadsAfterSettle: [{ scope: 'route', name: 'api', active: 0, queued: 0 }],
  settledAfterS: 0.5,
  listenerRejected: null,
  ...overrides,
});

const verdicts = (figures: HostileFigures): Record<string, boolean | null> =>
  Object.fromEntries(evaluateHostileGoals(figures).map((goal) => [goal.goal.split(':')[0], goal.met]));

t.test('a proxy that keeps normal traffic and releases everything meets every goal', async (t) => {
  t.ok(evaluateHostileGoals(healthy()).every((goal) => goal.met === true));
});

t.test('what the current proxy shows fails the matching goals', async (t) => {
  const goals = evaluateHostileGoals(healthy({
    normal: { ...healthy().normal, statuses: { 200: 119_000, 503: 1000 }, successRate: 119_000 / 120_000 },
    slowloris: attacker({ answered: {}, heldToEnd: 1000, longestOpenS: 600 }),
    bulkheadsAfterSettle: [{ scope: 'route', name: 'api', active: 3, queued: 0 }, { scope: 'upstream', name: 'backend', active: 0, queued: 0 }],
    settledAfterS: null,
    rss: { baselineMB: 60, peakMB: 250, endMB: 120 },
    afterLoad: [{ path: '/fast', status: 200, ms: 2 }, { path: '/queued/fast', status: 503, ms: 1500 }],
  }));
  const failed = goals.filter((goal) => goal.met === false).map((goal) => goal.goal);
  t.equal(failed.length, 6, failed.join('\n'));
  t.match(goals.find((goal) => goal.goal.startsWith('after the load'))!.value, '/queued/fast 503 in 1,500 ms');
  t.match(goals.find((goal) => goal.goal.startsWith('bulkhead'))!.value, 'route "api": 3 active, 0 queued');
});

t.test('connection lifetimes are not judged in a run shorter than their limit', async (t) => {
  const short = verdicts(healthy({ durationS: SLOWLORIS_MAX_OPEN_S, slowloris: attacker({ heldToEnd: 50, longestOpenS: SLOWLORIS_MAX_OPEN_S }) }));
  t.equal(short.slowloris, null);
  t.equal(short['stalled bodies'], null);
});

t.test('no gauges read or no reload counts: no verdict rather than a pass', async (t) => {
  const unread = verdicts(healthy({ bulkheadsAfterSettle: [], reloads: { written: 3, succeeded: null, failed: null } }));
  t.equal(unread['bulkhead gauges (active and queued, every scope and name) all 0 within 10 s after the load stops'], null);
  t.equal(unread['every policy rewrite reloaded, none failed'], null);
});

t.test('--hostile takes an optional duration and runs on its own', async (t) => {
  t.equal(parseOptions(['--hostile']).hostileS, 600);
  t.equal(parseOptions(['--smoke', '--hostile']).hostileS, 4);
  t.equal(parseOptions(['--hostile', '90s']).hostileS, 90);
  t.equal(parseOptions(['--hostile', '2m', '--smoke']).hostileS, 120);
  t.throws(() => parseOptions(['--hostile', '--soak']), /one at a time/);
  t.throws(() => parseOptions(['--hostile', '500ms']), /1s or more/);
  t.throws(() => parseOptions(['--hostile', '--rate', '100']), /only applies to --soak/);
});
