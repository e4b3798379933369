// Runs the benchmark harness as CI runs it, for the smoke tests: `node dist/bench/run.js ARGS --out DIR`.
import type { Test } from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Runs the harness to completion (SIGINT at `deadlineMs`) and returns the JSON report `baseName`.json. */
export async function runBench<T>(t: Test, args: readonly string[], baseName: string, deadlineMs: number): Promise<T | undefined> {
  const outDir = t.testdir();
  const child = spawn(process.execPath, ['dist/bench/run.js', ...args, '--out', outDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.resume();
  const deadline = setTimeout(() => child.kill('SIGINT'), deadlineMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(deadline);
  t.equal(code, 0, `bench ${args.join(' ')} exits 0 within ${deadlineMs} ms`, { stderr });

  const files = readdirSync(outDir);
  const jsonFile = `${baseName}.json`;
  t.ok(files.includes(jsonFile), `${jsonFile} is written (found: ${files.join(', ')})`);
  t.ok(files.includes(`${baseName}.md`), `${baseName}.md is written`);
  return files.includes(jsonFile) ? (JSON.parse(readFileSync(join(outDir, jsonFile), 'utf8')) as T) : undefined;
}
