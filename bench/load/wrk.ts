// Closed-loop load with wrk (one thread), latency percentiles parsed from `wrk --latency`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runToCompletion } from '../harness/children.js';
import type { ClosedLoopSpec, LoadResult } from './load-types.js';

const TIME_UNITS_US: Record<string, number> = { us: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 };

function durationUs(text: string, where: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  if (!match) throw new Error(`wrk output: cannot read the time "${text}" in ${where}`);
  return Number(match[1]) * TIME_UNITS_US[match[2]];
}

function required(output: string, pattern: RegExp, what: string): RegExpExecArray {
  const match = pattern.exec(output);
  if (!match) throw new Error(`wrk output has no ${what}:\n${output}`);
  return match;
}

/** Parses the report `wrk --latency` prints; throws naming the missing part. */
export function parseWrkOutput(output: string): Omit<LoadResult, 'generator'> {
  const [, requests, duration] = required(output, /^\s*(\d+) requests in ([\d.]+\w+),/m, '"N requests in T" line');
  const [, rps] = required(output, /^Requests\/sec:\s+([\d.]+)/m, '"Requests/sec" line');
  const [, p50] = required(output, /^\s+50%\s+(\S+)/m, '50% latency (was --latency passed?)');
  const [, p99] = required(output, /^\s+99%\s+(\S+)/m, '99% latency (was --latency passed?)');
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(output);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requests: Number(requests),
    durationS: durationUs(duration, 'the "requests in" line') / 1e6,
    rps: Number(rps),
    p50Us: durationUs(p50, 'the 50% line'),
    p99Us: durationUs(p99, 'the 99% line'),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: errors ? errors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
  };
}

/** wrk can only POST through a Lua script; the script is written once per body size. */
function postScript(scratchDir: string, bodyBytes: number): string {
  const path = join(scratchDir, `post-${bodyBytes}.lua`);
  writeFileSync(
    path,
    `wrk.method = "POST"\nwrk.body = string.rep("x", ${bodyBytes})\n` +
      `wrk.headers["Content-Type"] = "application/octet-stream"\n`,
  );
  return path;
}

export function wrkGenerator(scratchDir: string, cpus: string | undefined) {
  return async (spec: ClosedLoopSpec): Promise<LoadResult> => {
    if (!Number.isInteger(spec.durationS) || spec.durationS < 1) {
      throw new Error(`wrk needs a whole number of seconds, got ${spec.durationS}`);
    }
    const args = ['-t1', `-c${spec.connections}`, `-d${spec.durationS}s`, '--timeout', '5s', '--latency'];
    if (spec.postBodyBytes !== undefined) args.push('-s', postScript(scratchDir, spec.postBodyBytes));
    const output = await runToCompletion('wrk', 'wrk', [...args, spec.url], { cpus });
    return { generator: 'wrk', ...parseWrkOutput(output) };
  };
}
