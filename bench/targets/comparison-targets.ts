// The comparison targets: each starts in its own process (pinned to the proxy CPU) in front of the
// same upstream, or is skipped with the reason.
import { fileURLToPath } from 'node:url';
import { startProcess } from '../harness/children.js';
import { freePort } from '../harness/free-port.js';
import { startHaproxy } from './haproxy.js';
import { nginxProxyConfig, startNginx } from './nginx.js';
import { realisticConfig, startBreakwater } from './breakwater.js';
import { INSTALL_HINT } from '../harness/tools.js';

export interface Target {
  name: string;
  label: string;
  url: string;
  /** The process whose CPU and RSS are measured; undefined for "direct". */
  pid: number | undefined;
}

export interface TargetSlot {
  name: string;
  label: string;
  target?: Target;
  skipped?: string;
}

export interface TargetEnvironment {
  scratchDir: string;
  /** host:port of the shared upstream. */
  upstream: string;
  proxyCpus: string | undefined;
  has: { nginx: boolean; haproxy: boolean };
  breakwaterUnavailable: string | undefined;
}

const READY_TIMEOUT_MS = 15_000;

async function startNodeProxy(script: string, env: TargetEnvironment): Promise<{ url: string; pid: number }> {
  const path = fileURLToPath(new URL(`./servers/${script}.js`, import.meta.url));
  // Node's defaults, whatever NODE_OPTIONS the harness itself runs under (a test runner's loader, say).
  const started = startProcess(script, process.execPath, [path, '--upstream', `http://${env.upstream}`], {
    cpus: env.proxyCpus,
    env: { NODE_OPTIONS: '' },
  });
  const line = await started.waitForLine((text) => text.includes('"listening"'), READY_TIMEOUT_MS);
  return { url: `http://${(JSON.parse(line) as { address: string }).address}`, pid: started.pid };
}

export interface TargetDefinition {
  name: string;
  label: string;
  /** Resolves with the target, or with a string saying why it is skipped. */
  start(env: TargetEnvironment): Promise<Omit<Target, 'name' | 'label'> | string>;
}

/** The upstream itself, the baseline of every comparison. */
export const DIRECT_TARGET: TargetDefinition = {
  name: 'direct',
  label: 'direct, no proxy',
  start: async (env) => ({ url: `http://${env.upstream}`, pid: undefined }),
};

export const TARGET_DEFINITIONS: readonly TargetDefinition[] = [
  DIRECT_TARGET,
  {
    name: 'breakwater',
    label: 'Breakwater, realistic policy',
    async start(env) {
      if (env.breakwaterUnavailable) return env.breakwaterUnavailable;
      const instance = await startBreakwater('breakwater', env.scratchDir, realisticConfig(env.upstream), env.proxyCpus);
      return { url: instance.url, pid: instance.process.pid };
    },
  },
  {
    name: 'fastify-http-proxy',
    label: '@fastify/http-proxy, no policies',
    start: (env) => startNodeProxy('fastify-proxy', env),
  },
  {
    name: 'node-undici',
    label: 'node:http + undici Pool, no policies',
    start: (env) => startNodeProxy('undici-proxy', env),
  },
  {
    name: 'nginx',
    label: 'nginx, 1 worker',
    async start(env) {
      if (!env.has.nginx) return `nginx not installed (${INSTALL_HINT})`;
      const port = await freePort();
      const config = nginxProxyConfig(env.scratchDir, port, env.upstream);
      const nginx = await startNginx('nginx-proxy', env.scratchDir, config, port, env.proxyCpus);
      return { url: `http://127.0.0.1:${port}`, pid: nginx.workerPid };
    },
  },
  {
    name: 'haproxy',
    label: 'HAProxy, 1 thread',
    async start(env) {
      if (!env.has.haproxy) return `haproxy not installed (${INSTALL_HINT})`;
      const port = await freePort();
      const haproxy = await startHaproxy(env.scratchDir, port, env.upstream, env.proxyCpus);
      return { url: `http://127.0.0.1:${port}`, pid: haproxy.pid };
    },
  },
];

/** Starts each target in turn (the HTTP/1.1 comparison's by default); one that fails to start is skipped, saying why. */
export async function startTargets(
  env: TargetEnvironment,
  definitions: readonly TargetDefinition[] = TARGET_DEFINITIONS,
): Promise<TargetSlot[]> {
  const slots: TargetSlot[] = [];
  for (const definition of definitions) {
    const { name, label } = definition;
    try {
      const started = await definition.start(env);
      if (typeof started === 'string') slots.push({ name, label, skipped: started });
      else slots.push({ name, label, target: { name, label, ...started } });
    } catch (error) {
      slots.push({ name, label, skipped: `failed to start: ${(error as Error).message}` });
    }
  }
  return slots;
}
