// Synthetic but realistic pod-kill experiment results: every arm's timeline is simulated from a seeded random
// source and a simple model of how each arm reacts, and summaries are derived from the timelines.
import type { ArmResult, ExperimentResult, TimelineBucket } from '../../../../chaos/results.js';

export interface SyntheticOptions {
  seed: number;
  /** In the order the result lists them (the report must reorder). */
  arms: string[];
  title?: string;
  description?: string;
  durationS?: number;
  rate?: number;
  withBreaker?: boolean;
  withArrivals?: boolean;
  withAttempts?: boolean;
  /** Extra action added to every arm's timeline, e.g. one with markup in it. */
  extraEvent?: { t: number; action: string; target?: string; detail?: string };
}

/** mulberry32: small, seedable, good enough for test data. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** How an arm behaves: how soon it detects the outage, and how many attempts a failing call makes. */
interface ArmModel {
  detectMs: number | null;
  recoverDelayS: number;
  maxAttempts: number;
}

function modelFor(arm: string): ArmModel {
  if (arm === 'none') return { detectMs: null, recoverDelayS: 0, maxAttempts: 1 };
  if (arm === 'app') return { detectMs: 1600, recoverDelayS: 6, maxAttempts: 4 };
  if (arm === 'app+proxy') return { detectMs: 900, recoverDelayS: 4, maxAttempts: 16 };
  return { detectMs: 700, recoverDelayS: 2, maxAttempts: 4 };
}

const KILL_S = 8;
const RESTORE_S = 16;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function simulateArm(arm: string, options: Required<Omit<SyntheticOptions, 'extraEvent' | 'description' | 'title'>>, extraEvent: SyntheticOptions['extraEvent']): ArmResult {
  const random = randomSource(options.seed * 31 + arm.length * 7 + arm.charCodeAt(0));
  const model = modelFor(arm);
  const timeline: TimelineBucket[] = [];
  const histogram: Record<string, number> = {};
  const arrivals: Array<{ t: number; count: number }> = [];
  const latencies: number[] = [];
  const events = [
    { t: KILL_S * 1000 + Math.round(random() * 40), action: 'kill-all', target: 'backend', detail: 'SIGKILL 2 replicas' },
    { t: RESTORE_S * 1000 + Math.round(random() * 40), action: 'restore', target: 'backend' },
    ...(extraEvent ? [extraEvent] : []),
  ];
  const recoveredAtS = RESTORE_S + 1 + model.recoverDelayS;
  // What each arm observed on its own (recovery delays differ by 2 s, so these never share a moment).
  events.push({ t: recoveredAtS * 1000 - Math.round(random() * 300), action: 'endpoint-ready', target: 'r1' });
  for (let s = 0; s < options.durationS; s++) {
    const requests = Math.round(options.rate * (0.95 + random() * 0.1));
    const outage = s >= KILL_S && s < recoveredAtS;
    const breakerOpen = model.detectMs !== null && outage && s * 1000 >= KILL_S * 1000 + model.detectMs;
    const successRate = outage ? (s >= RESTORE_S + 1 ? 0.5 + random() * 0.3 : random() * 0.02) : 0.985 + random() * 0.015;
    const ok = Math.round(requests * successRate);
    const fastFails = breakerOpen ? Math.round((requests - ok) * (0.8 + random() * 0.2)) : 0;
    const failingAttempts = breakerOpen ? 1 : model.maxAttempts;
    const attemptsPerCall = outage ? failingAttempts : 1 + random() * 0.05;
    const backendAlive = s < KILL_S || s >= RESTORE_S + 1;
    const backendArrivals = backendAlive ? Math.round((requests - fastFails) * attemptsPerCall) : 0;
    const slow = outage && !breakerOpen;
    const p50 = slow ? 250 + random() * 400 : breakerOpen ? 0.6 + random() : 3 + random() * 3;
    const p99 = slow ? (arm === 'none' ? 3000 + random() * 2000 : 900 + random() * 900) : breakerOpen ? 4 + random() * 6 : 18 + random() * 30;
    const breakerState = !options.withBreaker || arm === 'none'
      ? undefined
      : breakerOpen ? (s % 5 === 4 ? 'half_open' : 'open') : 'closed';
    timeline.push({ t: s * 1000, requests, ok, successRate: ok / requests, p50, p99, fastFails, backendArrivals,
      ...(breakerState ? { breakerState } : {}) });
    latencies.push(...Array.from({ length: requests }, () => p50 + (p99 - p50) * random() ** 8));
    const calls = Math.max(1, Math.round(attemptsPerCall));
    histogram[calls] = (histogram[calls] ?? 0) + requests;
    for (let tenth = 0; tenth < 10; tenth++) {
      const burst = s === RESTORE_S + 1 && tenth < 2 ? 4 : 1;
      arrivals.push({ t: s * 1000 + tenth * 100, count: Math.round((backendArrivals / 10) * burst * (0.7 + random() * 0.6)) });
    }
  }
  const count = timeline.reduce((sum, bucket) => sum + bucket.requests, 0);
  const ok = timeline.reduce((sum, bucket) => sum + bucket.ok, 0);
  const backend = timeline.reduce((sum, bucket) => sum + bucket.backendArrivals, 0);
  const restore = events[1]!.t;
  const recovered = timeline.find((bucket) => bucket.t >= restore && bucket.successRate >= 0.95);
  latencies.sort((a, b) => a - b);
  return {
    arm,
    summary: {
      arm,
      count,
      ok,
      successRate: ok / count,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      max: latencies[latencies.length - 1]!,
      fastFails: timeline.reduce((sum, bucket) => sum + bucket.fastFails, 0),
      throughput: count / options.durationS,
      durationMs: options.durationS * 1000,
      amplification: backend / count,
      timeToDetectMs: model.detectMs,
      timeToRecoverMs: recovered ? recovered.t + 1000 - restore : null,
    },
    hypothesis: { passed: false, observed: ok / count },
    timeline,
    ...(options.withArrivals ? { arrivals } : {}),
    ...(options.withAttempts && arm !== 'none' ? { attemptsHistogram: histogram } : {}),
    events,
  };
}

/**
 * A pod-kill-all result. The success-rate threshold sits halfway between the best and worst judged arm, so a run
 * with two or more judged arms always has a PASS and a FAIL.
 */
export function syntheticResult(options: SyntheticOptions): ExperimentResult {
  const settings = { durationS: 30, rate: 40, withBreaker: true, withArrivals: true, withAttempts: true, ...options };
  const arms = settings.arms.map((arm) => simulateArm(arm, settings, options.extraEvent));
  const judged = arms.filter((arm) => arm.arm !== 'none');
  const rates = judged.map((arm) => arm.summary.successRate);
  const threshold = (Math.min(...rates) + Math.max(...rates)) / 2;
  for (const arm of arms) arm.hypothesis.passed = arm.hypothesis.observed >= threshold;
  return {
    name: 'pod-kill-all',
    title: options.title ?? 'Pod kill: every backend replica dies, then comes back',
    ...(options.description ? { description: options.description } : {}),
    hypothesis: { description: 'Clients keep most requests succeeding while the backend is gone.', metric: 'successRate', op: '>=', value: threshold },
    seed: options.seed,
    startedAt: new Date(Date.UTC(2026, 0, 1, 12, 0, options.seed % 60)).toISOString(),
    load: { rate: settings.rate, durationMs: settings.durationS * 1000 },
    arms,
    passed: judged.every((arm) => arm.hypothesis.passed),
  };
}
