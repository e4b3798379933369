// The soak's growth verdicts: judged only when every steady window carried its rate without failures.
import t from 'tap';
import type { SoakFigures, SoakWindow } from '../../../bench/report/results.js';
import { evaluateSoakGoals } from '../../../bench/soak/memory-soak.js';

const window = (endS: number, overrides: Partial<SoakWindow> = {}): SoakWindow => ({
  endS,
  achievedRps: 1000,
  p50Us: 300,
  p99Us: 900,
  failed: 0,
  cpuUsPerRequest: 60,
  clientCpuPercent: 20,
  rssMedianMB: 100,
  rssPeakMB: 110,
  heapFloorMB: 20,
  warmup: endS <= 30,
  ...overrides,
});

const soak = (windows: SoakWindow[], growth = 1.01): SoakFigures => ({
  maxRps: 2000,
  openLoopMaxRps: 2400,
  rps: 1000,
  durationS: 150,
  windowS: 30,
  warmupS: 30,
  windows,
  rssGrowth: growth,
  heapGrowth: growth,
});

const steady = [60, 90, 120, 150];

t.test('steady windows that held the rate are judged against the growth limit', async (t) => {
  const flat = evaluateSoakGoals(soak([window(30), ...steady.map((s) => window(s))]));
  t.same(flat.map((goal) => goal.met), [true, true]);
  const grown = evaluateSoakGoals(soak([window(30), ...steady.map((s) => window(s))], 1.2));
  t.same(grown.map((goal) => goal.met), [false, false]);
  t.match(grown[0]!.value, /^1\.200x$/);
});

t.test('a steady window that fell behind or failed requests leaves the growth unjudged, saying why', async (t) => {
  const behind = evaluateSoakGoals(soak([window(30), window(60), window(90, { achievedRps: 700 }), window(120), window(150)], 1.4));
  t.same(behind.map((goal) => goal.met), [null, null]);
  t.match(behind[0]!.value, /1\.400x, not judged: the load fell behind 1000 rps or failed in 1 of 4 steady windows/);
  const failed = evaluateSoakGoals(soak([window(30), window(60), window(90), window(120, { failed: 3 }), window(150)]));
  t.same(failed.map((goal) => goal.met), [null, null]);
  const warmupOnly = evaluateSoakGoals(soak([window(30, { achievedRps: 10, failed: 50 }), ...steady.map((s) => window(s))]));
  t.same(warmupOnly.map((goal) => goal.met), [true, true], 'a slow warm-up window does not count');
});
