// Breakwater as a bench target: policy generation (the realistic policy from the issue) and startup.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { startProcess, type StartedProcess } from '../harness/children.js';

const CLI = fileURLToPath(new URL('../../proxy/cli.js', import.meta.url));
const CHART_VALUES = fileURLToPath(new URL('../../../charts/breakwater/values.yaml', import.meta.url));
const READY_TIMEOUT_MS = 15_000;

let nodeOptions: string | undefined;

/** The NODE_OPTIONS the Helm chart gives the sidecar (V8's young generation size): Breakwater is measured as it runs there. */
export function chartNodeOptions(): string {
  if (nodeOptions === undefined) {
    const values = parse(readFileSync(CHART_VALUES, 'utf8')) as { breakwater?: { nodeOptions?: string } };
    nodeOptions = values.breakwater?.nodeOptions ?? '';
  }
  return nodeOptions;
}

export type RouteConfig = Record<string, unknown>;
export type UpstreamConfig = Record<string, unknown>;

/** Route match, timeout, budgeted retries and a breaker: what a real sidecar route carries. */
export function realisticRoute(name: string, pathPrefix: string, upstream: string): RouteConfig {
  return {
    name,
    match: { pathPrefix },
    upstream,
    timeout: '3s',
    retry: {
      attempts: 3,
      perTryTimeout: '1s',
      on: ['connect-failure', 'reset', 503],
      backoff: { base: '25ms', max: '250ms', jitter: 'full' },
      budget: { ratio: 0.2, minPerSecond: 10 },
    },
    circuitBreaker: { errorThresholdPercentage: 50, volumeThreshold: 20, window: '10s', resetTimeout: '5s' },
  };
}

/** The bulkhead lives in the pool: maxConcurrent in flight, maxPending queued for queueTimeout. */
export function pooledUpstream(
  name: string,
  endpoints: readonly string[],
  pool = { maxConnections: 64, maxConcurrent: 1024, maxPending: 1024, queueTimeout: '100ms' },
): UpstreamConfig {
  return { name, endpoints, connectTimeout: '250ms', pool };
}

/** One realistic route in front of one pooled upstream: the Breakwater every comparison measures. */
export function realisticConfig(upstream: string): object {
  return breakwaterConfig([realisticRoute('api', '/', 'backend')], [pooledUpstream('backend', [upstream])]);
}

/** `listener` adds settings to the one listener, "egress". */
export function breakwaterConfig(
  routes: readonly RouteConfig[],
  upstreams: readonly UpstreamConfig[],
  listener: Record<string, unknown> = {},
): object {
  return {
    admin: { address: '127.0.0.1:0' },
    listeners: [{ name: 'egress', address: '127.0.0.1:0', ...listener, routes }],
    upstreams,
    log: { level: 'info' },
    // The harness stops instances between cases; the production drain delay (5 s) would only add waiting.
    drain: { delay: '0s', timeout: '1s' },
  };
}

/** Undefined when `cli.js --version` works, else why Breakwater cannot be measured. */
export function breakwaterUnavailableReason(): string | undefined {
  const probe = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.status === 0) return undefined;
  const detail = (probe.error?.message ?? probe.stderr ?? '').trim().split('\n')[0];
  return `dist/proxy/cli.js --version failed (exit ${probe.status})${detail ? `: ${detail}` : ''}`;
}

/**
 * Undefined when `breakwater validate` accepts `config`, else its problems on one line: a target whose policy this build
 * does not know (a key of a feature not merged yet) is skipped with them, not with a start-up failure's output.
 */
export function policyProblems(name: string, scratchDir: string, config: object): string | undefined {
  const file = join(scratchDir, `${name}.validate.yaml`);
  writeFileSync(file, stringify(config));
  const check = spawnSync(process.execPath, [CLI, 'validate', file], { encoding: 'utf8', timeout: 10_000 });
  if (check.status === 0) return undefined;
  // The first line names the file and counts the problems; one problem a line follows.
  const problems = `${check.stderr ?? ''}${check.error?.message ?? ''}`.trim().split('\n').slice(1).map((line) => line.trim());
  return problems.join('; ') || `breakwater validate exited ${check.status}`;
}

export interface BreakwaterInstance {
  process: StartedProcess;
  /** The policy file it watches: rewriting it reloads the policy. */
  configFile: string;
  /** Base URL of the "egress" listener. */
  url: string;
  /** Base URL of the admin listener (/metrics, /readyz). */
  adminUrl: string;
}

function listeningAddress(line: string, listener: string): string | undefined {
  if (!line.includes('"listening"')) return undefined;
  try {
    const entry = JSON.parse(line) as { msg?: string; listener?: string; address?: string };
    return entry.msg === 'listening' && entry.listener === listener ? entry.address : undefined;
  } catch {
    return undefined;
  }
}

export async function startBreakwater(
  name: string,
  scratchDir: string,
  config: object,
  cpus: string | undefined,
  nodeOptions = chartNodeOptions(),
): Promise<BreakwaterInstance> {
  const configFile = join(scratchDir, `${name}.yaml`);
  writeFileSync(configFile, stringify(config));
  const started = startProcess(name, process.execPath, [CLI, '--config', configFile], { cpus, env: { NODE_OPTIONS: nodeOptions } });
  const [egress, admin] = await Promise.all(
    ['egress', 'admin'].map((listener) =>
      started.waitForLine((line) => listeningAddress(line, listener) !== undefined, READY_TIMEOUT_MS),
    ),
  );
  return {
    process: started,
    configFile,
    url: `http://${listeningAddress(egress, 'egress')}`,
    adminUrl: `http://${listeningAddress(admin, 'admin')}`,
  };
}
