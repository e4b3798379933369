/**
 * The route `timeout` is one deadline over everything after the request head arrives: the wait for an upstream
 * connection, the attempts, and the response body. A response that fails after its head is counted and logged as
 * what it is, and the client sees it cut off, never a clean end. Real Breakwater, a scripted loopback upstream.
 */
import t, { type Test } from 'tap';
import { request } from 'undici';
import { http, metricValue, startBreakwater } from '../helpers/breakwater.js';
import { rawExchange } from '../helpers/raw-http.js';
import { startScriptedUpstream } from '../helpers/scripted-upstream.js';

async function setup(t: Test, route: Record<string, unknown>, upstreamExtra: Record<string, unknown> = {}) {
  const upstream = await startScriptedUpstream();
  t.teardown(() => upstream.close());
  const bw = await startBreakwater({
    listeners: [
      {
        name: 'egress',
        address: '127.0.0.1:0',
        routes: [
          { name: 'patient', match: { pathPrefix: '/hold' }, upstream: 'backend', timeout: '20s' },
          { name: 'api', match: { pathPrefix: '/' }, upstream: 'backend', ...route },
        ],
      },
    ],
    upstreams: [{ name: 'backend', endpoints: [upstream.address], outlierDetection: { consecutiveFailures: 100 }, ...upstreamExtra }],
  });
  t.teardown(() => bw.stop());
  return { upstream, bw };
}

/** Reads a response body to its end; resolves with what arrived and how the body ended. */
async function readBody(url: string): Promise<{ status: number; received: number; ended: 'complete' | 'cut' }> {
  const res = await request(url);
  let received = 0;
  try {
    for await (const chunk of res.body) received += (chunk as Buffer).length;
    return { status: res.statusCode, received, ended: 'complete' };
  } catch {
    return { status: res.statusCode, received, ended: 'cut' };
  }
}

t.test('the deadline covers the wait for an upstream connection', async (t) => {
  const { upstream, bw } = await setup(t, { timeout: '500ms' }, { pool: { maxConnections: 1, maxConcurrent: 10, maxPending: 10 } });
  let release: (() => void) | undefined;
  upstream.on('/hold', (a) => (release = () => a.res.end('held')));
  const holding = http(`${bw.url}/hold`);
  await upstream.arrival('/hold');
  // The one connection is busy: the next request waits in the pool, and its deadline still holds.
  const waiting = await http(`${bw.url}/waits`);
  t.equal(waiting.status, 504);
  t.equal(JSON.parse(waiting.body).error, 'deadline');
  t.equal(release !== undefined && upstream.count('/waits'), 0, 'answered while the connection was still held, and never sent');
  release!();
  t.equal((await holding).status, 200);
});

t.test('the deadline covers the response body: a body still streaming is cut off and counted as a timeout', async (t) => {
  const { upstream, bw } = await setup(t, { timeout: '600ms' });
  upstream.on('/trickle', (a) => {
    a.res.writeHead(200, { 'content-type': 'text/plain' });
    a.res.write('first bytes');
    // Never finished: only the deadline can end it.
  });
  const result = await readBody(`${bw.url}/trickle`);
  t.equal(result.status, 200, 'the head went out before the deadline');
  t.equal(result.ended, 'cut', 'the client sees the body cut off, not a clean end');
  const log = await bw.waitForLog((l) => l.msg === 'request' && l.path === '/trickle');
  t.equal(log.outcome, 'deadline');
  const metrics = await bw.metrics();
  t.equal(metricValue(metrics, 'breakwater_requests_total', { route: 'api', outcome: 'deadline' }), 1);
  t.equal(metricValue(metrics, 'breakwater_requests_total', { route: 'api', outcome: 'ok' }), 0, 'never counted as ok');
});

t.test('an upstream failing after the head: logged and counted as what it is, the client sees a truncated response', async (t) => {
  const { upstream, bw } = await setup(t, { timeout: '5s' });
  upstream.on('/reset-mid-body', (a) => {
    a.res.writeHead(200, { 'content-length': '1000' });
    a.res.write('x'.repeat(100), () => a.res.socket?.resetAndDestroy());
  });
  upstream.on('/close-mid-chunked', (a) => {
    a.res.writeHead(200, { 'content-type': 'text/plain' });
    a.res.write('partial', () => a.res.socket?.destroy());
  });
  for (const path of ['/reset-mid-body', '/close-mid-chunked']) {
    const result = await readBody(`${bw.url}${path}`);
    t.equal(result.ended, 'cut', `${path}: the client sees the response cut off`);
    const log = await bw.waitForLog((l) => l.msg === 'request' && l.path === path);
    t.equal(log.outcome, 'reset', `${path}: logged as reset, not ok`);
  }
  t.equal(metricValue(await bw.metrics(), 'breakwater_requests_total', { route: 'api', outcome: 'reset' }), 2);
});

t.test('Connection: idempotency-key strips the key, and the POST is then not retried', async (t) => {
  const { upstream, bw } = await setup(t, { timeout: '5s', retry: { attempts: 3, on: [503], backoff: { base: '1ms', max: '1ms' } } });
  upstream.on('/orders', (a) => {
    a.res.statusCode = 503;
    a.res.end();
  });
  // Raw bytes: HTTP clients refuse to send a Connection header naming another header.
  const stripped = await rawExchange(
    bw.url,
    'POST /orders/stripped HTTP/1.1\r\nhost: test\r\nconnection: idempotency-key, close\r\nidempotency-key: k-1\r\ncontent-length: 2\r\n\r\n{}',
  );
  t.match(stripped, /^HTTP\/1.1 503 /);
  t.match(stripped, /x-breakwater-attempts: 1\r\n/);
  t.equal(upstream.count('/orders/stripped'), 1, 'delivered once: without its key the POST is not safe to repeat');
  t.equal(upstream.arrivals.find((a) => a.path === '/orders/stripped')!.headers['idempotency-key'], undefined);
  const keyed = await http(`${bw.url}/orders/keyed`, { method: 'POST', headers: { 'idempotency-key': 'k-2' }, body: '{}' });
  t.equal(keyed.headers['x-breakwater-attempts'], '3', 'with the key it is retried');
});

t.test('an upload stalled past the deadline: 504, and the connection closes instead of waiting for the rest', async (t) => {
  const { upstream, bw } = await setup(t, { timeout: '300ms' });
  // rawExchange reads until the proxy closes the connection, and fails after 5 s: far below the 30 s body timeout.
  const answer = await rawExchange(bw.url, 'POST /stalled HTTP/1.1\r\nhost: test\r\ncontent-length: 1000\r\n\r\nonly the start');
  t.match(answer, /^HTTP\/1\.1 504 /);
  t.match(answer, /connection: close/i);
  t.equal(upstream.count('/stalled'), 0, 'a half-sent body is never forwarded');
});
