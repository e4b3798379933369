// The harness reads latency percentiles and counts from `wrk --latency` text: a format slip would
// silently corrupt every figure, so the parser is checked against real wrk 4.1 output.
import t from 'tap';
import { parseWrkOutput } from '../../../bench/load/wrk.js';
import { parseOptions } from '../../../bench/options.js';

const WRK_OUTPUT = `Running 1s test @ http://127.0.0.1:18998/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     7.03ms   16.85ms 129.22ms   93.36%
    Req/Sec     2.44k     1.77k    5.25k    60.00%
  Latency Distribution
     50%   83.00us
     75%    6.07ms
     90%   15.05ms
     99%    1.20s
  2527 requests in 1.03s, 317.53KB read
  Socket errors: connect 1, read 2, write 3, timeout 4
  Non-2xx or 3xx responses: 843
Requests/sec:   2446.44
Transfer/sec:    307.41KB
`;

t.test('reads counts and converts every time unit to microseconds', async (t) => {
  t.same(parseWrkOutput(WRK_OUTPUT), {
    requests: 2527,
    durationS: 1.03,
    rps: 2446.44,
    p50Us: 83,
    p99Us: 1_200_000,
    non2xx: 843,
    socketErrors: 10,
  });
});

t.test('a clean run has no failures', async (t) => {
  const clean = WRK_OUTPUT.replace(/^\s+(Socket errors|Non-2xx).*\n/gm, '');
  const parsed = parseWrkOutput(clean);
  t.equal(parsed.non2xx, 0);
  t.equal(parsed.socketErrors, 0);
});

t.test('output without --latency is rejected naming what is missing', async (t) => {
  const withoutDistribution = WRK_OUTPUT.replace(/^\s+\d+%.*\n/gm, '');
  t.throws(() => parseWrkOutput(withoutDistribution), /no 50% latency \(was --latency passed\?\)/);
});

t.test('the command line rejects unknown options and a missing --out value', async (t) => {
  t.same(parseOptions(['--smoke', '--out', 'results']), { smoke: true, outDir: 'results' });
  t.throws(() => parseOptions(['--fast']), /unknown option "--fast"/);
  t.throws(() => parseOptions(['--out']), /--out needs a directory/);
});

t.test('--soak takes an optional duration and --rate, and rejects what it cannot use', async (t) => {
  t.equal(parseOptions(['--soak']).soakS, 600, 'ten minutes by default');
  t.equal(parseOptions(['--smoke', '--soak']).soakS, 3, 'seconds in a smoke run');
  t.same(parseOptions(['--soak', '90s', '--rate', '500', '--out', 'r']), { smoke: false, outDir: 'r', soakS: 90, soakRps: 500 });
  t.equal(parseOptions(['--soak', '--out', 'r']).soakS, 600, 'an option after --soak is not taken for its duration');
  t.throws(() => parseOptions(['--soak', 'ten']), /--soak takes a duration .* not "ten"/);
  t.throws(() => parseOptions(['--soak', '200ms']), /--soak takes a duration of 1s or more/);
  t.throws(() => parseOptions(['--soak', '--rate', '0']), /--rate needs a whole number/);
  t.throws(() => parseOptions(['--rate', '100']), /--rate only applies to --soak/);
});
