// A fault of Breakwater's own while serving one request fails that request with a 500 and a log line: the process
// and every other request go on. The fault here is a fallback header node:http refuses to write, put into a policy
// after validation (which refuses it: test/proxy/config covers that), as a bug of that kind would.
import { request } from 'node:http';
import pino from 'pino';
import t from 'tap';
import { stringify } from 'yaml';
import { parsePolicy } from '../../../proxy/config/load.js';
import { Runtime } from '../../../proxy/runtime/runtime.js';
import { AccessLog } from '../../../proxy/telemetry/access-log.js';
import { Metrics } from '../../../proxy/telemetry/metrics.js';
import { withTestDefaults } from '../../helpers/breakwater.js';
import { closedPort } from '../../helpers/closed-port.js';
import { waitFor } from '../../helpers/wait-for.js';

function get(address: string, path: string): Promise<{ status: number; body: string }> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), path, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to GET ${path} within 5 s`)));
    req.on('error', reject).end();
  });
}

t.test("a request that fails inside Breakwater is answered 500, logged, and the listener serves on", async (t) => {
  const policy = parsePolicy(
    stringify(
      withTestDefaults({
        listeners: [
          {
            name: 'egress',
            address: '127.0.0.1:0',
            routes: [
              {
                name: 'broken-fallback',
                match: { pathPrefix: '/broken' },
                upstream: 'down',
                circuitBreaker: { consecutiveFailures: 1, resetTimeout: '60s', failOn: ['connect-failure'] },
                fallback: { status: 503, body: 'later' },
              },
              { name: 'other', match: { pathPrefix: '/other' }, upstream: 'down' },
            ],
          },
        ],
        upstreams: [{ name: 'down', endpoints: [`127.0.0.1:${await closedPort()}`] }],
      }),
    ),
    'policy.yaml',
  );
  (policy.listeners[0]!.routes[0]!.fallback!.headers as Record<string, string>)['bad name'] = 'x';
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  const metrics = new Metrics();
  const runtime = await Runtime.start('policy.yaml', metrics, { log, access: new AccessLog({ write: () => true }, () => '', {}, false) }, policy);
  t.teardown(() => runtime.drain(true));
  const address = runtime.listenerAddresses().egress!;

  t.equal((await get(address, '/broken')).status, 503, 'the connect failure opens the breaker');
  const failed = await get(address, '/broken');
  t.equal(failed.status, 500, 'the fallback that cannot be written is answered 500');
  t.match(JSON.parse(failed.body), { error: 'internal error' });
  t.ok(
    lines.some((line) => /unexpected error while serving a request/.test(line) && /ERR_INVALID_HTTP_TOKEN/.test(line) && /"path":"\/broken"/.test(line)),
    'the error is logged with its request',
  );
  t.equal((await get(address, '/broken')).status, 500, 'the next request on that route fails the same way, and no worse');
  t.equal((await get(address, '/other')).status, 503, 'another route is served as before');
  await waitFor(() => runtime.generation.users.count === 0, 5000, 'every request to let go of its policy generation');
  t.pass('no request is left holding its policy generation');
  const scraped = Buffer.concat((await metrics.scrape()).chunks).toString();
  t.match(scraped, /breakwater_requests_total\{[^}]*route="broken-fallback"[^}]*outcome="internal-error"[^}]*\} 2\n/, 'both counted as internal-error, an outcome of their own');
});
