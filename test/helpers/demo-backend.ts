/**
 * Starts the demo backend (dist/demo-backend/main.js) as a real child process on a free loopback port.
 * Faults default to OFF here (failureRate, slowRate, transientRate 0) so tests are deterministic unless they ask.
 * Registers nothing global: the caller stops it, typically `t.teardown(() => backend.stop())`.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import type { Faults, FaultsPatch } from '../../demo-backend/faults.js';
import type { StatsSnapshot } from '../../demo-backend/request-stats.js';

export type { Faults, FaultsPatch };
export type Stats = StatsSnapshot;

/** Any CLI flag of the backend in camelCase (failureRate → --failure-rate), plus extra env vars. */
export interface StartBackendOptions {
  name?: string;
  host?: string;
  failureRate?: number;
  failureStatus?: number;
  slowRate?: number;
  slowDelay?: string;
  transientRate?: number;
  retryAfter?: string;
  seed?: number;
  readyDelay?: string;
  logLevel?: string;
  env?: Record<string, string>;
  /** Bound on waiting for the "listening" line; default 20 s (a loaded CI box can be slow to boot node). */
  startTimeoutMs?: number;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningBackend {
  url: string;
  port: number;
  /** "127.0.0.1:PORT", as a proxy upstream address. */
  address: string;
  pid: number;
  name: string;
  /** Settles when the process exits. */
  exited: Promise<ExitStatus>;
  setFaults(patch: FaultsPatch): Promise<Faults>;
  stats(): Promise<Stats>;
  reset(): Promise<void>;
  /** SIGTERM, then wait (bounded) for exit; rejects if it does not exit 0 in time. */
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

const MAIN = fileURLToPath(new URL('../../dist/demo-backend/main.js', import.meta.url));
const STOP_TIMEOUT_MS = 5_000;
const STDERR_KEPT_BYTES = 4_096;

function toFlags(options: StartBackendOptions): string[] {
  const { env: _env, startTimeoutMs: _timeout, ...flags } = options;
  const merged: Record<string, string | number | undefined> = { failureRate: 0, slowRate: 0, transientRate: 0, ...flags };
  return Object.entries(merged)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .flatMap(([key, value]) => [`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(value)]);
}

interface ListeningLine {
  msg: 'listening';
  port: number;
  url: string;
  name: string;
}

function parseListening(line: string): ListeningLine | undefined {
  try {
    const parsed = JSON.parse(line) as Partial<ListeningLine>;
    return parsed.msg === 'listening' && typeof parsed.port === 'number' ? (parsed as ListeningLine) : undefined;
  } catch {
    return undefined;
  }
}

export async function startBackend(options: StartBackendOptions = {}): Promise<RunningBackend> {
  if (!existsSync(MAIN)) throw new Error(`demo backend not built: ${MAIN} is missing; run "npm run build" first`);
  const child = spawn(process.execPath, [MAIN, '--port', '0', ...toFlags(options)], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_KEPT_BYTES);
  });
  const exited = new Promise<ExitStatus>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  const listening = await new Promise<ListeningLine>((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`demo backend did not log "listening" within ${startTimeoutMs} ms; stderr:\n${stderr}`));
    }, startTimeoutMs);
    // stdout keeps flowing after startup (drained, never buffered) so the child cannot block on a full pipe.
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      const lines = (pending + text).split('\n');
      pending = lines.pop() ?? '';
      const found = lines.map(parseListening).find(Boolean);
      if (found) {
        clearTimeout(timer);
        pending = '';
        resolve(found);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`demo backend exited (code ${code}, signal ${signal}) before listening; stderr:\n${stderr}`));
    });
  });

  const admin = new Pool(listening.url, { connections: 2 });
  void exited.then(() => admin.destroy());
  const call = async <T>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<T> => {
    const response = await admin.request({
      method,
      path,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`${method} ${path} answered ${response.statusCode}: ${text}`);
    return JSON.parse(text) as T;
  };

  return {
    url: listening.url,
    port: listening.port,
    address: `127.0.0.1:${listening.port}`,
    pid: child.pid!,
    name: listening.name,
    exited,
    setFaults: (patch) => call<Faults>('PUT', '/admin/faults', patch),
    stats: () => call<Stats>('GET', '/admin/stats'),
    reset: async () => {
      await call<Faults>('POST', '/admin/reset');
    },
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, signal);
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(child.pid!, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        exited,
        new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        process.kill(child.pid!, 'SIGKILL');
        throw new Error(`demo backend pid ${child.pid} did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM`);
      }
      if (outcome.code !== 0) {
        throw new Error(`demo backend exited with code ${outcome.code} (signal ${outcome.signal}) on SIGTERM; stderr:\n${stderr}`);
      }
    },
  };
}
