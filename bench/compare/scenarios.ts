// Breakwater-only behaviour costs: fast-fail (breaker open, bulkhead full), one retry, and what hedging does to the
// tail with one slow endpoint of two, at the client.
import type { ClosedLoopGenerator, LoadResult } from '../load/load-types.js';
import { freePort } from '../harness/free-port.js';
import { breakwaterConfig, pooledUpstream, realisticRoute, startBreakwater, type RouteConfig } from '../targets/breakwater.js';
import type { BenchSettings } from '../options.js';
import type { ScenarioResult } from '../report/results.js';

export interface ScenarioEnvironment {
  scratchDir: string;
  /** host:port of the Node upstream (it has /slow, /flaky and /lopsided), on 127.0.0.1 and 127.0.0.2. */
  nodeUpstream: string;
  proxyCpus: string | undefined;
  breakwaterUnavailable: string | undefined;
}

const SLOW_ENDPOINT_MS = 50;
const HEDGE_DELAY = '5ms';
const SLOW_HOST = '127.0.0.2';

const SCENARIOS = [
  { name: 'retry-baseline', label: 'c=1, no retry needed (baseline for the retry row)' },
  { name: 'retry-once', label: 'c=1, one 503 attempt then 200 (backoff 0-1 ms)' },
  { name: 'fast-fail-breaker', label: 'c=1, circuit open (refused endpoint)' },
  { name: 'fast-fail-bulkhead', label: 'c=1, bulkhead full (2 slow calls hold it)' },
  { name: 'slow-endpoint', label: `c=1, one endpoint of two ${SLOW_ENDPOINT_MS} ms slow, no hedging` },
  { name: 'slow-endpoint-hedged', label: `c=1, the same with hedge: { delay: ${HEDGE_DELAY} }` },
] as const;
type ScenarioName = (typeof SCENARIOS)[number]['name'];

const BULKHEAD_SLOTS = 2;
/**
 * The dead route's breaker waits this long before a half-open probe: longer than its warm-up and window together, so
 * every measured request is a short-circuit answer.
 */
const DEAD_RESET_TIMEOUT = '60s';
const PROBE_LIMIT = 200;
const PROBE_DEADLINE_MS = 20_000;

function scenarioRoutes(): RouteConfig[] {
  const retryOnce = realisticRoute('retry', '/flaky', 'scenario');
  // Isolate the retry mechanism: near-zero backoff, and a budget that allows every request one retry.
  Object.assign(retryOnce.retry as object, {
    backoff: { base: '1ms', max: '1ms', jitter: 'full' },
    budget: { ratio: 1, minPerSecond: 100_000 },
  });
  delete retryOnce.circuitBreaker;
  const dead = realisticRoute('dead', '/dead', 'dead');
  Object.assign(dead.circuitBreaker as object, { resetTimeout: DEAD_RESET_TIMEOUT });
  return [
    realisticRoute('baseline', '/ok', 'scenario'),
    retryOnce,
    dead,
    { name: 'bulkhead', match: { pathPrefix: '/slow' }, upstream: 'bulkhead', timeout: '60s' },
    // Both over the same two endpoints; a budget that allows every request its hedge isolates the mechanism.
    { name: 'lopsided', match: { pathPrefix: '/plain/' }, upstream: 'lopsided', timeout: '3s' },
    {
      name: 'hedged',
      match: { pathPrefix: '/hedged/' },
      upstream: 'lopsided',
      timeout: '3s',
      hedge: { delay: HEDGE_DELAY },
      retry: { attempts: 1, budget: { ratio: 1, minPerSecond: 100_000 } },
    },
  ];
}

/** Sends requests one by one until `done` says the proxy is in the wanted state; bounded in count and time. */
async function probeUntil(url: string, done: (response: Response) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + PROBE_DEADLINE_MS;
  for (let sent = 1; sent <= PROBE_LIMIT && Date.now() < deadline; sent++) {
    const response = await fetch(url);
    await response.arrayBuffer();
    if (done(response)) return;
  }
  throw new Error(`${what} not reached after ${PROBE_LIMIT} requests / ${PROBE_DEADLINE_MS} ms`);
}

function figures(load: LoadResult, note: string): ScenarioResult['figures'] {
  return { requests: load.requests, p50Us: load.p50Us, p99Us: load.p99Us, non2xx: load.non2xx + load.socketErrors, note };
}

async function runScenarios(
  env: ScenarioEnvironment,
  settings: BenchSettings,
  generate: ClosedLoopGenerator,
  log: (message: string) => void,
): Promise<Map<ScenarioName, ScenarioResult['figures'] | string>> {
  const deadEndpoint = `127.0.0.1:${await freePort()}`; // nothing listens there: connections are refused
  const config = breakwaterConfig(scenarioRoutes(), [
    pooledUpstream('scenario', [env.nodeUpstream]),
    pooledUpstream('dead', [deadEndpoint]),
    pooledUpstream('lopsided', [env.nodeUpstream, env.nodeUpstream.replace(/^127\.0\.0\.1:/, `${SLOW_HOST}:`)]),
    pooledUpstream('bulkhead', [env.nodeUpstream], {
      maxConnections: BULKHEAD_SLOTS,
      maxConcurrent: BULKHEAD_SLOTS,
      maxPending: 0,
      queueTimeout: '100ms',
    }),
  ]);
  const breakwater = await startBreakwater('breakwater-scenarios', env.scratchDir, config, env.proxyCpus);
  try {
    return await measureAll(breakwater.url, settings, generate, log);
  } finally {
    await breakwater.process.stop();
  }
}

async function measureAll(
  url: string,
  settings: BenchSettings,
  generate: ClosedLoopGenerator,
  log: (message: string) => void,
): Promise<Map<ScenarioName, ScenarioResult['figures'] | string>> {
  const outcomes = new Map<ScenarioName, ScenarioResult['figures'] | string>();
  const c1 = (path: string, durationS = settings.windowS) => generate({ url: `${url}${path}`, connections: 1, durationS });

  log('scenario: retry');
  await c1('/ok', settings.warmupS);
  outcomes.set('retry-baseline', figures(await c1('/ok'), 'every response 200 at the first attempt'));
  await c1('/flaky', settings.warmupS);
  outcomes.set('retry-once', figures(await c1('/flaky'), 'non2xx > 0 means a retry did not happen'));

  log('scenario: breaker open');
  try {
    await probeUntil(`${url}/dead`, (response) => response.headers.get('x-breakwater-circuit') === 'open', 'open circuit');
    // Warmed up like every other row, so the window measures steady-state fast-fail, not its first compilation.
    await c1('/dead', settings.warmupS);
    const load = await c1('/dead');
    outcomes.set('fast-fail-breaker', figures(load, 'every response is the short-circuit answer (non2xx expected)'));
  } catch (error) {
    outcomes.set('fast-fail-breaker', (error as Error).message);
  }

  log('scenario: bulkhead full');
  const holders = new AbortController();
  const holdMs = Math.ceil(settings.windowS * 1000) + 10_000;
  try {
    for (let slot = 0; slot < BULKHEAD_SLOTS; slot++) {
      fetch(`${url}/slow?ms=${holdMs}`, { signal: holders.signal }).catch(() => undefined);
    }
    await probeUntil(
      `${url}/slow?ms=1`,
      (response) => response.headers.get('x-breakwater-bulkhead') === 'rejected',
      'bulkhead rejection',
    );
    await c1('/slow?ms=1000', settings.warmupS);
    const load = await c1('/slow?ms=1000');
    outcomes.set('fast-fail-bulkhead', figures(load, 'every response is the rejection (non2xx expected)'));
  } catch (error) {
    outcomes.set('fast-fail-bulkhead', (error as Error).message);
  } finally {
    holders.abort();
  }
  log('scenario: one slow endpoint of two, without and with hedging');
  const lopsided = `lopsided?slow=${SLOW_HOST}&ms=${SLOW_ENDPOINT_MS}`;
  for (const [name, prefix] of [['slow-endpoint', '/plain/'], ['slow-endpoint-hedged', '/hedged/']] as const) {
    await c1(`${prefix}${lopsided}`, settings.warmupS);
    outcomes.set(name, figures(await c1(`${prefix}${lopsided}`), `round robin: every other first attempt meets the ${SLOW_ENDPOINT_MS} ms endpoint`));
  }
  return outcomes;
}

export async function measureScenarios(
  env: ScenarioEnvironment,
  settings: BenchSettings,
  generate: ClosedLoopGenerator,
  log: (message: string) => void,
): Promise<ScenarioResult[]> {
  let outcomes: Map<ScenarioName, ScenarioResult['figures'] | string>;
  if (env.breakwaterUnavailable) outcomes = new Map(SCENARIOS.map(({ name }) => [name, env.breakwaterUnavailable as string]));
  else {
    try {
      outcomes = await runScenarios(env, settings, generate, log);
    } catch (error) {
      const reason = `failed: ${(error as Error).message}`;
      outcomes = new Map(SCENARIOS.map(({ name }) => [name, reason]));
    }
  }
  return SCENARIOS.map(({ name, label }) => {
    const outcome = outcomes.get(name) ?? 'not run';
    return typeof outcome === 'string' ? { name, label, skipped: outcome } : { name, label, figures: outcome };
  });
}
