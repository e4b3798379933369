import t from 'tap';
import { parseLoadArgs, parseServeArgs } from '../../../demo-client/args.js';

const URL_ARGS = ['--url', 'http://127.0.0.1:1/api/data'];

t.test('load arguments: defaults and parsing', async (t) => {
  t.same(parseLoadArgs([...URL_ARGS, '--rate', '20']), {
    url: 'http://127.0.0.1:1/api/data', rate: 20, mode: 'none', arm: 'none', method: 'GET', policyFile: undefined, durationMs: 30_000, outFile: undefined,
    protocol: 'http',
  });
  t.match(parseLoadArgs([...URL_ARGS, '--rate', '2.5', '--duration', '1500ms', '--mode', 'app', '--arm', 'app+proxy', '--out', 'r.jsonl', '--policy', 'p.json', '--method', 'post']), {
    rate: 2.5, durationMs: 1500, mode: 'app', arm: 'app+proxy', outFile: 'r.jsonl', policyFile: 'p.json', method: 'POST',
  });
  t.match(parseLoadArgs([...URL_ARGS, '--rate', '1', '--protocol', 'grpc']), { protocol: 'grpc' });
  t.throws(() => parseLoadArgs([...URL_ARGS, '--rate', '1', '--protocol', 'h3']), /--protocol: expected http or grpc, got "h3"/);
});

t.test('serve arguments: env equivalents, flags win', async (t) => {
  const env = { DEMO_CLIENT_URL: 'http://127.0.0.1:15001/api/data', DEMO_CLIENT_RATE: '10', DEMO_CLIENT_PORT: '8080', DEMO_CLIENT_MODE: 'app' };
  t.match(parseServeArgs([], env), { url: 'http://127.0.0.1:15001/api/data', rate: 10, port: 8080, mode: 'app', arm: 'app', host: '0.0.0.0' });
  t.match(parseServeArgs(['--rate', '3', '--port', '0', '--mode', 'none'], env), { rate: 3, port: 0, mode: 'none' });
});

t.test('bad arguments name the argument and the value', async (t) => {
  const cases: Array<[() => unknown, RegExp]> = [
    [() => parseLoadArgs([...URL_ARGS, '--rate', 'fast']), /--rate \(or DEMO_CLIENT_RATE\): expected a positive number of requests per second, got "fast"/],
    [() => parseLoadArgs([...URL_ARGS, '--rate=-1']), /--rate .*got "-1"/],
    [() => parseLoadArgs([...URL_ARGS]), /--rate \(or DEMO_CLIENT_RATE\) is required/],
    [() => parseLoadArgs(['--rate', '5']), /--url \(or DEMO_CLIENT_URL\) is required/],
    [() => parseLoadArgs([...URL_ARGS, '--rate', '5', '--duration', '10']), /--duration: expected a duration such as 30s or 500ms, got "10"/],
    [() => parseLoadArgs([...URL_ARGS, '--rate', '5', '--mode', 'retry']), /--mode \(or DEMO_CLIENT_MODE\): expected none or app, got "retry"/],
    [() => parseLoadArgs([...URL_ARGS, '--rate', '5', '--policy', 'p.json']), /--policy applies to --mode app only/],
    [() => parseLoadArgs([...URL_ARGS, '--rate', '5', '--sped', '3']), /Unknown option '--sped'/],
    [() => parseServeArgs([...URL_ARGS, '--rate', '5', '--port', '99999'], {}), /--port \(or DEMO_CLIENT_PORT\): expected a port 0-65535, got "99999"/],
    [() => parseServeArgs([...URL_ARGS, '--rate', '5'], { DEMO_CLIENT_PORT: 'http' }), /DEMO_CLIENT_PORT.*got "http"/],
  ];
  for (const [parse, message] of cases) t.throws(parse, message);
});
