#!/usr/bin/env node
// `npm run chaos -- <experiment> [flags]` and `npm run demo`. Exit codes: 0 the protected arms held the hypothesis
// and the baseline did not, 1 otherwise, 2 bad input, 3 the run itself broke, 130 interrupted.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../proxy/config/duration.js';
import { chooseLocalTarget } from './environments/cluster/choose-target.js';
import { loadExperiment, listExperimentNames, experimentsDir, resolveExperimentFile } from './experiment/experiment-file.js';
import { ExperimentError } from './experiment/field-reader.js';
import { applyOverrides, UsageError, type Overrides } from './experiment/overrides.js';
import { ProcessRegistry } from './runner/processes.js';
import { Progress } from './runner/progress.js';
import { runExperiment } from './runner/runner.js';

const USAGE = `usage: npm run chaos -- <experiment | file.yaml> [flags]
  --duration D      override the load duration (e.g. 5s); the action timeline scales with it
  --rate R          override the request rate (req/s)
  --arms a,b        run only these arms (e.g. none,proxy)
  --seed N          random seed (default 42)
  --repeat N        run each arm N times (seeds N, N+1, ...; interleaved); the report shows mean and range
  --out DIR         run folder (default results/<timestamp>-<name>)
  --list            list the experiments with their titles
  --target T        cluster (default: a mini-cluster of network namespaces; falls back to local where it cannot
                    be made, saying why) | local (processes on loopback) | kubernetes
  --namespace NS, --selector SEL, --client-url URL   kubernetes target: pods to kill, URL to load`;

const EXIT = { passed: 0, failed: 1, badInput: 2, broken: 3, interrupted: 130 } as const;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      duration: { type: 'string' }, rate: { type: 'string' }, arms: { type: 'string' }, seed: { type: 'string' },
      out: { type: 'string' }, repeat: { type: 'string' }, list: { type: 'boolean' }, target: { type: 'string', default: 'cluster' },
      namespace: { type: 'string' }, selector: { type: 'string' }, 'client-url': { type: 'string' }, help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.passed;
  }
  if (values.list) {
    for (const name of await listExperimentNames()) {
      const experiment = await loadExperiment(path.join(experimentsDir(), `${name}.yaml`));
      process.stdout.write(`${name.padEnd(20)} ${experiment.title}\n`);
    }
    return EXIT.passed;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one experiment name\n${USAGE}`);
  const experiment = applyOverrides(await loadExperiment(await resolveExperimentFile(positionals[0]!)), readOverrides(values));
  const seed = values.seed === undefined ? 42 : readInteger('--seed', values.seed);
  const repeat = values.repeat === undefined ? 1 : readInteger('--repeat', values.repeat);
  if (repeat < 1 || repeat > 50) throw new UsageError(`--repeat: ${repeat} is not in 1..50`);
  const runDir = values.out ?? path.join('results', `${new Date().toISOString().replace(/[:.]/g, '-')}-${experiment.name}`);

  const interrupt = new AbortController();
  const progress = new Progress();
  const registry = new ProcessRegistry(({ label, pid }) => progress.line(`  started ${label} (pid ${pid})`));
  process.on('exit', () => registry.killAllNow());
  const onSignal = (name: NodeJS.Signals) => {
    if (interrupt.signal.aborted) process.exit(EXIT.interrupted); // second signal: the exit hook SIGKILLs children
    progress.line(`${name}: stopping; rolling back faults and ending every process`);
    interrupt.abort(new Error(`interrupted by ${name}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const target = values.target;
  if (target !== 'cluster' && target !== 'local' && target !== 'kubernetes') {
    throw new UsageError(`--target: unknown target "${target}" (expected cluster, local or kubernetes)`);
  }
  try {
    // Loaded only when asked for: the Kubernetes client is heavy and the local demo does not need it.
    const result = target === 'kubernetes'
      ? await (await import('./environments/kubernetes/kubernetes-run.js')).runOnKubernetes({
          experiment, seed, repeat, runDir, signal: interrupt.signal, progress,
          namespace: required('--namespace', values.namespace),
          selector: required('--selector', values.selector),
          clientUrl: required('--client-url', values['client-url']),
        })
      : await runExperiment({
          experiment, seed, repeat, runDir, signal: interrupt.signal, registry, progress,
          ...(await chooseLocalTarget(target, { experiment, seed, runDir, registry, progress })),
        });
    const { formatTerminalTable } = await import('./report/index.js');
    process.stdout.write(`${formatTerminalTable(result)}\n`);
    process.stdout.write(`report: ${path.join(runDir, 'report.html')} (raw data and results.json alongside)\n`);
    // A run that does not tell the arms apart did not show what it set out to show.
    return result.passed && result.discriminates !== false ? EXIT.passed : EXIT.failed;
  } catch (error) {
    if (interrupt.signal.aborted) {
      process.stderr.write('interrupted: faults rolled back, every process ended\n');
      return EXIT.interrupted;
    }
    throw error;
  }
}

function readOverrides(values: { duration?: string; rate?: string; arms?: string }): Overrides {
  const overrides: Overrides = {};
  if (values.duration !== undefined) {
    const ms = parseDuration(values.duration);
    if (!ms) throw new UsageError(`--duration: invalid duration "${values.duration}" (expected e.g. 5s, 2m)`);
    overrides.durationMs = ms;
  }
  if (values.rate !== undefined) {
    const rate = Number(values.rate);
    if (!(rate > 0 && rate <= 5000)) throw new UsageError(`--rate: "${values.rate}" is not a rate in (0, 5000] req/s`);
    overrides.rate = rate;
  }
  if (values.arms !== undefined) overrides.arms = values.arms.split(',').map((a) => a.trim()).filter(Boolean);
  return overrides;
}

function readInteger(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag}: "${text}" is not a whole number`);
  return Number(text);
}

function required(flag: string, value: string | undefined): string {
  if (!value) throw new UsageError(`${flag} is required with --target kubernetes`);
  return value;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    const badInput = error instanceof ExperimentError || error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`chaos: ${error.message}\n`);
    process.exit(badInput ? EXIT.badInput : EXIT.broken);
  },
);
