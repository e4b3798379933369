// `npm run bench -- --hostile [DURATION]`: Breakwater in front of the Node upstream, for DURATION (10 min by default),
// under slowloris, stalled bodies, aborting clients and policy reloads at once, beside normal traffic at a steady
// rate. Every few seconds it reads the proxy's RSS, open files and bulkhead gauges; once the load stops it waits a
// bounded settle period for every bulkhead gauge to return to 0, then sends one request down every route. The report
// says what normal traffic kept (2xx share, p50/p99), what each hostile client saw, and whether memory and bulkhead
// slots came back.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startBreakwater, type BreakwaterInstance } from '../targets/breakwater.js';
import { scrapeBreakwater, type BreakwaterMetrics } from './breakwater-metrics.js';
import { pinThisProcess } from '../harness/children.js';
import { bulkheadSummary } from '../report/format.js';
import { abortingClient, runAttacker, slowloris, stalledBody, type AttackerSpec } from './clients.js';
import { SETTLE_LIMIT_S } from './goals.js';
import { hostilePolicy, QUEUED_PREFIX, rewritePolicy, UPSTREAM_HOSTS } from './policy.js';
import { toMB } from '../load/measure-window.js';
import { nodeOpenLoop, type OpenLoopResult, type PlannedRequest } from '../load/node-load.js';
import { cpuTimeUs, openFileCount, openFileLimit, rssBytes } from '../harness/proc-stats.js';
import type { HostileFigures, HostileReport, HostileSample, NormalTrafficFigures, RouteProbe } from '../report/results.js';
import { startNodeUpstream } from '../targets/upstream.js';

export interface HostileEnvironment {
  scratchDir: string;
  proxyCpus: string | undefined;
  /** Where the upstream and this process (every client) run: away from the proxy's core. */
  clientCpus: string | undefined;
}

/** How hard each client pushes; a smoke run scales everything down. */
export interface HostileLoad {
  normalRps: number;
  /** Upper bound; the proxy's and this process's open-file limits may lower it (a quarter of the lower limit). */
  maxSlowlorisConnections: number;
  stalledBodyConnections: number;
  abortingClients: number;
  reloadEveryS: number;
  sampleEveryS: number;
  /** Before the load: how long the idle proxy runs before its baseline RSS is read. */
  baselineWaitS: number;
}

const FULL_LOAD: HostileLoad = {
  normalRps: 200,
  maxSlowlorisConnections: 1000,
  stalledBodyConnections: 50,
  abortingClients: 16,
  reloadEveryS: 5,
  sampleEveryS: 5,
  baselineWaitS: 2,
};
const SMOKE_LOAD: HostileLoad = {
  normalRps: 100,
  maxSlowlorisConnections: 50,
  stalledBodyConnections: 5,
  abortingClients: 4,
  reloadEveryS: 1,
  sampleEveryS: 0.5,
  baselineWaitS: 0.5,
};
const SETTLE_POLL_MS = 500;
const PROBE_TIMEOUT_MS = 5000;
const RELOAD_GRACE_MS = 1000;
const SLOWLORIS_RECONNECT_MS = 1000;
const STALLED_RECONNECT_MS = 1000;
const ABORTING_RECONNECT_MS = 100;
/** First connections are spread over this share of the run, at most MAX_RAMP_MS. */
const RAMP_SHARE = 0.1;
const MAX_RAMP_MS = 2000;
const POST_BODY = Buffer.alloc(512, 'p');

/** Normal traffic, in turn: fast, an idempotent POST, a slower answer, and the route with injected delays. */
const NORMAL_MIX: readonly PlannedRequest[] = [
  { path: '/fast' },
  { path: '/echo', body: POST_BODY, headers: { 'content-type': 'application/octet-stream', 'idempotency-key': 'normal' } },
  { path: '/slow?ms=20' },
  { path: '/delayed/fast' },
];

/** One request down each route, the queued one too, once the load is over. */
const AFTER_LOAD_PROBES: readonly PlannedRequest[] = [...NORMAL_MIX, { path: `${QUEUED_PREFIX}/fast` }];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const port = (url: string): number => Number(new URL(url).port);

/** Normal traffic's answers, by path and status, and the failures not yet in a sample. */
class NormalAnswers {
  readonly byPath: Record<string, Record<string, number>> = {};
  private failedSinceTaken = 0;

  count(path: string, status: number): void {
    const statuses = (this.byPath[path] ??= {});
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status < 200 || status >= 300) this.failedSinceTaken++;
  }

  takeFailed(): number {
    const failed = this.failedSinceTaken;
    this.failedSinceTaken = 0;
    return failed;
  }
}

/**
 * Readings of the proxy (RSS, open files, bulkhead gauges) and, since the reading before, of normal traffic's failures
 * and the CPU the proxy and this process (every client) used: a client near a full core measures itself.
 */
class Sampler {
  private cpuAt = performance.now();
  private proxyCpuUs: number;
  private clientCpu = process.cpuUsage();

  constructor(
    private readonly breakwater: BreakwaterInstance,
    private readonly answers: NormalAnswers,
  ) {
    this.proxyCpuUs = cpuTimeUs(breakwater.process.pid);
  }

  /** `loadStartedAt`: the readings' time is given since then. */
  async take(phase: HostileSample['phase'], loadStartedAt: number): Promise<[HostileSample, BreakwaterMetrics | undefined]> {
    const pid = this.breakwater.process.pid;
    const now = performance.now();
    const percentOfCore = (cpuUs: number): number => (cpuUs / 1000 / Math.max(1, now - this.cpuAt)) * 100;
    const proxyCpuUs = cpuTimeUs(pid);
    const clientCpu = process.cpuUsage(this.clientCpu);
    const reading = {
      atS: (Date.now() - loadStartedAt) / 1000,
      phase,
      rssMB: toMB(rssBytes(pid)),
      openFiles: openFileCount(pid),
      proxyCpuPercent: percentOfCore(proxyCpuUs - this.proxyCpuUs),
      clientCpuPercent: percentOfCore(clientCpu.user + clientCpu.system),
      normalFailed: this.answers.takeFailed(),
    };
    this.cpuAt = now;
    this.proxyCpuUs = proxyCpuUs;
    this.clientCpu = process.cpuUsage();
    const metrics = await scrapeBreakwater(this.breakwater.adminUrl);
    return [{ ...reading, bulkheads: metrics?.bulkheads ?? null }, metrics];
  }
}

function normalFigures(result: OpenLoopResult, answers: NormalAnswers): NormalTrafficFigures {
  const succeeded = Object.entries(result.statuses)
    .filter(([status]) => status.startsWith('2'))
    .reduce((total, [, count]) => total + count, 0);
  return {
    rps: result.targetRps,
    sent: result.sent,
    statuses: result.statuses,
    statusesByPath: answers.byPath,
    unanswered: result.errors,
    successRate: succeeded / result.sent,
    p50Us: result.p50Us,
    p99Us: result.p99Us,
    maxUs: result.maxUs,
  };
}

/** Runs `work` every `everyS` (one run at a time) until `until` settles; resolves once the last run is over. */
async function every(everyS: number, until: Promise<unknown>, work: () => void | Promise<void>): Promise<void> {
  let runs = Promise.resolve();
  const timer = setInterval(() => (runs = runs.then(work)), everyS * 1000);
  await until.finally(() => clearInterval(timer));
  await runs;
}

async function probe(baseUrl: string, request: PlannedRequest): Promise<RouteProbe> {
  const startedAt = performance.now();
  const ms = (): number => Math.round(performance.now() - startedAt);
  try {
    const response = await fetch(new URL(request.path, baseUrl), {
      method: request.body ? 'POST' : 'GET',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    await response.arrayBuffer();
    return { path: request.path, status: response.status, ms: ms() };
  } catch {
    return { path: request.path, status: null, ms: ms() };
  }
}

export async function measureHostile(
  env: HostileEnvironment,
  durationS: number,
  smoke: boolean,
  log: (message: string) => void,
): Promise<Pick<HostileReport, 'settings' | 'hostile'>> {
  const load = smoke ? SMOKE_LOAD : FULL_LOAD;
  const upstream = await startNodeUpstream('hostile-upstream', UPSTREAM_HOSTS, env.clientCpus);
  // The policy gets a directory of its own: the proxy watches the policy's directory, and the harness logs elsewhere.
  const policyDir = join(env.scratchDir, 'hostile-policy');
  mkdirSync(policyDir, { recursive: true });
  const breakwater = await startBreakwater('breakwater-hostile', policyDir, hostilePolicy(upstream.port, 0), env.proxyCpus);
  pinThisProcess(env.clientCpus);
  const proxyPort = port(breakwater.url);
  const proxyFileLimit = openFileLimit(breakwater.process.pid);
  const slowlorisConnections = Math.min(load.maxSlowlorisConnections, Math.floor(Math.min(proxyFileLimit, openFileLimit(process.pid)) / 4));

  const samples: HostileSample[] = [];
  const answers = new NormalAnswers();
  // The baseline's CPU figures are those of the idle wait.
  const sampler = new Sampler(breakwater, answers);
  await sleep(load.baselineWaitS * 1000);
  const loadStartedAt = Date.now();
  const [baseline] = await sampler.take('baseline', loadStartedAt);
  samples.push(baseline);
  const deadline = loadStartedAt + durationS * 1000;
  const rampMs = Math.min(MAX_RAMP_MS, durationS * 1000 * RAMP_SHARE);
  log(`hostile: ${durationS} s of normal traffic at ${load.normalRps} rps, ${slowlorisConnections} slowloris, ` +
    `${load.stalledBodyConnections} stalled bodies, ${load.abortingClients} aborting clients, a reload every ${load.reloadEveryS} s`);

  const attack = (spec: AttackerSpec) => runAttacker(proxyPort, spec, deadline, rampMs);
  const hostileClients = Promise.all([
    attack({ workers: slowlorisConnections, reconnectMs: SLOWLORIS_RECONNECT_MS, script: slowloris }),
    attack({ workers: load.stalledBodyConnections, reconnectMs: STALLED_RECONNECT_MS, script: stalledBody }),
    attack({ workers: load.abortingClients, reconnectMs: ABORTING_RECONNECT_MS, script: abortingClient }),
  ]);
  const normal = nodeOpenLoop({
    url: breakwater.url,
    rps: load.normalRps,
    durationS,
    mix: NORMAL_MIX,
    onAnswer: ({ path, status }) => answers.count(path, status),
  });
  const allLoad = Promise.all([hostileClients, normal]);
  let reloadsWritten = 0;
  const reloads = every(load.reloadEveryS, hostileClients, () => {
    rewritePolicy(breakwater.configFile, hostilePolicy(upstream.port, ++reloadsWritten));
  });
  // Normal traffic may drain past the deadline; sampling goes on until it is over.
  const sampling = every(load.sampleEveryS, allLoad, async () => {
    const [reading] = await sampler.take('load', loadStartedAt);
    samples.push(reading);
    log(`hostile +${reading.atS.toFixed(0)} s: RSS ${reading.rssMB.toFixed(1)} MB, ${reading.openFiles} open files, ` +
      `CPU ${reading.proxyCpuPercent.toFixed(0)}% proxy / ${reading.clientCpuPercent.toFixed(0)}% clients, ` +
      `${reading.normalFailed} normal requests failed, bulkheads (active/queued) ${bulkheadSummary(reading.bulkheads)}`);
  });
  const [[slowlorisFigures, stalledFigures, abortingFigures], normalResult] = await allLoad;
  await Promise.all([reloads, sampling]);
  if (breakwater.process.hasExited()) throw new Error(`Breakwater exited during the hostile soak:\n${breakwater.process.output()}`);

  // Settle: poll until every bulkhead gauge is 0, at most SETTLE_LIMIT_S.
  const settleStartedAt = Date.now();
  let settledAfterS: number | null = null;
  let last: BreakwaterMetrics | undefined;
  for (;;) {
    const [reading, metrics] = await sampler.take('settle', loadStartedAt);
    samples.push(reading);
    last = metrics ?? last;
    const elapsedS = (Date.now() - settleStartedAt) / 1000;
    if (metrics && metrics.bulkheads.every((gauge) => gauge.active === 0 && gauge.queued === 0)) {
      settledAfterS = elapsedS;
      break;
    }
    if (elapsedS >= SETTLE_LIMIT_S) break;
    await sleep(SETTLE_POLL_MS);
  }
  // A rewrite just before the end may still be in the watcher's debounce.
  let reloadResults = last?.reloads;
  if (reloadResults && reloadResults.succeeded + reloadResults.failed < reloadsWritten) {
    await sleep(RELOAD_GRACE_MS);
    reloadResults = (await scrapeBreakwater(breakwater.adminUrl))?.reloads ?? reloadResults;
  }
  const afterLoad = await Promise.all(AFTER_LOAD_PROBES.map((request) => probe(breakwater.url, request)));
  await breakwater.process.stop();

  const rssValues = samples.map((entry) => entry.rssMB);
  const hostile: HostileFigures = {
    durationS,
    normal: normalFigures(normalResult, answers),
    slowloris: slowlorisFigures,
    stalledBodies: stalledFigures,
    aborting: abortingFigures,
    reloads: { written: reloadsWritten, succeeded: reloadResults?.succeeded ?? null, failed: reloadResults?.failed ?? null },
    samples,
    rss: { baselineMB: baseline.rssMB, peakMB: Math.max(...rssValues), endMB: samples[samples.length - 1]!.rssMB },
    afterLoad,
    bulkheadsAfterSettle: last?.bulkheads ?? [],
    settledAfterS,
    listenerRejected: last?.listenerRejected ?? null,
  };
  return {
    settings: {
      upstream: 'Node server: fast, delayed (/slow) and trickled (/trickle) answers',
      pinning: env.proxyCpus === undefined ? 'No CPU pinning (needs taskset and 2+ CPUs)' : 'Proxy pinned to CPU 0; upstream and every client to CPU 1 (taskset)',
      normalRps: load.normalRps,
      slowlorisConnections,
      stalledBodyConnections: load.stalledBodyConnections,
      abortingClients: load.abortingClients,
      reloadEveryS: load.reloadEveryS,
      sampleEveryS: load.sampleEveryS,
      settleLimitS: SETTLE_LIMIT_S,
      proxyOpenFileLimit: Number.isFinite(proxyFileLimit) ? proxyFileLimit : null,
    },
    hostile,
  };
}
