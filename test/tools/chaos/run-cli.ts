import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isGone } from '../../helpers/wait-for.js';

export const CLI = fileURLToPath(new URL('../../../dist/chaos/cli.js', import.meta.url));

export interface CliRun {
  pid: number;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Starts the chaos CLI (the built one, as `npm run chaos` does); the caller waits on `exit` or kills `pid`. */
export function startCli(args: string[]): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return {
    pid: child.pid!,
    stdout: () => stdout,
    stderr: () => stderr,
    exit: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
}

/** Every child PID the runner reported starting ("started replica b/0 (pid 123)"). */
export function reportedPids(stderr: string): number[] {
  return [...stderr.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
}

/** Bounds a wait on the CLI's exit so a hung run fails the test with a message instead of hanging it. */
export async function exitWithin(run: CliRun, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`chaos CLI did not exit within ${ms} ms; stderr:\n${run.stderr()}`)), ms);
  });
  try {
    return await Promise.race([run.exit, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Teardown for a test that failed midway: let the runner clean up (SIGTERM), then make sure nothing it started survives. */
export async function stopCli(run: CliRun): Promise<void> {
  if (!isGone(run.pid)) {
    process.kill(run.pid, 'SIGTERM');
    await exitWithin(run, 15_000).catch(() => process.kill(run.pid, 'SIGKILL'));
  }
  for (const pid of reportedPids(run.stderr())) if (!isGone(pid)) process.kill(pid, 'SIGKILL');
}
