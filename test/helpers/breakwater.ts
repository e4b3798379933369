/**
 * Starts real Breakwater processes (dist/proxy/cli.js) for integration tests, on OS-assigned loopback ports.
 * The policy is written to a fresh temp folder; its listeners and admin may use port 0: the bound addresses are
 * read from Breakwater's own "listening" log lines. Every JSON log line is kept for assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { stringify } from 'yaml';
import { parsePrometheusText } from '../../chaos/prometheus-text.js';

export const CLI = fileURLToPath(new URL('../../dist/proxy/cli.js', import.meta.url));

export type LogLine = Record<string, unknown> & { msg?: string };

export interface RunningBreakwater {
  pid: number;
  child: ChildProcess;
  /** http://127.0.0.1:PORT of each listener, by name. */
  listeners: Record<string, string>;
  /** http://127.0.0.1:PORT of the first listener. */
  url: string;
  admin: string;
  policyFile: string;
  logs: LogLine[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits (bounded) for a log line the predicate accepts, counting lines already seen from index `from`. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number, from?: number): Promise<LogLine>;
  /** Replaces the policy file by an atomic rename, as an editor or a ConfigMap update does. */
  writePolicy(policy: object | string): void;
  metrics(): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  env?: Record<string, string>;
  startTimeoutMs?: number;
  /**
   * Start on this policy file (e.g. a ConfigMap-style symlink the test wrote itself) instead of writing `policy` to a
   * fresh temp folder; `policy` is then ignored, writePolicy() renames over this path, and the caller removes it.
   */
  policyPath?: string;
  /** Starts Breakwater under this file-descriptor limit (`ulimit -n`), to show what holds descriptors. */
  maxOpenFiles?: number;
}

/** Default admin and drain settings that keep tests fast; the policy given overrides them. */
export function withTestDefaults(policy: Record<string, unknown>): Record<string, unknown> {
  return { admin: { address: '127.0.0.1:0' }, drain: { delay: '0s', timeout: '5s' }, ...policy };
}

export async function startBreakwater(policy: Record<string, unknown> | string, options: StartOptions = {}): Promise<RunningBreakwater> {
  const dir = options.policyPath ? dirname(options.policyPath) : mkdtempSync(join(tmpdir(), 'breakwater-test-'));
  const policyFile = options.policyPath ?? join(dir, 'policy.yaml');
  const ownsDir = options.policyPath === undefined;
  if (ownsDir) writeFileSync(policyFile, typeof policy === 'string' ? policy : stringify(withTestDefaults(policy)));

  const command = [process.execPath, CLI, '--config', policyFile];
  // exec keeps the shell's pid, so `pid` and signals still reach Breakwater itself.
  const [file, ...args] =
    options.maxOpenFiles === undefined ? command : ['/bin/sh', '-c', 'ulimit -n "$1" && shift && exec "$@"', 'sh', String(options.maxOpenFiles), ...command];
  const child = spawn(file!, args, {
    env: { ...process.env, BREAKWATER_LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ msg: line });
      }
    }
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  let exitedNow = false;
  // 'close' comes after the output streams have ended, so every log line is in `logs` by then.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      exitedNow = true;
      resolve({ code, signal });
      for (const w of waiters) w();
    });
  });

  const waitForLog = (predicate: (line: LogLine) => boolean, timeoutMs = 5000, from = 0): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      let index = from;
      const check = () => {
        for (; index < logs.length; index++) {
          if (predicate(logs[index]!)) {
            cleanup();
            return resolve(logs[index]!);
          }
        }
        if (exitedNow) {
          cleanup();
          reject(new Error(`breakwater exited before the expected log line; stderr:\n${stderr}\nlast logs:\n${logs.slice(-5).map((l) => JSON.stringify(l)).join('\n')}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching breakwater log line within ${timeoutMs} ms; stderr:\n${stderr}\nlast logs:\n${logs.slice(-5).map((l) => JSON.stringify(l)).join('\n')}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  let ready: LogLine;
  try {
    ready = await waitForLog((l) => l.msg === 'breakwater ready', options.startTimeoutMs ?? 10_000);
  } catch (err) {
    child.kill('SIGKILL');
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const listeners: Record<string, string> = {};
  for (const [name, address] of Object.entries(ready.listeners as Record<string, string>)) listeners[name] = `http://${address}`;
  const admin = `http://${ready.admin as string}`;
  let stopped: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;

  return {
    pid: child.pid!,
    child,
    listeners,
    url: Object.values(listeners)[0]!,
    admin,
    policyFile,
    logs,
    exited,
    waitForLog,
    writePolicy(next) {
      const tmp = join(dir, `.policy-${process.hrtime.bigint()}.yaml`);
      writeFileSync(tmp, typeof next === 'string' ? next : stringify(withTestDefaults(next as Record<string, unknown>)));
      renameSync(tmp, policyFile);
    },
    async metrics() {
      const res = await request(`${admin}/metrics`);
      return res.body.text();
    },
    stop(signal = 'SIGTERM') {
      stopped ??= (async () => {
        if (!exitedNow) child.kill(signal);
        const timeout = setTimeout(() => child.kill('SIGKILL'), 15_000);
        const status = await exited;
        clearTimeout(timeout);
        if (ownsDir) rmSync(dir, { recursive: true, force: true });
        return status;
      })();
      return stopped;
    },
  };
}

/** Sums the values of one metric's series whose labels include every given label. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  return parsePrometheusText(text)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0);
}

/** Polls `check` until it returns a value other than undefined, or fails with `what` after timeoutMs. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 5000, intervalMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request through undici, its body read in full. */
export async function http(url: string, options: { method?: 'GET' | 'POST' | 'HEAD'; headers?: Record<string, string>; body?: string } = {}): Promise<HttpResult> {
  const res = await request(url, { method: options.method ?? 'GET', headers: options.headers, body: options.body });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}
