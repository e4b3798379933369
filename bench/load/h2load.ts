// Closed-loop HTTP/2 cleartext load with h2load (nghttp2's load generator, Debian package nghttp2-client): prior
// knowledge, `connections` connections with `streams` requests in flight on each, for `durationS` (-D; h2load's -n is
// ignored in a timed run, so the window is bounded by time, and each connection by -N when a peer stops answering).
// h2load prints no percentiles: they come from its per-request log (--log-file), exact at microsecond resolution.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runToCompletion } from '../harness/children.js';
import { LatencyRecorder } from './latency-recorder.js';
import type { ClosedLoopSpec, LoadResult } from './load-types.js';

export const H2LOAD_INSTALL_HINT = 'apt-get install -y nghttp2-client';
/** A connection with nothing to read for this long is given up (h2load -N), so a stalled target cannot hold a window. */
const INACTIVITY_TIMEOUT = '5s';

const SECOND_DIVISORS = { us: 1e6, ms: 1e3, s: 1 };

function required(output: string, pattern: RegExp, what: string): RegExpExecArray {
  const match = pattern.exec(output);
  if (!match) throw new Error(`h2load output has no ${what}:\n${output}`);
  return match;
}

/** The figures of h2load's summary; the percentiles come from the log (parseH2loadLog). */
export function parseH2loadSummary(output: string): Pick<LoadResult, 'requests' | 'durationS' | 'rps' | 'non2xx' | 'socketErrors'> {
  const [, amount, unit, rps] = required(output, /^finished in ([\d.]+)(us|ms|s), ([\d.]+) req\/s/m, '"finished in" line');
  // "failed" also counts answers with a failing status; "errored" only requests that got no answer (timeouts among them).
  const [, done, errored] = required(
    output,
    /^requests: \d+ total, \d+ started, (\d+) done, \d+ succeeded, \d+ failed, (\d+) errored, \d+ timeout/m,
    '"requests:" line',
  );
  // As wrk counts them: a 3xx is an answer, not a failure.
  const [, s4xx, s5xx] = required(output, /^status codes: \d+ 2xx, \d+ 3xx, (\d+) 4xx, (\d+) 5xx/m, '"status codes:" line');
  return {
    requests: Number(done),
    durationS: Number(amount) / SECOND_DIVISORS[unit as 'us' | 'ms' | 's'],
    rps: Number(rps),
    non2xx: Number(s4xx) + Number(s5xx),
    socketErrors: Number(errored),
  };
}

/** p50 and p99 of the third column of h2load's --log-file (microseconds from a request's start to its response's end). */
export function parseH2loadLog(log: string): { p50Us: number; p99Us: number } {
  const lines = log.split('\n').filter((line) => line.length > 0);
  const recorder = new LatencyRecorder(lines.length);
  for (const line of lines) {
    const latencyUs = Number(line.split('\t')[2]);
    if (!Number.isFinite(latencyUs)) throw new Error(`h2load log: cannot read the line "${line}"`);
    recorder.record(latencyUs);
  }
  const { p50Us, p99Us } = recorder.summary();
  return { p50Us, p99Us };
}

let runs = 0;

export function h2loadGenerator(scratchDir: string) {
  return async (spec: ClosedLoopSpec): Promise<LoadResult> => {
    const logFile = join(scratchDir, `h2load-${++runs}.tsv`);
    const args = [
      `-c${spec.connections}`,
      `-m${spec.streams ?? 1}`,
      '-D', `${Math.round(spec.durationS * 1000)}ms`,
      '-N', INACTIVITY_TIMEOUT,
      `--log-file=${logFile}`,
      spec.url,
    ];
    try {
      const output = await runToCompletion('h2load', 'h2load', args);
      // No log when no connection was made.
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
      return { generator: 'h2load', ...parseH2loadSummary(output), ...parseH2loadLog(log) };
    } finally {
      rmSync(logFile, { force: true }); // h2load appends to an existing log, and a window writes megabytes
    }
  };
}
