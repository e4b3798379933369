// Every process the harness starts is registered here so that it can be ended by PID on
// normal exit, on SIGINT/SIGTERM and on error — never by name.
//
// Output goes to a file per process, not to a pipe: a pipe only drains as fast as the harness reads
// it, and a proxy writing its access log into a full pipe would be measured stalling on the harness.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';

export interface StartedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** The head of what the process wrote (stdout and stderr), for readiness and error messages. */
  output(): string;
  /** Resolves with the first complete output line matching `predicate`; rejects on exit or deadline. */
  waitForLine(predicate: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** Resolves once the process has exited. */
  readonly ended: Promise<void>;
  hasExited(): boolean;
  stop(): Promise<void>;
}

const OUTPUT_HEAD_BYTES = 64 * 1024;
const POLL_MS = 25;
const STOP_GRACE_MS = 2000;
const running = new Set<StartedProcess>();
let logDirectory: string | undefined;
let started = 0;

/** Where process output files go; the caller removes the directory at the end. */
export function setProcessLogDirectory(directory: string): void {
  logDirectory = directory;
}

function readHead(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(OUTPUT_HEAD_BYTES);
    return buffer.toString('utf8', 0, readSync(fd, buffer, 0, OUTPUT_HEAD_BYTES, 0));
  } finally {
    closeSync(fd);
  }
}

/** Optionally pins the process to CPUs via taskset so proxy and upstream don't compete for one core. */
export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: { cpus?: string; env?: Record<string, string> } = {},
): StartedProcess {
  if (logDirectory === undefined) throw new Error('setProcessLogDirectory() must be called first');
  const logFile = join(logDirectory, `${name}-${++started}.log`);
  const logFd = openSync(logFile, 'w');
  const [file, argv] = options.cpus === undefined ? [command, args] : ['taskset', ['-c', options.cpus, command, ...args]];
  let child: ChildProcess;
  try {
    child = spawn(file, argv, { stdio: ['ignore', logFd, logFd], env: { ...process.env, ...options.env } });
  } finally {
    closeSync(logFd); // the child holds its own copy
  }
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  const ended = once(child, 'exit').then(() => undefined);
  const hasExited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const output = (): string => readHead(logFile);

  const handle: StartedProcess = {
    name,
    child,
    pid: child.pid,
    output,
    ended,
    hasExited,
    async waitForLine(predicate, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = output();
        const line = text.slice(0, text.lastIndexOf('\n') + 1).split('\n').find(predicate);
        if (line !== undefined) return line;
        if (hasExited()) {
          throw new Error(`${name} exited (code ${child.exitCode}, signal ${child.signalCode}) before it was ready; output:\n${output()}`);
        }
        if (Date.now() > deadline) throw new Error(`${name} not ready within ${timeoutMs} ms; output:\n${text}`);
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    },
    async stop() {
      running.delete(handle);
      if (hasExited()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await ended;
      clearTimeout(timer);
    },
  };
  running.add(handle);
  child.once('exit', () => running.delete(handle));
  return handle;
}

/** Pins every thread of the harness itself to `cpus` (taskset), away from the proxy's core; undefined leaves it. */
export function pinThisProcess(cpus: string | undefined): void {
  if (cpus !== undefined) spawnSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
}

/** Runs a command to completion and returns its output; rejects with that output on a non-zero exit. */
export async function runToCompletion(
  name: string,
  command: string,
  args: readonly string[],
  options: { cpus?: string } = {},
): Promise<string> {
  const finished = startProcess(name, command, args, options);
  await finished.ended;
  const code = finished.child.exitCode;
  if (code !== 0) throw new Error(`${name} failed (exit ${code}): ${finished.output().trim()}`);
  return finished.output();
}

export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...running].map((entry) => entry.stop()));
}

/** Last resort for `process.on('exit')`, where only synchronous work is possible. */
export function killAllProcessesNow(): void {
  for (const entry of running) entry.child.kill('SIGKILL');
  running.clear();
}
