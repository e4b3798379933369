// Does Breakwater's per-request cost stay flat as the policy grows? Same load, bigger configs.
import { breakwaterConfig, pooledUpstream, realisticRoute, startBreakwater } from './breakwater.js';
import type { ClosedLoopGenerator } from './load-types.js';
import { measureWindow, toMB } from './measure-window.js';
import type { BenchSettings } from './options.js';
import { rssBytes } from './proc-stats.js';
import type { ScaleResult } from './results.js';

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

async function measureCase(
  scaleCase: ScaleCase,
  env: ScaleEnvironment,
  settings: BenchSettings,
  generate: ClosedLoopGenerator,
): Promise<ScaleResult['figures']> {
  const { config, path } = scaleConfig(scaleCase, env);
  const breakwater = await startBreakwater(`breakwater-${scaleCase.name}`, env.scratchDir, config, env.proxyCpus);
  try {
    const pid = breakwater.process.pid;
    const rssIdle = rssBytes(pid);
    const spec = { url: `${breakwater.url}${path}`, connections: 32, durationS: settings.warmupS };
    await measureWindow(generate, pid, spec);
    const window = await measureWindow(generate, pid, { ...spec, durationS: settings.windowS });
    if (window.load.non2xx + window.load.socketErrors > 0) {
      throw new Error(`${window.load.non2xx + window.load.socketErrors} failed requests on ${path}`);
    }
    return {
      cpuUsPerRequest: window.cpuUsPerRequest ?? Number.NaN,
      rps: window.load.rps,
      rssIdleMB: toMB(rssIdle),
      rssLoadMB: toMB(window.peakRssBytes ?? Number.NaN),
    };
  } finally {
    await breakwater.process.stop();
  }
}

/** A smoke run only proves the biggest configs generate and start; the small ones are subsets. */
const SMOKE_CASES = new Set(['routes-1000', 'endpoints-200']);

export async function measureScale(
  env: ScaleEnvironment,
  settings: BenchSettings,
  smoke: boolean,
  generate: ClosedLoopGenerator,
  log: (message: string) => void,
): Promise<ScaleResult[]> {
  const results: ScaleResult[] = [];
  for (const scaleCase of SCALE_CASES) {
    const base = { ...scaleCase, breakers: scaleCase.routes };
    const skipped = env.breakwaterUnavailable ?? (smoke && !SMOKE_CASES.has(scaleCase.name) ? 'not run in --smoke' : undefined);
    if (skipped) {
      results.push({ ...base, skipped });
      continue;
    }
    log(`scale: ${scaleCase.name}`);
    try {
      results.push({ ...base, figures: await measureCase(scaleCase, env, settings, generate) });
    } catch (error) {
      results.push({ ...base, skipped: `failed: ${(error as Error).message}` });
    }
  }
  return results;
}
