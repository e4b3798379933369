// `npm run bench -- --soak [DURATION]`: Breakwater with the realistic policy under open-loop load at
// half its measured maximum rate, for DURATION (10 min by default), in windows. The maximum is the lower of
// the closed-loop maximum and what one core carries open loop: without a closed loop's batching a request
// costs the proxy more CPU (82-209 us in the soaks of 2026-12-03/04, ~80 us closed loop), so half the
// closed-loop maximum could fill the core and the soak measured a backlog. Each window records
// latency at the client, the proxy's CPU per request, its RSS (median and peak), and its live-heap
// floor: the lowest heap-used figure Breakwater's own /metrics reported in the window, i.e. what
// survived collection. A leak shows as memory that is higher in the second half of the steady state
// than in the first. Medians are judged, not extremes: a moment of backlog (a noisy neighbour slowing the
// proxy's core) raises one window's RSS without anything leaking.
import { realisticConfig, startBreakwater } from '../targets/breakwater.js';
import { pinThisProcess } from '../harness/children.js';
import type { ClosedLoopGenerator } from '../load/load-types.js';
import { median, toMB } from '../load/measure-window.js';
import { nodeOpenLoop } from '../load/node-load.js';
import { OPEN_LOOP_PROBE_S, type BenchSettings } from '../options.js';
import { cpuTimeUs, trackRss } from '../harness/proc-stats.js';
import type { GoalResult, SoakFigures, SoakWindow } from '../report/results.js';

export interface SoakEnvironment {
  scratchDir: string;
  /** host:port of the upstream. */
  upstream: string;
  proxyCpus: string | undefined;
  /** Where the open-loop client (this process) runs once the maximum is measured: away from the proxy's core. */
  clientCpus: string | undefined;
}

export interface SoakRequest {
  durationS: number;
  /** Fixed rate; undefined measures the maximum first (see above) and runs at half of it. */
  rps: number | undefined;
}

const WINDOWS = 20;
const MIN_WINDOW_S = 0.5;
/** Memory settles over the first minute (pools fill, code is optimised); a short soak warms up for 20%. */
const MAX_WARMUP_S = 60;
const WARMUP_SHARE = 0.2;
const HEAP_SCRAPE_MS = 2000;
const SCRAPE_TIMEOUT_MS = 2000;
/** Tolerated second-half / first-half ratio: V8 sizes its spaces in steps, so equal is not exact. */
export const SOAK_GROWTH_LIMIT = 1.05;
/** A steady window must carry this share of the asked rate, with no failures, for the growth verdict to count. */
const HELD_RATE_SHARE = 0.95;
const HEAP_USED = /^nodejs_heap_size_used_bytes (\S+)$/m;
const US_PER_S = 1_000_000;
const half = (rps: number): number => Math.max(1, Math.floor(rps / 2));

async function heapUsedBytes(adminUrl: string): Promise<number | undefined> {
  try {
    const response = await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
    const match = HEAP_USED.exec(await response.text());
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined; // a missed scrape leaves the window's floor to the others
  }
}

/** Lowest heap-used value scraped while `during` runs. */
async function trackHeapFloor<T>(adminUrl: string, intervalMs: number, during: Promise<T>): Promise<[T, number | null]> {
  let floor = Number.POSITIVE_INFINITY;
  let done = false;
  const scrapes = (async () => {
    while (!done) {
      const used = await heapUsedBytes(adminUrl);
      if (used !== undefined) floor = Math.min(floor, used);
      if (!done) await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  const result = await during.finally(() => (done = true));
  await scrapes;
  return [result, Number.isFinite(floor) ? toMB(floor) : null];
}

const steadyWindows = (windows: readonly SoakWindow[]): SoakWindow[] => windows.filter((window) => !window.warmup);

/**
 * Median of the second half of the steady windows over the median of the first (an odd count drops the middle one).
 * A leak moves the typical window; a median ignores the odd window that caught a backlog or a collection.
 */
function growth(windows: readonly SoakWindow[], pick: (window: SoakWindow) => number | null): number | null {
  const steady = steadyWindows(windows);
  const half = Math.floor(steady.length / 2);
  const values = (part: readonly SoakWindow[]): number[] =>
    part.map(pick).filter((value): value is number => value !== null);
  const first = values(steady.slice(0, half));
  const second = values(steady.slice(steady.length - half));
  return first.length === 0 || second.length === 0 ? null : median(second) / median(first);
}

export async function measureSoak(
  env: SoakEnvironment,
  request: SoakRequest,
  settings: BenchSettings,
  smoke: boolean,
  generate: ClosedLoopGenerator,
  log: (message: string) => void,
): Promise<SoakFigures> {
  const breakwater = await startBreakwater('breakwater-soak', env.scratchDir, realisticConfig(env.upstream), env.proxyCpus);
  const pid = breakwater.process.pid;
  let maxRps: number | null = null;
  let openLoopMaxRps: number | null = null;
  let rps = request.rps ?? settings.openLoopRps;
  if (request.rps === undefined && !smoke) {
    await generate({ url: breakwater.url, connections: 32, durationS: settings.warmupS });
    const rounds: number[] = [];
    for (let round = 0; round < settings.rounds; round++) {
      rounds.push((await generate({ url: breakwater.url, connections: 32, durationS: settings.windowS })).rps);
    }
    maxRps = median(rounds);
  }
  // All of this process's threads; wrk, used above for the maximum, had to run unpinned like in the main bench.
  pinThisProcess(env.clientCpus);
  if (maxRps !== null) {
    // Probed at the rate the closed loop alone would give: a request's CPU falls as the rate rises (more of them share
    // a wake-up), so a slower probe would underrate the core; one at that rate says whether it carries it.
    const cpuBefore = cpuTimeUs(pid);
    const probe = await nodeOpenLoop({ url: breakwater.url, rps: half(maxRps), durationS: OPEN_LOOP_PROBE_S });
    if (probe.completed > 0) openLoopMaxRps = US_PER_S / ((cpuTimeUs(pid) - cpuBefore) / probe.completed);
    rps = half(Math.min(maxRps, openLoopMaxRps ?? Number.POSITIVE_INFINITY));
  }
  const windowS = Math.max(MIN_WINDOW_S, request.durationS / WINDOWS);
  const count = Math.max(1, Math.round(request.durationS / windowS));
  const warmupS = Math.min(MAX_WARMUP_S, WARMUP_SHARE * request.durationS);
  // By count, not by the clock: a window runs a little past windowS while its last requests drain.
  const warmupWindows = Math.ceil(warmupS / windowS);
  const maxima = maxRps === null ? '' : ` (max ${Math.round(maxRps)} rps closed loop, ${openLoopMaxRps === null ? '-' : Math.round(openLoopMaxRps)} open loop)`;
  log(`soak: ${rps} rps for ${count} windows of ${windowS} s${maxima}`);

  const windows: SoakWindow[] = [];
  const startedAt = Date.now();
  for (let index = 0; index < count; index++) {
    if (breakwater.process.hasExited()) throw new Error(`Breakwater exited during the soak:\n${breakwater.process.output()}`);
    const cpuBefore = cpuTimeUs(pid);
    const clientCpuBefore = process.cpuUsage();
    const windowStartedAt = Date.now();
    const rss = trackRss(pid);
    const scrapeMs = Math.min(HEAP_SCRAPE_MS, (windowS * 1000) / 2);
    const load = nodeOpenLoop({ url: breakwater.url, rps, durationS: windowS }).finally(() => rss.stop());
    const [result, heapFloorMB] = await trackHeapFloor(breakwater.adminUrl, scrapeMs, load);
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const endS = (Date.now() - startedAt) / 1000;
    const { medianBytes, peakBytes } = rss.stop();
    const window: SoakWindow = {
      endS,
      achievedRps: result.achievedRps,
      p50Us: result.p50Us,
      p99Us: result.p99Us,
      failed: result.errors + result.non2xx,
      cpuUsPerRequest: result.completed > 0 ? (cpuTimeUs(pid) - cpuBefore) / result.completed : null,
      clientCpuPercent: ((clientCpu.user + clientCpu.system) / 1000 / (Date.now() - windowStartedAt)) * 100,
      rssMedianMB: toMB(medianBytes),
      rssPeakMB: toMB(peakBytes),
      heapFloorMB,
      warmup: index < warmupWindows,
    };
    windows.push(window);
    log(`soak window ${index + 1}/${count}: RSS ${window.rssMedianMB.toFixed(1)} MB (peak ${window.rssPeakMB.toFixed(1)}), heap floor ${window.heapFloorMB?.toFixed(1) ?? '-'} MB, p99 ${Math.round(window.p99Us)} us`);
  }
  await breakwater.process.stop();
  return {
    maxRps,
    openLoopMaxRps,
    rps,
    durationS: request.durationS,
    windowS,
    warmupS,
    windows,
    rssGrowth: growth(windows, (window) => window.rssMedianMB),
    heapGrowth: growth(windows, (window) => window.heapFloorMB),
  };
}

export function evaluateSoakGoals(soak: SoakFigures): GoalResult[] {
  // A window that fell behind its rate or failed requests measured a backlog, not a steady state: no verdict then.
  const steady = steadyWindows(soak.windows);
  const unheld = steady.filter((window) => window.achievedRps < soak.rps * HELD_RATE_SHARE || window.failed > 0).length;
  const verdict = (goal: string, ratio: number | null): GoalResult => {
    if (ratio === null) return { goal, value: 'not enough steady windows', met: null };
    if (unheld > 0) {
      return { goal, value: `${ratio.toFixed(3)}x, not judged: the load fell behind ${soak.rps} rps or failed in ${unheld} of ${steady.length} steady windows`, met: null };
    }
    return { goal, value: `${ratio.toFixed(3)}x`, met: ratio <= SOAK_GROWTH_LIMIT };
  };
  return [
    verdict(`RSS, second half vs first half of the steady state (medians) <= ${SOAK_GROWTH_LIMIT}x`, soak.rssGrowth),
    verdict(`live-heap floor, second half vs first half (medians) <= ${SOAK_GROWTH_LIMIT}x`, soak.heapGrowth),
  ];
}
