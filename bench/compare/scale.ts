// Does Breakwater's per-request cost stay flat as the policy grows? Same load, bigger configs.
import { breakwaterConfig, pooledUpstream, realisticRoute, startBreakwater, type BreakwaterInstance } from '../targets/breakwater.js';
import type { ClosedLoopGenerator, ClosedLoopSpec } from '../load/load-types.js';
import { cpuAndPeakRss, measureWindow, median, toMB, type WindowMeasurement } from '../load/measure-window.js';
import type { BenchSettings } from '../options.js';
import { rssBytes } from '../harness/proc-stats.js';
import type { ScaleResult } from '../report/results.js';

export interface ScaleEnvironment {
  scratchDir: string;
  /** The main upstream listens on this port at every address in `upstreamHosts`. */
  upstreamPort: number;
  upstreamHosts: readonly string[];
  proxyCpus: string | undefined;
  breakwaterUnavailable: string | undefined;
}

interface ScaleCase {
  name: string;
  routes: number;
  endpoints: number;
}

export const SCALE_CASES: readonly ScaleCase[] = [
  { name: 'routes-1', routes: 1, endpoints: 1 },
  { name: 'routes-100', routes: 100, endpoints: 1 },
  { name: 'routes-1000', routes: 1000, endpoints: 1 },
  { name: 'endpoints-2', routes: 1, endpoints: 2 },
  { name: 'endpoints-200', routes: 1, endpoints: 200 },
];

/** Every route has its own breaker, so N routes means N breakers. The last route is the one hit. */
function scaleConfig(scaleCase: ScaleCase, env: ScaleEnvironment): { config: object; path: string } {
  const endpoints = env.upstreamHosts.slice(0, scaleCase.endpoints).map((host) => `${host}:${env.upstreamPort}`);
  if (endpoints.length < scaleCase.endpoints) throw new Error(`only ${endpoints.length} upstream addresses`);
  const routes = Array.from({ length: scaleCase.routes }, (_, index) =>
    realisticRoute(`r${index}`, scaleCase.routes === 1 ? '/' : `/r${index}/`, 'backend'),
  );
  const path = scaleCase.routes === 1 ? '/' : `/r${scaleCase.routes - 1}/x`;
  return { config: breakwaterConfig(routes, [pooledUpstream('backend', endpoints)]), path };
}

interface RunningCase {
  scaleCase: ScaleCase;
  breakwater: BreakwaterInstance;
  spec: ClosedLoopSpec;
  rssIdle: number | null;
  windows: WindowMeasurement[];
  failure?: string;
}

async function startCase(scaleCase: ScaleCase, env: ScaleEnvironment): Promise<RunningCase> {
  const { config, path } = scaleConfig(scaleCase, env);
  const breakwater = await startBreakwater(`breakwater-${scaleCase.name}`, env.scratchDir, config, env.proxyCpus);
  const spec = { url: `${breakwater.url}${path}`, connections: 32, durationS: 0 };
  return { scaleCase, breakwater, spec, rssIdle: rssBytes(breakwater.process.pid), windows: [] };
}

/** One warm-up and one measured window; a case with failed requests is dropped from later rounds. */
async function measureRound(running: RunningCase, settings: BenchSettings, generate: ClosedLoopGenerator): Promise<void> {
  const pid = running.breakwater.process.pid;
  await measureWindow(generate, pid, { ...running.spec, durationS: settings.warmupS });
  const window = await measureWindow(generate, pid, { ...running.spec, durationS: settings.windowS });
  const failed = window.load.non2xx + window.load.socketErrors;
  if (failed > 0) running.failure = `failed: ${failed} failed requests on ${new URL(running.spec.url).pathname}`;
  else running.windows.push(window);
}

function figuresOf(running: RunningCase): ScaleResult['figures'] {
  const { cpuUsPerRequest, peakRssBytes } = cpuAndPeakRss(running.windows);
  return {
    cpuUsPerRequest: cpuUsPerRequest ?? Number.NaN,
    rps: median(running.windows.map((w) => w.load.rps)),
    rssIdleMB: toMB(running.rssIdle ?? Number.NaN),
    // Peak, like the main targets: the worst window is what a pod must be sized for.
    rssLoadMB: toMB(peakRssBytes ?? Number.NaN),
  };
}

/** A smoke run only proves the biggest configs generate and start; the small ones are subsets. */
const SMOKE_CASES = new Set(['routes-1000', 'endpoints-200']);

/**
 * All cases run at once and are measured interleaved (round 1 of every case, then round 2, ...), like the main
 * targets: measured one after another, a noisy minute on a shared machine made one case look 1.6x another.
 */
export async function measureScale(
  env: ScaleEnvironment,
  settings: BenchSettings,
  smoke: boolean,
  generate: ClosedLoopGenerator,
  log: (message: string) => void,
): Promise<ScaleResult[]> {
  const skippedWhy = new Map<string, string>();
  const running: RunningCase[] = [];
  try {
    for (const scaleCase of SCALE_CASES) {
      const skipped = env.breakwaterUnavailable ?? (smoke && !SMOKE_CASES.has(scaleCase.name) ? 'not run in --smoke' : undefined);
      if (skipped) {
        skippedWhy.set(scaleCase.name, skipped);
        continue;
      }
      try {
        running.push(await startCase(scaleCase, env));
      } catch (error) {
        skippedWhy.set(scaleCase.name, `failed: ${(error as Error).message}`);
      }
    }
    for (let round = 1; round <= settings.rounds; round++) {
      for (const one of running.filter((candidate) => candidate.failure === undefined)) {
        log(`scale round ${round}/${settings.rounds}: ${one.scaleCase.name}`);
        await measureRound(one, settings, generate);
      }
    }
  } finally {
    await Promise.all(running.map((one) => one.breakwater.process.stop()));
  }
  return SCALE_CASES.map((scaleCase) => {
    const base = { ...scaleCase, breakers: scaleCase.routes };
    const one = running.find((candidate) => candidate.scaleCase === scaleCase);
    const skipped = skippedWhy.get(scaleCase.name) ?? one?.failure;
    return skipped !== undefined || !one ? { ...base, skipped: skipped ?? 'not run' } : { ...base, figures: figuresOf(one) };
  });
}
