// The HTTP/2 and gRPC comparison (`npm run bench -- --h2`): per protocol, its upstream and its targets
// (targets/h2-targets.ts), one short probe window per target (a target that cannot carry the protocol is skipped,
// saying why, instead of filling its rows with failures), then interleaved rounds as in the HTTP/1.1 comparison: round 1
// of every target, then round 2, ..., medians reported and the closed-loop rounds kept for round-by-round ratios.
import { commandAvailable } from '../harness/tools.js';
import { rssBytes } from '../harness/proc-stats.js';
import { grpcUnaryLoad } from '../load/grpc-unary-load.js';
import { H2LOAD_INSTALL_HINT, h2loadGenerator } from '../load/h2load.js';
import type { ClosedLoopGenerator } from '../load/load-types.js';
import { cpuAndPeakRss, measureWindow, median, toMB, type WindowMeasurement } from '../load/measure-window.js';
import type { BenchSettings } from '../options.js';
import type { H2Comparisons, H2Concurrency, H2ProtocolResult, H2TargetFigures, H2TargetResult } from '../report/results.js';
import { startTargets, type Target, type TargetEnvironment, type TargetSlot } from '../targets/comparison-targets.js';
import { h2TargetDefinitions, type H2ProtocolName } from '../targets/h2-targets.js';
import { startServerUpstream } from '../targets/upstream.js';
import { difference, pairedRatio, ratio } from './goals.js';

/** Throughput and CPU per request: 32 requests in flight, as in the HTTP/1.1 comparison, over 4 multiplexed connections. */
export const H2_WINDOWS: Readonly<Record<'throughput' | 'c1' | 'c16', H2Concurrency>> = {
  throughput: { connections: 4, streams: 8 },
  c1: { connections: 1, streams: 1 },
  // One connection with 16 streams: how an HTTP/2 client (a gRPC channel) runs 16 calls at once.
  c16: { connections: 1, streams: 16 },
};
const PROBE_S = 0.2;

interface H2Protocol {
  name: H2ProtocolName;
  label: string;
  load: string;
  upstreamScript: string;
  upstream: string;
  /** Why this machine cannot load the protocol; undefined when it can. */
  unavailable(): string | undefined;
  generator(scratchDir: string): ClosedLoopGenerator;
}

const PROTOCOLS: readonly H2Protocol[] = [
  {
    name: 'h2c',
    label: 'HTTP/2 cleartext (h2c), prior knowledge',
    load: 'h2load, GET /',
    upstreamScript: 'h2c-upstream',
    upstream: 'node:http2 server answering 200 "ok"',
    unavailable: () => (commandAvailable('h2load', ['--version']) ? undefined : `h2load not installed (${H2LOAD_INSTALL_HINT})`),
    generator: (scratchDir) => h2loadGenerator(scratchDir),
  },
  {
    name: 'grpc',
    label: 'gRPC unary (breakwater.demo.Demo/Unary)',
    load: '@grpc/grpc-js client in the harness process, Demo.Unary, 5 s deadline per call',
    upstreamScript: 'grpc-upstream',
    upstream: '@grpc/grpc-js server answering Demo.Unary at once',
    unavailable: () => undefined,
    generator: () => grpcUnaryLoad,
  },
];

export interface H2Environment extends Omit<TargetEnvironment, 'upstream'> {
  upstreamCpus: string | undefined;
}

interface Samples {
  throughput: WindowMeasurement[];
  c1: WindowMeasurement[];
  c16: WindowMeasurement[];
}

const medianOf = <T>(list: readonly T[], pick: (item: T) => number): number => median(list.map(pick));

/** A short window at c=1 through every started target: one that fails it is skipped with what went wrong. */
async function probed(slots: readonly TargetSlot[], generate: ClosedLoopGenerator): Promise<TargetSlot[]> {
  const checked: TargetSlot[] = [];
  for (const slot of slots) {
    if (!slot.target) {
      checked.push(slot);
      continue;
    }
    let problem: string | undefined;
    try {
      const probe = await generate({ url: `${slot.target.url}/`, ...H2_WINDOWS.c1, durationS: PROBE_S });
      if (probe.requests === 0 || probe.non2xx + probe.socketErrors > 0) {
        problem = `${probe.requests} requests done, ${probe.non2xx} of them with a failing status, ${probe.socketErrors} without an answer`;
      }
    } catch (error) {
      problem = (error as Error).message;
    }
    checked.push(problem === undefined ? slot : { name: slot.name, label: slot.label, skipped: `failed its ${PROBE_S} s probe: ${problem}` });
  }
  return checked;
}

function figuresFrom(samples: Samples, rssIdle: number | null): H2TargetFigures {
  const { cpuUsPerRequest, peakRssBytes } = cpuAndPeakRss(samples.throughput);
  const latency = (windows: readonly WindowMeasurement[]) => ({
    p50Us: medianOf(windows, (w) => w.load.p50Us),
    p99Us: medianOf(windows, (w) => w.load.p99Us),
  });
  return {
    cpuUsPerRequest,
    closedLoopRps: medianOf(samples.throughput, (w) => w.load.rps),
    closedLoopRounds: samples.throughput.map((w) => ({ cpuUsPerRequest: w.cpuUsPerRequest, rps: w.load.rps })),
    c1: latency(samples.c1),
    c16: latency(samples.c16),
    rssIdleMB: rssIdle === null ? null : toMB(rssIdle),
    rssLoadMB: peakRssBytes === null ? null : toMB(peakRssBytes),
    failures: [...samples.throughput, ...samples.c1, ...samples.c16].reduce((sum, { load }) => sum + load.non2xx + load.socketErrors, 0),
  };
}

async function measureRounds(
  slots: readonly TargetSlot[],
  settings: BenchSettings,
  generate: ClosedLoopGenerator,
  log: (message: string) => void,
): Promise<H2TargetResult[]> {
  const running = slots.map((slot) => slot.target).filter((target): target is Target => target !== undefined);
  const idleRss = new Map(running.map((target) => [target.name, target.pid === undefined ? null : rssBytes(target.pid)]));
  const samples = new Map<string, Samples>(running.map((target) => [target.name, { throughput: [], c1: [], c16: [] }]));
  const window = (target: Target, concurrency: H2Concurrency, durationS = settings.windowS) =>
    measureWindow(generate, target.pid, { url: `${target.url}/`, ...concurrency, durationS });

  for (const target of running) {
    log(`warm-up ${target.name}`);
    await window(target, H2_WINDOWS.throughput, settings.warmupS);
  }
  for (let round = 1; round <= settings.rounds; round++) {
    for (const kind of ['throughput', 'c1', 'c16'] as const) {
      for (const target of running) {
        log(`round ${round}/${settings.rounds}: ${kind} ${target.name}`);
        samples.get(target.name)?.[kind].push(await window(target, H2_WINDOWS[kind]));
      }
    }
  }
  return slots.map(({ name, label, target, skipped }): H2TargetResult => {
    const measured = target && samples.get(name);
    if (!measured) return { name, label, skipped: skipped ?? 'not started' };
    return { name, label, figures: figuresFrom(measured, idleRss.get(name) ?? null) };
  });
}

/** Every target's ratios to direct, HAProxy and nginx of the same protocol and run. */
export function withH2Comparisons(targets: readonly H2TargetResult[]): H2TargetResult[] {
  const figuresOf = (name: string): H2TargetFigures | undefined => targets.find((target) => target.name === name)?.figures;
  const direct = figuresOf('direct');
  const haproxy = figuresOf('haproxy');
  const nginx = figuresOf('nginx');
  return targets.map((target) => {
    const own = target.figures;
    if (!own) return target;
    const comparisons: H2Comparisons = {
      cpuVsHaproxy: pairedRatio(own, haproxy, 'cpuUsPerRequest'),
      cpuVsNginx: pairedRatio(own, nginx, 'cpuUsPerRequest'),
      rpsVsDirect: pairedRatio(own, direct, 'rps'),
      rpsVsHaproxy: pairedRatio(own, haproxy, 'rps'),
      rpsVsNginx: pairedRatio(own, nginx, 'rps'),
      c1AddedP50Us: difference(own.c1.p50Us, direct?.c1.p50Us),
      c1AddedP99Us: difference(own.c1.p99Us, direct?.c1.p99Us),
      c16P99VsHaproxy: ratio(own.c16.p99Us, haproxy?.c16.p99Us),
      c16P99VsNginx: ratio(own.c16.p99Us, nginx?.c16.p99Us),
    };
    return { ...target, comparisons };
  });
}

/** Both protocols, one after the other; a protocol's targets keep running (idle) while the next is measured. */
export async function measureH2(env: H2Environment, settings: BenchSettings, log: (message: string) => void): Promise<H2ProtocolResult[]> {
  const results: H2ProtocolResult[] = [];
  for (const protocol of PROTOCOLS) {
    const { name, label, load } = protocol;
    const definitions = h2TargetDefinitions(name);
    const unavailable = protocol.unavailable();
    if (unavailable) {
      log(`${name}: skipped, ${unavailable}`);
      results.push({ name, label, load, upstream: '-', targets: definitions.map((target) => ({ name: target.name, label: target.label, skipped: unavailable })) });
      continue;
    }
    const upstream = await startServerUpstream(`${name}-upstream`, protocol.upstreamScript, [], env.upstreamCpus);
    log(`${name}: upstream at ${upstream.address}; load: ${load}`);
    const generate = protocol.generator(env.scratchDir);
    const slots = await probed(await startTargets({ ...env, upstream: upstream.address }, definitions), generate);
    for (const slot of slots.filter((entry) => entry.skipped)) log(`${name}: skipped ${slot.name}: ${slot.skipped}`);
    const measured = await measureRounds(slots, settings, generate, (message) => log(`${name}: ${message}`));
    results.push({ name, label, load, upstream: protocol.upstream, targets: withH2Comparisons(measured) });
  }
  return results;
}
