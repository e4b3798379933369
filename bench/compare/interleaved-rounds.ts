// The main comparison: every running target measured in interleaved rounds (round 1 of every target,
// then round 2, ...) so that drift on a shared machine spreads over all of them; medians reported, and
// each closed-loop round kept so that targets can be compared round by round.
import type { ClosedLoopGenerator } from '../load/load-types.js';
import { cpuAndPeakRss, measureWindow, median, toMB, type WindowMeasurement } from '../load/measure-window.js';
import { nodeOpenLoop, type OpenLoopResult } from '../load/node-load.js';
import type { BenchSettings } from '../options.js';
import { rssBytes, runTimeAndWakeups } from '../harness/proc-stats.js';
import type { IdleFigures, TargetFigures, TargetResult, ThroughputFigures } from '../report/results.js';
import type { Target, TargetSlot } from '../targets/comparison-targets.js';

const CLOSED_LOOP_CONNECTIONS = 32;
const STREAMING_CONNECTIONS = 4;
const POST_BODY_BYTES = 64 * 1024;

interface Samples {
  c32: WindowMeasurement[];
  c1: WindowMeasurement[];
  c16: WindowMeasurement[];
  open: OpenLoopResult[];
  get1MiB: WindowMeasurement[];
  post64KiB: WindowMeasurement[];
}

const medianOf = <T>(list: readonly T[], pick: (item: T) => number): number => median(list.map(pick));

/** Medians over the rounds: a single window of large bodies swung by a factor of 1.5 between runs. */
function throughput(windows: readonly WindowMeasurement[]): ThroughputFigures {
  return {
    rps: medianOf(windows, (w) => w.load.rps),
    p50Us: medianOf(windows, (w) => w.load.p50Us),
    p99Us: medianOf(windows, (w) => w.load.p99Us),
    cpuUsPerRequest: cpuAndPeakRss(windows).cpuUsPerRequest,
  };
}

function failures(windows: readonly WindowMeasurement[]): number {
  return windows.reduce((sum, { load }) => sum + load.non2xx + load.socketErrors, 0);
}

/** Every target's CPU and main-thread wakeups over one window in which none has load: what idling costs a pod. */
async function measureIdle(targets: readonly Target[], settleS: number, seconds: number): Promise<Map<string, IdleFigures | null>> {
  const read = (target: Target) => (target.pid === undefined ? null : runTimeAndWakeups(target.pid));
  await new Promise((resolve) => setTimeout(resolve, settleS * 1000));
  const before = targets.map(read);
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const elapsedS = (performance.now() - started) / 1000;
  return new Map(targets.map((target, i) => {
    const first = before[i];
    const last = read(target);
    if (!first || !last) return [target.name, null];
    return [target.name, { cpuMsPerSecond: (last.runNs - first.runNs) / 1e6 / elapsedS, wakeupsPerSecond: (last.wakeups - first.wakeups) / elapsedS }];
  }));
}

function figuresFrom(samples: Samples, rssIdle: number | null, idle: IdleFigures | null): TargetFigures {
  const { cpuUsPerRequest, peakRssBytes } = cpuAndPeakRss(samples.c32);
  return {
    cpuUsPerRequest,
    closedLoopRps: medianOf(samples.c32, (window) => window.load.rps),
    closedLoopRounds: samples.c32.map((window) => ({ cpuUsPerRequest: window.cpuUsPerRequest, rps: window.load.rps })),
    c1: { p50Us: medianOf(samples.c1, (w) => w.load.p50Us), p99Us: medianOf(samples.c1, (w) => w.load.p99Us) },
    c16: { p50Us: medianOf(samples.c16, (w) => w.load.p50Us), p99Us: medianOf(samples.c16, (w) => w.load.p99Us) },
    openLoop: {
      targetRps: samples.open[0].targetRps,
      achievedRps: medianOf(samples.open, (result) => result.achievedRps),
      p50Us: medianOf(samples.open, (result) => result.p50Us),
      p99Us: medianOf(samples.open, (result) => result.p99Us),
      maxUs: Math.max(...samples.open.map((result) => result.maxUs)),
      errors: samples.open.reduce((sum, result) => sum + result.errors + result.non2xx, 0),
    },
    rssIdleMB: rssIdle === null ? null : toMB(rssIdle),
    idle,
    // Peak, not median: memory is a limit, the worst window is what a pod must be sized for.
    rssLoadMB: peakRssBytes === null ? null : toMB(peakRssBytes),
    failures: failures([...samples.c32, ...samples.c1, ...samples.c16, ...samples.get1MiB, ...samples.post64KiB]),
    streaming: { get1MiB: throughput(samples.get1MiB), post64KiB: throughput(samples.post64KiB) },
  };
}

export async function compareTargets(
  slots: readonly TargetSlot[],
  settings: BenchSettings,
  generate: ClosedLoopGenerator,
  log: (message: string) => void,
): Promise<TargetResult[]> {
  const running = slots.map((slot) => slot.target).filter((target): target is Target => target !== undefined);
  const idleRss = new Map(running.map((target) => [target.name, target.pid === undefined ? null : rssBytes(target.pid)]));
  log(`idle: ${settings.idleSettleS} s to settle, then a ${settings.idleS} s window`);
  const idle = await measureIdle(running, settings.idleSettleS, settings.idleS);
  const samples = new Map<string, Samples>(
    running.map((target) => [target.name, { c32: [], c1: [], c16: [], open: [], get1MiB: [], post64KiB: [] }]),
  );
  const window = (target: Target, connections: number, path = '/', postBodyBytes?: number, durationS = settings.windowS) =>
    measureWindow(generate, target.pid, { url: `${target.url}${path}`, connections, durationS, postBodyBytes });

  for (const target of running) {
    log(`warm-up ${target.name}`);
    await window(target, CLOSED_LOOP_CONNECTIONS, '/', undefined, settings.warmupS);
  }
  for (let round = 1; round <= settings.rounds; round++) {
    for (const [kind, connections] of [['c32', CLOSED_LOOP_CONNECTIONS], ['c1', 1], ['c16', 16]] as const) {
      for (const target of running) {
        log(`round ${round}/${settings.rounds}: ${kind} ${target.name}`);
        samples.get(target.name)?.[kind].push(await window(target, connections));
      }
    }
    for (const target of running) {
      log(`round ${round}/${settings.rounds}: open loop ${settings.openLoopRps} rps ${target.name}`);
      const result = await nodeOpenLoop({ url: `${target.url}/`, rps: settings.openLoopRps, durationS: settings.windowS });
      samples.get(target.name)?.open.push(result);
    }
    for (const target of running) {
      log(`round ${round}/${settings.rounds}: streaming ${target.name}`);
      const taken = samples.get(target.name);
      taken?.get1MiB.push(await window(target, STREAMING_CONNECTIONS, '/big', undefined, settings.streamingS));
      taken?.post64KiB.push(await window(target, STREAMING_CONNECTIONS, '/', POST_BODY_BYTES, settings.streamingS));
    }
  }

  return slots.map(({ name, label, target, skipped }): TargetResult => {
    const measured = target && samples.get(name);
    if (!measured) return { name, label, skipped: skipped ?? 'not started' };
    return { name, label, figures: figuresFrom(measured, idleRss.get(name) ?? null, idle.get(name) ?? null) };
  });
}
