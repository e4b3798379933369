// How long a /metrics render holds the event loop per turn, in-process and so free of the other processes a shared
// machine runs: Breakwater's Metrics with the series N routes export (each with a breaker, after one request each),
// rendered repeatedly while a setImmediate loop measures each turn between two of its callbacks, in wall time and in
// this process's CPU time (which also counts the collector's helper threads, so it errs high).
//
//   node dist/bench/scrape/render-slices.js [--routes 1000] [--renders 20]
import { parseArgs } from 'node:util';
import { Metrics } from '../../proxy/telemetry/metrics.js';

interface Turn {
  wallMs: number;
  cpuMs: number;
}

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

function populate(metrics: Metrics, routes: number): void {
  for (let i = 0; i < routes; i++) {
    const route = `r${i}`;
    const labels = { listener: 'egress', route, upstream: 'backend' };
    metrics.requests.cell({ ...labels, status_class: '2xx', outcome: 'ok' }).inc();
    metrics.requestDuration.cell(labels).observe(0.002);
    metrics.attempts.cell({ upstream: 'backend', route, result: '2xx' }).inc();
    metrics.shortCircuited.cell({ route });
    for (const state of ['closed', 'open', 'half_open']) metrics.circuitState.set({ route, state }, state === 'closed' ? 1 : 0);
  }
}

/** Renders once, recording every turn of the event loop it spans. */
async function measureRender(metrics: Metrics): Promise<{ turns: Turn[]; bytes: number }> {
  const turns: Turn[] = [];
  let rendering = true;
  let wall = performance.now();
  let cpu = cpuMs();
  const onTurn = () => {
    const [nowWall, nowCpu] = [performance.now(), cpuMs()];
    turns.push({ wallMs: nowWall - wall, cpuMs: nowCpu - cpu });
    [wall, cpu] = [nowWall, nowCpu];
    if (rendering) setImmediate(onTurn);
  };
  setImmediate(onTurn);
  const { bytes } = await metrics.scrape();
  rendering = false;
  return { turns, bytes };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

const { values } = parseArgs({ options: { routes: { type: 'string', default: '1000' }, renders: { type: 'string', default: '20' } } });
const metrics = new Metrics();
populate(metrics, Number(values.routes));
const turns: Turn[] = [];
let bytes = 0;
for (let i = 0; i < Number(values.renders); i++) {
  const render = await measureRender(metrics);
  // The first renders run before the JIT has compiled the render path; a long-running proxy renders compiled code.
  if (i >= 2) turns.push(...render.turns);
  bytes = render.bytes;
}
const wall = turns.map((t) => t.wallMs).sort((a, b) => a - b);
const cpu = turns.map((t) => t.cpuMs).sort((a, b) => a - b);
const format = (sorted: number[]) => `p50 ${quantile(sorted, 0.5).toFixed(2)} p99 ${quantile(sorted, 0.99).toFixed(2)} max ${sorted.at(-1)!.toFixed(2)} ms`;
console.log(`${values.routes} routes, ${(bytes / 1e6).toFixed(1)} MB per render, ${turns.length} turns measured`);
console.log(`  per turn, wall: ${format(wall)}`);
console.log(`  per turn, CPU:  ${format(cpu)}`);
process.exit(0);
