/**
 * One classification of outcomes, seen from outside: the breaker streak survives a client leaving in the middle,
 * deterministic upstream failures are reported as what they are and not retried, a 304 with a Content-Length is
 * delivered, and a retry budget spent before a reload stays spent after it. Real Breakwater, scripted upstream.
 */
import { connect } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { http, metricValue, startBreakwater } from '../helpers/breakwater.js';
import { rawExchange } from '../helpers/raw-http.js';
import { startScriptedUpstream } from '../helpers/scripted-upstream.js';

const listener = (routes: object[]) => [{ name: 'egress', address: '127.0.0.1:0', routes }];

t.test('a breaker streak with a client abort in the middle: the abort is neutral, five failures in a row open it', async (t) => {
  const upstream = await startScriptedUpstream();
  t.teardown(() => upstream.close());
  upstream.on('/fail', (a) => {
    a.res.statusCode = 503;
    a.res.end();
  });
  upstream.on('/hang', () => undefined);
  const bw = await startBreakwater({
    listeners: listener([
      { name: 'api', match: { pathPrefix: '/' }, upstream: 'backend', timeout: '10s', circuitBreaker: { consecutiveFailures: 5, volumeThreshold: 1000, failOn: ['5xx'] } },
    ]),
    upstreams: [{ name: 'backend', endpoints: [upstream.address], outlierDetection: { consecutiveFailures: 100 } }],
  });
  t.teardown(() => bw.stop());

  for (let i = 0; i < 4; i++) t.equal((await http(`${bw.url}/fail/${i}`)).status, 503);
  const { port } = new URL(bw.url);
  const leaving = connect(Number(port), '127.0.0.1', () => leaving.write('GET /hang HTTP/1.1\r\nhost: test\r\n\r\n'));
  const arrival = await upstream.arrival('/hang');
  leaving.destroy();
  await arrival.closed;
  await bw.waitForLog((l) => l.msg === 'request' && l.path === '/hang' && l.outcome === 'client-gone');
  t.equal((await http(`${bw.url}/fail/5`)).status, 503, 'the fifth failure is forwarded');
  const shortCircuited = await http(`${bw.url}/fail/6`);
  t.equal(shortCircuited.headers['x-breakwater-circuit'], 'open', 'four failures, an abort, one failure: open');
  t.equal(upstream.count('/fail/6'), 0);
});

t.test('an oversized response head is a protocol error: 502 saying so, not retried, never "reset"', async (t) => {
  const upstream = await startScriptedUpstream();
  t.teardown(() => upstream.close());
  upstream.on('/huge-head', (a) => {
    a.res.setHeader('x-padding', 'p'.repeat(20 * 1024));
    a.res.end('body');
  });
  const bw = await startBreakwater({
    listeners: listener([{ name: 'api', match: { pathPrefix: '/' }, upstream: 'backend', timeout: '5s', retry: { attempts: 3, on: ['reset', 'connect-failure', '5xx'] } }]),
    upstreams: [{ name: 'backend', endpoints: [upstream.address] }],
  });
  t.teardown(() => bw.stop());
  const res = await http(`${bw.url}/huge-head`);
  t.equal(res.status, 502);
  t.equal(JSON.parse(res.body).error, 'protocol-error');
  t.equal(res.headers['x-breakwater-attempts'], '1', 'deterministic: not retried');
  t.equal(upstream.count('/huge-head'), 1);
  const log = await bw.waitForLog((l) => l.msg === 'request' && l.path === '/huge-head');
  t.equal(log.outcome, 'protocol-error');
});

t.test('a 304 and a 204 carrying a Content-Length reach the client whole, on a connection that stays usable', async (t) => {
  const upstream = await startScriptedUpstream();
  t.teardown(() => upstream.close());
  for (const status of [304, 204]) {
    upstream.on(`/${status}`, (a) => {
      // Written raw: Node's server would drop the Content-Length of a 304/204 itself.
      a.res.socket!.write(`HTTP/1.1 ${status} X\r\netag: "v1"\r\ncontent-length: 1234\r\n\r\n`);
      a.res.socket!.destroy();
    });
  }
  const bw = await startBreakwater({
    listeners: listener([{ name: 'api', match: { pathPrefix: '/' }, upstream: 'backend', timeout: '5s' }]),
    upstreams: [{ name: 'backend', endpoints: [upstream.address] }],
  });
  t.teardown(() => bw.stop());
  const answer = await rawExchange(bw.url, 'GET /304 HTTP/1.1\r\nhost: test\r\n\r\nGET /204 HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n');
  t.match(answer, /^HTTP\/1\.1 304 /, 'the 304 arrives');
  t.match(answer, /etag: "v1"/);
  t.match(answer, /HTTP\/1\.1 204 /, 'and the next response on the same connection');
  for (const status of [304, 204]) {
    const log = await bw.waitForLog((l) => l.msg === 'request' && l.path === `/${status}`);
    t.equal(log.outcome, 'ok', `${status} logged ok`);
  }
});

t.test('a retry budget spent before a reload that does not touch it stays spent after it', async (t) => {
  const upstream = await startScriptedUpstream();
  t.teardown(() => upstream.close());
  upstream.on('/fail', (a) => {
    a.res.statusCode = 503;
    a.res.end();
  });
  const policy = (extraRoute: boolean) => ({
    listeners: listener([
      {
        name: 'api',
        match: { pathPrefix: '/fail' },
        upstream: 'backend',
        timeout: '5s',
        retry: { attempts: 2, on: [503], backoff: { base: '1ms', max: '1ms' }, budget: { ratio: 0, minPerSecond: 0.3, window: '10s' } },
      },
      ...(extraRoute ? [{ name: 'other', match: { pathPrefix: '/other' }, upstream: 'backend', timeout: '1s' }] : []),
    ]),
    upstreams: [{ name: 'backend', endpoints: [upstream.address], outlierDetection: { consecutiveFailures: 100 } }],
  });
  const bw = await startBreakwater(policy(false));
  t.teardown(() => bw.stop());
  // 0.3 retries a second over 10 s: three retries, then the budget is spent.
  const attempts = [];
  for (let i = 0; i < 5; i++) attempts.push((await http(`${bw.url}/fail/${i}`)).headers['x-breakwater-attempts']);
  t.same(attempts, ['2', '2', '2', '1', '1']);
  const from = bw.logs.length;
  bw.writePolicy(policy(true));
  await bw.waitForLog((l) => l.msg === 'policy reloaded', 5000, from);
  t.equal((await http(`${bw.url}/fail/after`)).headers['x-breakwater-attempts'], '1', 'still spent: the reload did not refill it');
  t.equal(metricValue(await bw.metrics(), 'breakwater_retries_skipped_total', { route: 'api', reason: 'budget' }), 3);
});

t.test("a body that fails after its head counts against the endpoint's health, not as a success", async (t) => {
  const upstreams = await Promise.all([startScriptedUpstream(), startScriptedUpstream()]);
  t.teardown(() => Promise.all(upstreams.map((u) => u.close())));
  for (const upstream of upstreams) {
    upstream.on('/cut', (a) => {
      a.res.writeHead(200, { 'content-length': '1000' });
      a.res.write('x'.repeat(100), () => a.res.socket?.resetAndDestroy());
    });
  }
  const bw = await startBreakwater({
    listeners: listener([{ name: 'api', match: { pathPrefix: '/' }, upstream: 'backend', timeout: '5s' }]),
    upstreams: [{ name: 'backend', endpoints: upstreams.map((u) => u.address), outlierDetection: { consecutiveFailures: 1, maxEjectionPercent: 50 } }],
  });
  t.teardown(() => bw.stop());
  await http(`${bw.url}/cut`).catch(() => undefined); // the client sees the body cut off (tested above)
  await bw.waitForLog((l) => l.msg === 'request' && l.path === '/cut');
  const view = (await (await request(`${bw.admin}/endpoints`)).body.json()) as { upstreams: Array<{ endpoints: Array<{ ejections: number }> }> };
  t.same(
    view.upstreams[0]!.endpoints.map((e) => e.ejections).sort(),
    [0, 1],
    'the endpoint that cut its body was ejected (consecutiveFailures: 1); a 200 head alone would have counted as a success',
  );
});
