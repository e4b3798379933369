import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../../dist/demo-client/main.js', import.meta.url));

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/demo-client/main.js ...args` to completion, killing it if it outlives `timeoutMs`. */
export async function runMain(args: string[], timeoutMs: number): Promise<Finished> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Resolves with the first JSON stdout line that `match` accepts, or rejects after `timeoutMs` naming what it saw. */
export function waitForJsonLine(child: ChildProcess, match: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const seen: string[] = [];
    const timer = setTimeout(() => finish(new Error(`no matching line within ${timeoutMs} ms; saw: ${seen.join(' | ') || 'nothing'}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        seen.push(line);
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if (match(parsed)) return finish(undefined, parsed);
        } catch {
          // not JSON: keep it for the failure message
        }
      }
    };
    const onExit = (code: number | null): void => finish(new Error(`process exited (${code}) before a matching line; saw: ${seen.join(' | ')}`));
    function finish(err: Error | undefined, line?: Record<string, unknown>): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(line!);
    }
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Polls `probe` until it returns a value, or throws `what` after `timeoutMs`. */
export async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
