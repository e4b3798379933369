// bench/results/compare.md, soak.md and hostile.md: the tables the README's Performance section shows.
import { bulkheadSummary, formatNumber, formatRatio, formatUs } from './format.js';
import { OPEN_LOOP_PROBE_S } from '../options.js';
import type {
  AttackerFigures, BenchReport, GoalResult, H2Concurrency, H2ProtocolResult, H2Report, HostileReport, HostileSample, SoakReport, TargetFigures,
  TargetResult, ThroughputFigures,
} from './results.js';

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const pair = (a: number | null | undefined, b: number | null | undefined): string => `${formatUs(a)} / ${formatUs(b)}`;
const megabytes = (value: number | null | undefined): string => (value == null ? '-' : `${formatNumber(value, 1)} MB`);
const skippedRow = (name: string, reason: string, width: number): string[] => [
  name,
  `skipped: ${reason.split('\n')[0]}`,
  ...Array<string>(width - 2).fill(''),
];

/** CPU as a share of one core, so that a sidecar's idle cost reads directly. */
function idleCost(idle: TargetFigures['idle']): string {
  if (!idle) return '-';
  return `${formatNumber(idle.cpuMsPerSecond / 10, 2)}% / ${formatNumber(idle.wakeupsPerSecond)} per s`;
}

function openLoop(figures: TargetFigures['openLoop']): string {
  const failed = figures.errors > 0 ? ` (${formatNumber(figures.errors)} failed)` : '';
  return `${pair(figures.p50Us, figures.p99Us)}${failed}`;
}

function mainTable(report: BenchReport): string {
  const header = ['target', 'CPU/request', 'rps (c=32)', 'c=1 p50 / p99', 'c=16 p50 / p99',
    `open loop ${report.settings.openLoopRps} rps p50 / p99`, 'RSS idle / load', 'idle CPU / wakeups', 'failed (closed loop)'];
  return table(header, report.targets.map((target) => {
    const f = target.figures;
    if (!f) return skippedRow(target.label, target.skipped ?? '', header.length);
    return [target.label, formatUs(f.cpuUsPerRequest), formatNumber(f.closedLoopRps), pair(f.c1.p50Us, f.c1.p99Us),
      pair(f.c16.p50Us, f.c16.p99Us), openLoop(f.openLoop),
      `${megabytes(f.rssIdleMB)} / ${megabytes(f.rssLoadMB)}`, idleCost(f.idle), formatNumber(f.failures)];
  }));
}

function ratioTable(targets: readonly TargetResult[]): string {
  const header = ['target', 'CPU vs HAProxy', 'CPU vs fastify', 'rps vs direct', 'rps vs HAProxy', 'rps vs fastify',
    'c=1 added p50 / p99', 'c=16 p99 vs HAProxy'];
  return table(header, targets.filter((target) => target.comparisons).map((target) => {
    const c = target.comparisons!;
    return [target.label, formatRatio(c.cpuVsHaproxy), formatRatio(c.cpuVsFastify), formatRatio(c.rpsVsDirect),
      formatRatio(c.rpsVsHaproxy), formatRatio(c.rpsVsFastify), pair(c.c1AddedP50Us, c.c1AddedP99Us),
      formatRatio(c.c16P99VsHaproxy)];
  }));
}

function streamingTable(targets: readonly TargetResult[]): string {
  const cells = (figures: ThroughputFigures): string[] =>
    [formatNumber(figures.rps), pair(figures.p50Us, figures.p99Us), formatUs(figures.cpuUsPerRequest)];
  const header = ['target', 'GET 1 MiB rps', 'p50 / p99', 'CPU/request', 'POST 64 KiB rps', 'p50 / p99', 'CPU/request'];
  return table(header, targets.filter((target) => target.figures).map((target) => [
    target.label, ...cells(target.figures!.streaming.get1MiB), ...cells(target.figures!.streaming.post64KiB),
  ]));
}

function scenarioTable(report: BenchReport): string {
  const header = ['Breakwater scenario', 'p50', 'p99', 'requests', 'non-2xx', 'note'];
  return table(header, report.scenarios.map((scenario) => {
    const f = scenario.figures;
    if (!f) return skippedRow(scenario.label, scenario.skipped ?? '', header.length);
    return [scenario.label, formatUs(f.p50Us), formatUs(f.p99Us), formatNumber(f.requests), formatNumber(f.non2xx), f.note];
  }));
}

function scaleTable(report: BenchReport): string {
  const header = ['Breakwater scale case', 'routes', 'endpoints', 'breakers', 'CPU/request', 'rps (c=32)', 'RSS idle / load'];
  return table(header, report.scale.map((entry) => {
    const f = entry.figures;
    const shape = [String(entry.routes), String(entry.endpoints), String(entry.breakers)];
    if (!f) return [entry.name, ...shape, `skipped: ${(entry.skipped ?? '').split('\n')[0]}`, '', ''];
    return [entry.name, ...shape, formatUs(f.cpuUsPerRequest), formatNumber(f.rps), `${megabytes(f.rssIdleMB)} / ${megabytes(f.rssLoadMB)}`];
  }));
}

function goalTable(goals: readonly GoalResult[]): string {
  const verdict = (met: boolean | null): string => (met === null ? 'n/a' : met ? 'met' : 'NOT met');
  return table(['target (Breakwater)', 'this run', 'verdict'], goals.map((goal) => [goal.goal, goal.value, verdict(goal.met)]));
}

const notesSection = (notes: readonly string[]): string =>
  notes.length > 0 ? `\n## Notes\n\n${notes.map((note) => `- ${note}`).join('\n')}\n` : '';

function heading(title: string, report: BenchReport | SoakReport | HostileReport | H2Report): string {
  const m = report.machine;
  return `# ${title} ${report.date}${report.smoke ? ' (smoke run: figures are not meaningful)' : ''}

${m.cpus} CPUs, Node ${m.node}, ${m.platform}, load average ${formatNumber(m.loadAverageBefore, 1)} before and
${formatNumber(m.loadAverageAfter, 1)} after the run (above ~1, other work competed for the CPUs), CPU steal
${formatNumber(m.stealPercent, 1)}% (time the hypervisor gave other guests; above a few percent, every figure is suspect).
Breakwater runs as the Helm chart runs it, with ${m.breakwaterNodeOptions ? `NODE_OPTIONS=\`${m.breakwaterNodeOptions}\`` : 'no NODE_OPTIONS'}.`;
}

export function renderMarkdown(report: BenchReport): string {
  const s = report.settings;
  return `${heading('Breakwater benchmark', report)} The Node references run with Node's defaults. Load: ${s.generator}, ${s.windowS} s windows,
${s.rounds} interleaved round(s), medians. Upstream: ${s.upstream}. ${s.pinning}.
Compare ratios within this run; absolute times vary from run to run on shared machines.

## Targets

${mainTable(report)}

## Ratios (same run; CPU and rps ratios are medians of the round-by-round ratios)

${ratioTable(report.targets)}

## Body streaming (4 connections, medians over the rounds)

${streamingTable(report.targets)}

## Fast-fail and retry

${scenarioTable(report)}

## Scale

${scaleTable(report)}

## Goals

${goalTable(report.goals)}
${notesSection(report.notes)}`;
}

export function renderSoakMarkdown(report: SoakReport): string {
  const soak = report.soak;
  const closedLoop = `${formatNumber(soak.maxRps)} rps (${report.settings.generator}, 32 connections)`;
  const rate = soak.maxRps === null
    ? `${formatNumber(soak.rps)} rps (given)`
    : soak.openLoopMaxRps == null // results written before the open-loop probe, or a probe that got no answer
      ? `${formatNumber(soak.rps)} rps, half the closed-loop maximum of ${closedLoop}`
      : `${formatNumber(soak.rps)} rps, half the lower of the closed-loop maximum, ${closedLoop}, and what the proxy's core carries open loop, ${formatNumber(soak.openLoopMaxRps)} rps (one core over the CPU per request of a ${OPEN_LOOP_PROBE_S} s probe at half the closed-loop maximum)`;
  const header = ['window end', 'rps', 'p50 / p99', 'failed', 'CPU/request', 'client CPU', 'RSS median / peak',
    'live-heap floor', ''];
  const rows = soak.windows.map((window) => [`${formatNumber(window.endS, 1)} s`, formatNumber(window.achievedRps),
    pair(window.p50Us, window.p99Us), formatNumber(window.failed), formatUs(window.cpuUsPerRequest),
    `${formatNumber(window.clientCpuPercent)}%`, `${megabytes(window.rssMedianMB)} / ${megabytes(window.rssPeakMB)}`,
    megabytes(window.heapFloorMB), window.warmup ? 'warm-up' : '']);
  return `${heading('Breakwater memory soak', report)}
Breakwater with the realistic policy, open loop (Node client, latency from each request's scheduled send
time) at ${rate}, for ${formatNumber(soak.durationS)} s in ${formatNumber(soak.windowS, 1)} s windows. Upstream: ${report.settings.upstream}.
${report.settings.pinning}. The first ${formatNumber(soak.warmupS, 1)} s are warm-up; the rest is split into halves, and memory
in the second half is compared with the first, median against median, for each window's median RSS and for
the live-heap floor (a backlog moment raises one window without anything leaking). The live-heap floor is the lowest heap used that Breakwater's
own /metrics (\`nodejs_heap_size_used_bytes\`) reported in a window: what survived garbage collection.

## Windows

${table(header, rows)}

## Goals

${goalTable(report.goals)}
${notesSection(report.notes)}`;
}

/** At most this many rows in the RSS-over-time table: evenly spaced samples, the first and last among them. */
const MAX_TIMELINE_ROWS = 13;

/** The samples shown; each row's normal failures include those of the samples left out before it. */
function timelineRows(samples: readonly HostileSample[]): HostileSample[] {
  const step = (samples.length - 1) / (MAX_TIMELINE_ROWS - 1);
  const shown = samples.length <= MAX_TIMELINE_ROWS
    ? samples.map((_, index) => index)
    : Array.from({ length: MAX_TIMELINE_ROWS }, (_, row) => Math.round(row * step));
  return shown.map((index, row) => {
    const since = row === 0 ? 0 : shown[row - 1]! + 1;
    const normalFailed = samples.slice(since, index + 1).reduce((total, entry) => total + entry.normalFailed, 0);
    return { ...samples[index]!, normalFailed };
  });
}

const counts = (byKey: Record<string, number>): string =>
  Object.keys(byKey).length === 0 ? '-' : Object.entries(byKey).map(([key, count]) => `${key}: ${formatNumber(count)}`).join(', ');

function attackerRow(name: string, figures: AttackerFigures): string[] {
  return [name, formatNumber(figures.connections), formatNumber(figures.connectFailed), counts(figures.answered),
    formatNumber(figures.closedWithoutAnswer), formatNumber(figures.reset), counts(figures.abandoned),
    formatNumber(figures.heldToEnd), `${formatNumber(figures.longestOpenS, 1)} s`];
}

export function renderHostileMarkdown(report: HostileReport): string {
  const { settings: s, hostile: h } = report;
  const n = h.normal;
  const timeline = table(['at', 'phase', 'RSS', 'open files', 'CPU proxy / clients', 'bulkheads, active/queued', 'normal non-2xx since the row before'],
    timelineRows(h.samples).map((entry) => [
      `${formatNumber(entry.atS, 1)} s`, entry.phase, megabytes(entry.rssMB), formatNumber(entry.openFiles),
      `${formatNumber(entry.proxyCpuPercent)}% / ${formatNumber(entry.clientCpuPercent)}%`,
      bulkheadSummary(entry.bulkheads), formatNumber(entry.normalFailed)]));
  const attackers = table(['hostile client', 'connections', 'connect failed', 'answered (status: count)', 'closed unanswered',
    'reset', 'abandoned by the client', 'held to the end', 'longest open'], [
    attackerRow(`slowloris (${formatNumber(s.slowlorisConnections)} at once)`, h.slowloris),
    attackerRow(`stalled bodies (${formatNumber(s.stalledBodyConnections)} at once)`, h.stalledBodies),
    attackerRow(`aborting clients (${formatNumber(s.abortingClients)} at once)`, h.aborting),
  ]);
  const gauges = h.bulkheadsAfterSettle.length === 0
    ? 'No bulkhead gauges could be read.'
    : table(['scope', 'name', 'active', 'queued'], h.bulkheadsAfterSettle.map((gauge) =>
      [gauge.scope, gauge.name, formatNumber(gauge.active), formatNumber(gauge.queued)]));
  const rejected = h.listenerRejected === null
    ? 'not exported by this proxy'
    : counts(h.listenerRejected);
  return `${heading('Breakwater hostile soak', report)}
For ${formatNumber(h.durationS)} s at once: normal traffic (open loop, ${formatNumber(n.rps)} rps: GET, idempotent POST of 512 bytes,
a 20 ms upstream answer, and a route injecting a 100 ms delay into 5% of its requests; latency from each request's scheduled
send time), slowloris (a request head that never ends), stalled bodies (60,000 of 65,000 announced bytes, then nothing),
clients abandoning requests at random stages, and a policy rewrite every ${formatNumber(s.reloadEveryS)} s (upstream endpoints, pool
and breaker settings alternate). Upstream: ${s.upstream}. ${s.pinning}. The proxy's open-file limit: ${formatNumber(s.proxyOpenFileLimit)}.
After the load, up to ${formatNumber(s.settleLimitS)} s for every bulkhead gauge to return to 0.

## Normal traffic

${table(['sent', '2xx share', 'answers by status', 'unanswered', 'p50 / p99', 'max'], [[formatNumber(n.sent),
    `${formatNumber(n.successRate * 100, 3)}%`, counts(n.statuses), formatNumber(n.unanswered), pair(n.p50Us, n.p99Us), formatUs(n.maxUs)]])}

${table(['request', 'answers by status'], Object.entries(n.statusesByPath).map(([path, statuses]) => [`\`${path}\``, counts(statuses)]))}

## Hostile clients

${attackers}

Reloads: ${formatNumber(h.reloads.written)} policy rewrites, ${formatNumber(h.reloads.succeeded)} reloaded, ${formatNumber(h.reloads.failed)} failed
(\`breakwater_config_reloads_total\`). Listener rejections (\`breakwater_listener_rejected_total\`): ${rejected}.

## Memory and bulkheads over time (every ${formatNumber(s.sampleEveryS, 1)} s)

RSS ${megabytes(h.rss.baselineMB)} before the load, ${megabytes(h.rss.peakMB)} at the peak, ${megabytes(h.rss.endMB)} at the end.
CPU is % of one core over the sample interval before the row: the clients near 100% would measure themselves.

${timeline}

## Bulkheads after the load (${h.settledAfterS === null ? `not all 0 after ${formatNumber(s.settleLimitS)} s` : `all 0 after ${formatNumber(h.settledAfterS, 1)} s`})

${gauges}

Then one request down every route:

${table(['request', 'status', 'time'], h.afterLoad.map((entry) => [`\`${entry.path}\``, entry.status === null ? 'no answer' : String(entry.status), `${formatNumber(entry.ms)} ms`]))}

## Goals

${goalTable(report.goals)}
${notesSection(report.notes)}`;
}

const concurrency = ({ connections, streams }: H2Concurrency): string =>
  `${connections} connection${connections === 1 ? '' : 's'} x ${streams} stream${streams === 1 ? '' : 's'}`;

function h2Section(protocol: H2ProtocolResult, settings: H2Report['settings']): string {
  const inFlight = settings.throughput.connections * settings.throughput.streams;
  const header = ['target', 'CPU/request', `rps (${inFlight} in flight)`, 'c=1 p50 / p99', 'c=16 p50 / p99', 'RSS idle / load', 'failed'];
  const main = table(header, protocol.targets.map((target) => {
    const f = target.figures;
    if (!f) return skippedRow(target.label, target.skipped ?? '', header.length);
    return [target.label, formatUs(f.cpuUsPerRequest), formatNumber(f.closedLoopRps), pair(f.c1.p50Us, f.c1.p99Us),
      pair(f.c16.p50Us, f.c16.p99Us), `${megabytes(f.rssIdleMB)} / ${megabytes(f.rssLoadMB)}`, formatNumber(f.failures)];
  }));
  const ratios = table(['target', 'CPU vs HAProxy', 'CPU vs nginx', 'rps vs direct', 'rps vs HAProxy', 'rps vs nginx',
    'c=1 added p50 / p99', 'c=16 p99 vs HAProxy', 'c=16 p99 vs nginx'],
  protocol.targets.filter((target) => target.comparisons).map((target) => {
    const c = target.comparisons!;
    return [target.label, formatRatio(c.cpuVsHaproxy), formatRatio(c.cpuVsNginx), formatRatio(c.rpsVsDirect),
      formatRatio(c.rpsVsHaproxy), formatRatio(c.rpsVsNginx), pair(c.c1AddedP50Us, c.c1AddedP99Us),
      formatRatio(c.c16P99VsHaproxy), formatRatio(c.c16P99VsNginx)];
  }));
  return `## ${protocol.label}

Load: ${protocol.load}. Upstream: ${protocol.upstream}.

${main}

Ratios (same run; CPU and rps ratios are medians of the round-by-round ratios):

${ratios}
`;
}

export function renderH2Markdown(report: H2Report): string {
  const s = report.settings;
  return `${heading('Breakwater HTTP/2 and gRPC benchmark', report)} Every target speaks HTTP/2 on both sides.
${s.windowS} s windows after a ${s.warmupS} s warm-up, ${s.rounds} interleaved round(s), medians. Throughput and CPU per request:
${concurrency(s.throughput)}; c=1: ${concurrency(s.c1)}; c=16: ${concurrency(s.c16)}. ${s.pinning}.
CPU per request is the proxy process's (nginx: its worker) user + system time from /proc over the throughput windows.
Compare ratios within this run; absolute times vary from run to run on shared machines.

${report.protocols.map((protocol) => h2Section(protocol, s)).join('\n')}${notesSection(report.notes)}`;
}
