// The HTTP/2 comparison reads counts from h2load's summary and percentiles from its per-request log: a format slip
// would silently corrupt every h2c figure, so both parsers are checked against real h2load 1.52 output.
import t from 'tap';
import { parseH2loadLog, parseH2loadSummary } from '../../../bench/load/h2load.js';
import { parseOptions } from '../../../bench/options.js';

const TIMED_RUN = `starting benchmark...
spawning thread #0: 1 total client(s). Timing-based test with 0s of warm-up time and 2s of main duration for measurements.
Warm-up started for thread #0.
progress: 100% of clients started
Warm-up phase is over for thread #0.
Main benchmark duration is started for thread #0.
Application protocol: h2c
Main benchmark duration is over for thread #0. Stopping all clients.
Stopped all clients for thread #0

finished in 2.00s, 10164.50 req/s, 277.98KB/s
requests: 20329 total, 20330 started, 20329 done, 20329 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 20329 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 555.96KB (569307) total, 139.04KB (142380) headers (space savings 91.25%), 59.56KB (60987) data
                     min         max         mean         sd        +/- sd
time for request:       41us      9.22ms        95us       138us    98.80%
time for connect:       60us        60us        60us         0us   100.00%
time to 1st byte:     7.10ms      7.10ms      7.10ms         0us   100.00%
req/s           :   10163.69    10163.69    10163.69        0.00   100.00%
`;

/** Against a port nobody listens on: no request got an answer. */
const REFUSED_RUN = `starting benchmark...
spawning thread #0: 1 total client(s). 10 total requests

finished in 329us, 0.00 req/s, 0B/s
requests: 10 total, 0 started, 0 done, 0 succeeded, 10 failed, 10 errored, 0 timeout
status codes: 0 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 0B (0) total, 0B (0) headers (space savings 0.00%), 0B (0) data
`;

t.test('reads the counts and the rate of a timed run', async (t) => {
  t.same(parseH2loadSummary(TIMED_RUN), { requests: 20329, durationS: 2, rps: 10164.5, non2xx: 0, socketErrors: 0 });
});

t.test('answers with a failing status and requests without an answer are told apart', async (t) => {
  const withFailures = TIMED_RUN
    .replace('0 failed, 0 errored, 0 timeout', '9 failed, 4 errored, 1 timeout')
    .replace('20329 2xx, 0 3xx, 0 4xx, 0 5xx', '20319 2xx, 5 3xx, 2 4xx, 3 5xx');
  const parsed = parseH2loadSummary(withFailures);
  t.equal(parsed.non2xx, 5, '4xx and 5xx, not 3xx');
  t.equal(parsed.socketErrors, 4, '"errored", of which the timeouts are a part');
});

t.test('a run that reached nobody reads as no requests and every one without an answer, in microseconds', async (t) => {
  t.same(parseH2loadSummary(REFUSED_RUN), { requests: 0, durationS: 0.000329, rps: 0, non2xx: 0, socketErrors: 10 });
  t.same(parseH2loadLog(''), { p50Us: Number.NaN, p99Us: Number.NaN }, 'no percentiles from an empty log');
});

t.test('percentiles come from the log\'s third column, in microseconds', async (t) => {
  const log = Array.from({ length: 100 }, (_, index) => `1796679851679080\t200\t${index + 1}`).reverse().join('\n');
  t.same(parseH2loadLog(`${log}\n`), { p50Us: 50, p99Us: 99 });
  t.throws(() => parseH2loadLog('1796679851679080\t200\n'), /cannot read the line/);
});

t.test('output that is not h2load\'s summary is rejected naming what is missing', async (t) => {
  t.throws(() => parseH2loadSummary('h2load: unknown option\n'), /no "finished in" line/);
});

t.test('--h2 runs on its own', async (t) => {
  t.same(parseOptions(['--smoke', '--h2', '--out', 'r']), { smoke: true, outDir: 'r', h2: true });
  t.throws(() => parseOptions(['--h2', '--soak']), /one at a time/);
  t.throws(() => parseOptions(['--hostile', '--h2']), /one at a time/);
});
