// `npm run bench [-- --smoke] [-- --out DIR]`: starts the upstream and every target, measures them
// interleaved, runs the Breakwater scenarios and scale cases, and writes compare.json and compare.md.
// `npm run bench -- --soak [DURATION]` runs only the memory soak and writes soak.json and .md;
// `npm run bench -- --hostile [DURATION]` only the hostile soak, hostile.json and .md;
// `npm run bench -- --h2` only the HTTP/2 and gRPC comparison, h2.json and .md.
// One file pair per mode, replaced by each run (the date is inside): bench/results holds the latest run of each mode,
// and git and bench/HISTORY.md hold the ones before.
// Every process it starts is ended on exit, on SIGINT/SIGTERM and on error.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { breakwaterUnavailableReason, chartNodeOptions } from './targets/breakwater.js';
import { killAllProcessesNow, setProcessLogDirectory, stopAllProcesses } from './harness/children.js';
import { compareTargets } from './compare/interleaved-rounds.js';
import { evaluateGoals, withComparisons } from './compare/goals.js';
import { measureHostile } from './hostile/hostile-soak.js';
import { evaluateHostileGoals } from './hostile/goals.js';
import { nodeClosedLoop } from './load/node-load.js';
import { h2SettingsFor, parseOptions, settingsFor } from './options.js';
import { machineCpuTicks, stealPercent } from './harness/proc-stats.js';
import { renderH2Markdown, renderHostileMarkdown, renderMarkdown, renderSoakMarkdown } from './report/markdown.js';
import type { BenchReport, H2Report, HostileReport, SoakReport } from './report/results.js';
import { measureScale } from './compare/scale.js';
import { measureScenarios } from './compare/scenarios.js';
import { H2_WINDOWS, measureH2 } from './compare/h2-comparison.js';
import { evaluateSoakGoals, measureSoak } from './soak/memory-soak.js';
import { startTargets } from './targets/comparison-targets.js';
import { commandAvailable, INSTALL_HINT } from './harness/tools.js';
import { startMainUpstream, startNodeUpstream } from './targets/upstream.js';
import { wrkGenerator } from './load/wrk.js';

/** 127.0.0.1 ... 127.0.0.200: the upstream answers on all of them for the 200-endpoint scale case. */
const UPSTREAM_HOSTS = Array.from({ length: 200 }, (_, index) => `127.0.0.${index + 1}`);

const startedAt = Date.now();
const log = (message: string): void => {
  process.stderr.write(`[bench +${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${message}\n`);
};

let scratchDir: string | undefined;

async function main(argv: readonly string[]): Promise<void> {
  const options = parseOptions(argv);
  const [loadAverageBefore] = loadavg();
  const cpuTicksBefore = machineCpuTicks();
  const breakwaterNodeOptions = chartNodeOptions(); // read up front: a missing chart fails before any measuring
  const has = {
    wrk: commandAvailable('wrk', ['-v']),
    nginx: commandAvailable('nginx', ['-v']),
    haproxy: commandAvailable('haproxy', ['-v']),
    taskset: commandAvailable('taskset', ['-V']),
  };
  const settings = settingsFor(options.smoke, has.wrk);
  const notes: string[] = [];
  if (options.smoke) notes.push('smoke run: sub-second windows with the Node client; checks the harness, not the proxy');
  else if (!has.wrk) notes.push(`wrk not installed: closed-loop load from the Node client instead (${INSTALL_HINT})`);
  const cpus = availableParallelism();
  const pinned = has.taskset && cpus >= 2;
  const pinning = pinned
    ? 'Proxies pinned to CPU 0, upstream to CPU 1 (taskset), load generator unpinned'
    : 'No CPU pinning (needs taskset and 2+ CPUs)';
  const proxyCpus = pinned ? '0' : undefined;
  const upstreamCpus = pinned ? '1' : undefined;

  const breakwaterUnavailable = breakwaterUnavailableReason();
  if (breakwaterUnavailable) {
    if (options.soakS !== undefined || options.hostileS !== undefined) throw new Error(`the soak needs Breakwater: ${breakwaterUnavailable}`);
    notes.push(`Breakwater skipped: ${breakwaterUnavailable}`);
  }
  scratchDir = mkdtempSync(join(tmpdir(), 'breakwater-bench-'));
  setProcessLogDirectory(scratchDir);
  /** What every report opens with; taken when the report is written, so the load average is the one after. */
  const reportHead = (): Pick<BenchReport, 'date' | 'smoke' | 'machine'> => ({
    date: new Date().toISOString(),
    smoke: options.smoke,
    machine: {
      cpus,
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
      breakwaterNodeOptions,
      loadAverageBefore,
      loadAverageAfter: loadavg()[0],
      stealPercent: stealPercent(cpuTicksBefore, machineCpuTicks()),
    },
  });
  const write = (mode: 'compare' | 'soak' | 'hostile' | 'h2', json: object, markdown: string): void => {
    // A smoke run must never overwrite the committed results of a real one.
    const baseName = `${mode}${options.smoke ? '.smoke' : ''}`;
    mkdirSync(options.outDir, { recursive: true });
    writeFileSync(join(options.outDir, `${baseName}.json`), `${JSON.stringify(json, null, 2)}\n`);
    writeFileSync(join(options.outDir, `${baseName}.md`), markdown);
    process.stdout.write(markdown);
    log(`wrote ${join(options.outDir, baseName)}.json and .md`);
  };

  if (options.hostileS !== undefined) {
    const measured = await measureHostile({ scratchDir, proxyCpus, clientCpus: upstreamCpus }, options.hostileS, options.smoke, log);
    const report: HostileReport = {
      ...reportHead(),
      ...measured,
      notes: options.smoke ? ['smoke run: a few seconds of everything; checks the harness, not the proxy'] : [],
      goals: evaluateHostileGoals(measured.hostile),
    };
    write('hostile', report, renderHostileMarkdown(report));
    for (const goal of report.goals) log(`${goal.met === null ? 'n/a' : goal.met ? 'met' : 'NOT met'}: ${goal.goal}: ${goal.value}`);
    return;
  }
  if (options.h2) {
    const h2Settings = h2SettingsFor(options.smoke, settings);
    const protocols = await measureH2({ scratchDir, proxyCpus, upstreamCpus, has, breakwaterUnavailable }, h2Settings, log);
    const report: H2Report = {
      ...reportHead(),
      settings: { windowS: h2Settings.windowS, warmupS: h2Settings.warmupS, rounds: h2Settings.rounds, ...H2_WINDOWS, pinning },
      notes: options.smoke ? ['smoke run: 1 s windows, one round; checks the harness, not the proxies'] : [],
      protocols,
    };
    write('h2', report, renderH2Markdown(report));
    return;
  }
  const upstream = await startMainUpstream(scratchDir, UPSTREAM_HOSTS, has.nginx, upstreamCpus);
  if (!has.nginx) notes.push(`nginx not installed: Node upstream instead, nginx target skipped (${INSTALL_HINT})`);
  const upstreamLabel = upstream.kind === 'nginx' ? 'nginx `return 200`, 1 worker' : 'minimal Node server';
  const generate = settings.generator === 'wrk' ? wrkGenerator(scratchDir, undefined) : nodeClosedLoop;
  if (options.soakS !== undefined) {
    log(`upstream: ${upstream.kind} at ${upstream.address}; memory soak for ${options.soakS} s`);
    const soak = await measureSoak(
      { scratchDir, upstream: upstream.address, proxyCpus, clientCpus: upstreamCpus },
      { durationS: options.soakS, rps: options.soakRps },
      settings,
      options.smoke,
      generate,
      log,
    );
    const report: SoakReport = {
      ...reportHead(),
      settings: {
        generator: settings.generator,
        upstream: upstreamLabel,
        pinning: pinned ? 'Proxy pinned to CPU 0; upstream and the open-loop client to CPU 1 (taskset)' : pinning,
      },
      notes,
      soak,
      goals: evaluateSoakGoals(soak),
    };
    write('soak', report, renderSoakMarkdown(report));
    return;
  }
  const nodeUpstream =
    upstream.kind === 'node' ? upstream : await startNodeUpstream('scenario-upstream', ['127.0.0.1', '127.0.0.2'], upstreamCpus);

  log(`upstream: ${upstream.kind} at ${upstream.address}; load generator: ${settings.generator}`);
  const slots = await startTargets({
    scratchDir,
    upstream: upstream.address,
    proxyCpus,
    has,
    breakwaterUnavailable,
  });
  for (const slot of slots.filter((entry) => entry.skipped)) log(`skipped ${slot.name}: ${slot.skipped}`);
  const measured = await compareTargets(slots, settings, generate, log);
  const scenarios = await measureScenarios(
    { scratchDir, nodeUpstream: nodeUpstream.address, proxyCpus, breakwaterUnavailable },
    settings,
    generate,
    log,
  );
  const scale = await measureScale(
    { scratchDir, upstreamPort: upstream.port, upstreamHosts: UPSTREAM_HOSTS, proxyCpus, breakwaterUnavailable },
    settings,
    options.smoke,
    generate,
    log,
  );
  const targets = withComparisons(measured);
  const laggingOpenLoop = targets.filter(({ figures }) => figures && figures.openLoop.achievedRps < 0.9 * settings.openLoopRps);
  if (laggingOpenLoop.length > 0) {
    notes.push(
      `open loop: ${laggingOpenLoop.map((target) => target.name).join(', ')} completed under 90% of ` +
        `${settings.openLoopRps} rps in the window; their open-loop latencies measure a backlog (of the target, ` +
        'or of a machine too busy for the client)',
    );
  }
  const report: BenchReport = {
    ...reportHead(),
    settings: {
      generator: settings.generator,
      windowS: settings.windowS,
      rounds: settings.rounds,
      openLoopRps: settings.openLoopRps,
      upstream: upstreamLabel,
      pinning,
    },
    notes,
    targets,
    scenarios,
    scale,
    goals: evaluateGoals(targets, scenarios, scale),
  };
  write('compare', report, renderMarkdown(report));
}

let shuttingDown = false;
async function shutdown(exitCode: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  await stopAllProcesses();
  if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
  process.exit(exitCode);
}

process.on('exit', killAllProcessesNow);
process.on('SIGINT', () => void shutdown(130));
process.on('SIGTERM', () => void shutdown(143));
process.on('uncaughtException', (error) => {
  log(`error: ${error.stack ?? error.message}`);
  void shutdown(1);
});
main(process.argv.slice(2)).then(
  () => shutdown(0),
  (error: Error) => {
    // After SIGINT the measurement fails because its processes were ended: that is not news.
    if (!shuttingDown) log(`error: ${error.message}`);
    return shutdown(1);
  },
);
