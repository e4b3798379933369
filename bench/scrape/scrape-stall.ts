// How much a /metrics scrape stalls the data plane: a Breakwater with many routes, a c=1 request loop through it,
// first alone and then while scrapers fetch /metrics back to back. Reports the loop's latency in both windows, the
// scrapes' duration and size, and the proxy's event-loop delay in each window, measured inside it at 1 ms resolution
// (loop-delay-probe.ts). The scrapers run in worker threads, so that reading megabytes of text does not delay the
// request loop's own thread.
//
//   node dist/bench/scrape/scrape-stall.js [--routes 1000] [--scrapers 4] [--interval 0] [--seconds 10] [--node-options=--max-old-space-size=1024]
//
// --interval is each scraper's pause between scrapes in ms: 0 scrapes back to back (the proxy renders without pause),
// 1000 is four Prometheus servers each scraping every second, which shows the stall of a scrape on its own.
//
// Breakwater runs with the Helm chart's NODE_OPTIONS unless --node-options is given: 10,000 routes need a larger heap.
//
// Every process started here is ended by PID; all traffic stays on 127.0.0.1; each window is bounded in time and count.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Agent, request } from 'undici';
import { breakwaterConfig, chartNodeOptions, pooledUpstream, startBreakwater, type BreakwaterInstance, type RouteConfig } from '../targets/breakwater.js';
import { killAllProcessesNow, setProcessLogDirectory, stopAllProcesses } from '../harness/children.js';
import { LatencyRecorder, type LatencySummary } from '../load/latency-recorder.js';
import type { LoopDelayReading } from './loop-delay-probe.js';
import { startNodeUpstream } from '../targets/upstream.js';

const MAX_REQUESTS_PER_WINDOW = 200_000;

interface WindowResult {
  requests: LatencySummary;
  requestsPerSecond: number;
  scrapes: LatencySummary;
  scrapeBytes: number;
  /** The proxy's event-loop delay over the window. */
  proxyDelay: LoopDelayReading;
}


/**
 * A route with every series a route exports (request, attempt and duration series, circuit state): realisticRoute()'s
 * retry block adds none until a retry happens, and 10,000 of them need more heap to check than the chart gives.
 */
function exportedRoute(name: string): RouteConfig {
  return { name, match: { pathPrefix: `/${name}/` }, upstream: 'backend', timeout: '3s', circuitBreaker: {} };
}

const PROBE = fileURLToPath(new URL('./loop-delay-probe.js', import.meta.url));
const PROBE_TIMEOUT_MS = 5000;

/** Asks the proxy's probe for the delays since the last ask (and so starts a new reading). */
async function readLoopDelay(proxy: BreakwaterInstance, file: string): Promise<LoopDelayReading> {
  rmSync(file, { force: true });
  process.kill(proxy.process.pid, 'SIGUSR2');
  const deadline = Date.now() + PROBE_TIMEOUT_MS;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`the proxy's loop-delay probe did not answer within ${PROBE_TIMEOUT_MS} ms`);
    await sleep(20);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as LoopDelayReading;
}

async function scrape(adminUrl: string, dispatcher: Agent): Promise<string> {
  const res = await request(`${adminUrl}/metrics`, { dispatcher });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`);
  return text;
}

interface ScraperReport {
  durationsUs: number[];
  bytes: number;
}

/** A scraper thread: scrapes every `intervalMs` (0: back to back) until `endAt` (a Date.now() time), then reports. */
async function scrapeUntil(adminUrl: string, intervalMs: number, endAt: number): Promise<ScraperReport> {
  const dispatcher = new Agent();
  const report: ScraperReport = { durationsUs: [], bytes: 0 };
  while (Date.now() < endAt) {
    const t0 = performance.now();
    const text = await scrape(adminUrl, dispatcher);
    report.durationsUs.push((performance.now() - t0) * 1000);
    report.bytes = text.length;
    if (intervalMs > 0) await sleep(Math.min(intervalMs, endAt - Date.now()));
  }
  await dispatcher.close();
  return report;
}

function scraperThread(adminUrl: string, intervalMs: number, endAt: number): Promise<ScraperReport> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { adminUrl, intervalMs, endAt } });
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

interface WindowOptions {
  routes: number;
  scrapers: number;
  intervalMs: number;
  windowMs: number;
}

async function runWindow(proxy: BreakwaterInstance, delayFile: string, { routes, scrapers, intervalMs, windowMs }: WindowOptions): Promise<WindowResult> {
  const dispatcher = new Agent({ connections: 1 });
  const latencies = new LatencyRecorder(MAX_REQUESTS_PER_WINDOW);
  await readLoopDelay(proxy, delayFile); // starts the reading afresh
  const started = performance.now();
  const end = started + windowMs;
  const scraping = Promise.all(Array.from({ length: scrapers }, () => scraperThread(proxy.adminUrl, intervalMs, Date.now() + windowMs)));
  let sent = 0;
  while (performance.now() < end && sent < MAX_REQUESTS_PER_WINDOW) {
    const t0 = performance.now();
    const res = await request(`${proxy.url}/r${sent % routes}/item`, { dispatcher });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`request ${sent} answered ${res.statusCode}`);
    latencies.record((performance.now() - t0) * 1000);
    sent++;
  }
  const elapsed = performance.now() - started;
  const reports = await scraping;
  const scrapeTimes = new LatencyRecorder(reports.reduce((n, r) => n + r.durationsUs.length, 0));
  for (const duration of reports.flatMap((r) => r.durationsUs)) scrapeTimes.record(duration);
  const proxyDelay = await readLoopDelay(proxy, delayFile);
  await dispatcher.close();
  const scrapeBytes = Math.max(0, ...reports.map((r) => r.bytes));
  return { requests: latencies.summary(), requestsPerSecond: (sent * 1000) / elapsed, scrapes: scrapeTimes.summary(), scrapeBytes, proxyDelay };
}

const ms = (us: number) => (Number.isNaN(us) ? '-' : (us / 1000).toFixed(1));

function report(label: string, result: WindowResult): void {
  const { requests, scrapes } = result;
  console.log(
    `${label.padEnd(16)} ${result.requestsPerSecond.toFixed(0).padStart(6)} req/s  latency p50 ${ms(requests.p50Us)} p99 ${ms(requests.p99Us)} max ${ms(requests.maxUs)} ms` +
      `  | scrapes ${scrapes.count} p50 ${ms(scrapes.p50Us)} max ${ms(scrapes.maxUs)} ms, ${(result.scrapeBytes / 1e6).toFixed(1)} MB` +
      `  | proxy event-loop delay p99 ${result.proxyDelay.p99Ms.toFixed(1)} p99.9 ${result.proxyDelay.p999Ms.toFixed(1)} max ${result.proxyDelay.maxMs.toFixed(1)} ms`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      routes: { type: 'string', default: '1000' },
      scrapers: { type: 'string', default: '4' },
      interval: { type: 'string', default: '0' },
      seconds: { type: 'string', default: '10' },
      'node-options': { type: 'string' },
    },
  });
  const routes = Number(values.routes);
  const window = { routes, scrapers: Number(values.scrapers), intervalMs: Number(values.interval), windowMs: Number(values.seconds) * 1000 };
  const scratch = mkdtempSync(join(tmpdir(), 'breakwater-scrape-stall-'));
  setProcessLogDirectory(scratch);
  process.on('exit', killAllProcessesNow);
  try {
    const upstream = await startNodeUpstream('node-upstream', ['127.0.0.1'], undefined);
    const routeList = Array.from({ length: routes }, (_, i) => exportedRoute(`r${i}`));
    console.log(`starting Breakwater with ${routes} routes`);
    // The probe's file is named in the environment the proxy inherits.
    const delayFile = join(scratch, 'loop-delay.json');
    process.env.LOOP_DELAY_FILE = delayFile;
    const nodeOptions = `${values['node-options'] ?? chartNodeOptions()} --import=${pathToFileURL(PROBE).href}`;
    const proxy = await startBreakwater('breakwater', scratch, breakwaterConfig(routeList, [pooledUpstream('backend', [upstream.address])]), undefined, nodeOptions);
    // One request per route first, so every route's request counter has a series, as in a proxy that has run a while.
    const warm = new Agent({ connections: 1 });
    for (let i = 0; i < routes; i++) await (await request(`${proxy.url}/r${i}/item`, { dispatcher: warm })).body.dump();
    await warm.close();
    report('no scrapers', await runWindow(proxy, delayFile, { ...window, scrapers: 0 }));
    report(`${window.scrapers} scrapers`, await runWindow(proxy, delayFile, window));
  } finally {
    await stopAllProcesses();
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (isMainThread) {
  await main();
} else {
  const { adminUrl, intervalMs, endAt } = workerData as { adminUrl: string; intervalMs: number; endAt: number };
  parentPort!.postMessage(await scrapeUntil(adminUrl, intervalMs, endAt));
}
