/**
 * HTTP as the RFCs say, through a real Breakwater: x-forwarded-* and Via (RFC 9110 §7.6.3), 1xx responses (§15.2),
 * Max-Forwards (§7.6.2), absolute-form and asterisk-form targets (RFC 9112 §3.2), and x-breakwater-attempts on every
 * answer Breakwater gives itself.
 */
import { once } from 'node:events';
import { connect, constants, type IncomingHttpHeaders } from 'node:http2';
import t from 'tap';
import { request } from 'undici';
import { eventually, http, startBreakwater } from '../helpers/breakwater.js';
import { closedPort } from '../helpers/closed-port.js';
import { rawExchange } from '../helpers/raw-http.js';
import { startScriptedUpstream } from '../helpers/scripted-upstream.js';

/** Status lines of a raw exchange, in the order they arrived. */
const statusLines = (raw: string) => raw.split('\r\n').filter((line) => line.startsWith('HTTP/1.1 '));

t.test('HTTP semantics at the proxy boundary', async (t) => {
  const upstream = await startScriptedUpstream();
  t.teardown(() => upstream.close());
  const deadPort = await closedPort();
  const bw = await startBreakwater({
    listeners: [
      {
        name: 'edge',
        address: '127.0.0.1:0',
        limits: { headersTimeout: '500ms', maxHeaderSize: '4KiB' },
        routes: [
          { name: 'aborted', match: { pathPrefix: '/fault' }, upstream: 'scripted', fault: { abort: { percent: 100, status: 503 } } },
          { name: 'broken', match: { pathPrefix: '/dead' }, upstream: 'dead' },
          {
            name: 'guarded',
            match: { pathPrefix: '/guarded' },
            upstream: 'dead',
            circuitBreaker: { consecutiveFailures: 1, resetTimeout: '1m' },
            fallback: { status: 200, json: { fallback: true } },
          },
          { name: 'app', match: { pathPrefix: '/app' }, upstream: 'scripted' },
          { name: 'aborted-no-content', match: { pathPrefix: '/no-content/fault' }, upstream: 'scripted', fault: { abort: { percent: 100, status: 204 } } },
          {
            name: 'guarded-no-content',
            match: { pathPrefix: '/no-content/fallback' },
            upstream: 'dead',
            circuitBreaker: { consecutiveFailures: 1, resetTimeout: '1m' },
            fallback: { status: 204, headers: { 'x-served-by': 'fallback' } },
          },
        ],
      },
      {
        name: 'behind-proxy',
        address: '127.0.0.1:0',
        trustForwarded: true,
        routes: [{ name: 'trusted-app', match: { pathPrefix: '/app' }, upstream: 'scripted' }],
      },
    ],
    upstreams: [
      { name: 'scripted', endpoints: [upstream.address] },
      { name: 'dead', endpoints: [`127.0.0.1:${deadPort}`] },
    ],
  });
  t.teardown(() => bw.stop());
  const edge = bw.listeners.edge!;
  const trusted = bw.listeners['behind-proxy']!;
  const spoofed = { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'spoofed.example', via: '1.1 edge-cache' };

  t.test('x-forwarded-* are overwritten by default: the client cannot choose what the upstream believes', async (t) => {
    const res = await http(`${edge}/app/untrusted`, { headers: spoofed });
    t.equal(res.status, 200);
    const seen = (await upstream.arrival('/app/untrusted')).headers;
    t.equal(seen['x-forwarded-for'], '127.0.0.1', 'only the address Breakwater saw');
    t.equal(seen['x-forwarded-proto'], 'http');
    t.equal(seen['x-forwarded-host'], new URL(edge).host, 'the Host Breakwater received');
  });

  t.test('with trustForwarded the client proxy\'s values are kept and x-forwarded-for appended to', async (t) => {
    await http(`${trusted}/app/trusted`, { headers: spoofed });
    const seen = (await upstream.arrival('/app/trusted')).headers;
    t.equal(seen['x-forwarded-for'], '6.6.6.6, 127.0.0.1');
    t.equal(seen['x-forwarded-proto'], 'https');
    t.equal(seen['x-forwarded-host'], 'spoofed.example');
  });

  t.test('Via is appended in both directions', async (t) => {
    upstream.on('/app/via', ({ res }) => {
      res.setHeader('via', '1.1 origin-cache');
      res.end('ok');
    });
    const res = await http(`${edge}/app/via`, { headers: { via: '1.1 edge-cache' } });
    t.equal((await upstream.arrival('/app/via')).headers.via, '1.1 edge-cache, 1.1 breakwater', 'on the request upstream');
    t.equal(res.headers.via, '1.1 origin-cache, 1.1 breakwater', 'on the response to the client');
    const plain = await http(`${edge}/app/plain`);
    t.equal(plain.headers.via, '1.1 breakwater', 'added when the upstream sent none');
  });

  t.test('a 103 Early Hints from the upstream reaches the client before the final response', async (t) => {
    upstream.on('/app/hints', ({ res }) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' }, () => res.end('final'));
    });
    const raw = await rawExchange(edge, 'GET /app/hints HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    t.same(statusLines(raw), ['HTTP/1.1 103 Early Hints', 'HTTP/1.1 200 OK'], raw);
    t.match(raw.slice(0, raw.indexOf('HTTP/1.1 200')), /link: <\/style\.css>; rel=preload; as=style/i, 'the hints keep their Link');
    t.ok(raw.endsWith('final'));
  });

  t.test('an unsolicited 100 Continue from the upstream is consumed: the client gets the final 200', async (t) => {
    upstream.on('/app/continue', ({ res }) => {
      res.writeContinue();
      res.end('after continue');
    });
    const res = await http(`${edge}/app/continue`);
    t.equal(res.status, 200);
    t.equal(res.body, 'after continue');
    t.equal(res.headers['x-breakwater-attempts'], '1', 'one attempt: not taken for a failure and retried');
    const raw = await rawExchange(edge, 'GET /app/continue HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    t.same(statusLines(raw), ['HTTP/1.1 200 OK'], 'the 100 is not relayed');
  });

  t.test('Max-Forwards: 0 on OPTIONS and TRACE is answered by Breakwater; above 0 it is decremented', async (t) => {
    const options = await request(`${edge}/app/mf0`, { method: 'OPTIONS', headers: { 'max-forwards': '0' } });
    await options.body.dump();
    t.equal(options.statusCode, 200);
    t.match(options.headers.allow, /OPTIONS/);
    t.equal(options.headers['x-breakwater-attempts'], '0');
    const trace = await rawExchange(edge, 'TRACE /app/mf0 HTTP/1.1\r\nHost: x\r\nMax-Forwards: 0\r\nCookie: secret=1\r\nConnection: close\r\n\r\n');
    t.match(trace, /^HTTP\/1\.1 405 /, 'TRACE is refused, never echoed');
    t.notMatch(trace, /secret=1/, 'the request is not reflected');
    t.match(trace, /x-breakwater-attempts: 0/i);
    t.equal(upstream.count('/app/mf0'), 0, 'neither reached the upstream');

    const forwarded = await request(`${edge}/app/mf5`, { method: 'OPTIONS', headers: { 'max-forwards': '5' } });
    await forwarded.body.dump();
    t.equal((await upstream.arrival('/app/mf5')).headers['max-forwards'], '4');
  });

  t.test('an absolute-form target is routed by its path, its authority taking the place of Host', async (t) => {
    const raw = await rawExchange(edge, 'GET http://orders.example:8080/app/absolute?x=1 HTTP/1.1\r\nHost: ignored.example\r\nConnection: close\r\n\r\n');
    t.match(raw, /^HTTP\/1\.1 200 /, raw);
    const seen = await upstream.arrival('/app/absolute');
    t.equal(seen.path, '/app/absolute?x=1', 'sent upstream in origin-form');
    t.equal(seen.headers['x-forwarded-host'], 'orders.example:8080');
  });

  t.test('OPTIONS * is answered by Breakwater itself', async (t) => {
    const before = upstream.arrivals.length;
    const raw = await rawExchange(edge, 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    t.match(raw, /^HTTP\/1\.1 200 /, raw);
    t.match(raw, /\r\nallow: [^\r]*OPTIONS/i);
    t.match(raw, /x-breakwater-attempts: 0/i);
    t.equal(upstream.arrivals.length, before, 'nothing sent upstream');
  });

  t.test('x-breakwater-attempts is on every answer Breakwater gives itself', async (t) => {
    const noRoute = await http(`${edge}/nowhere`);
    t.equal(noRoute.status, 404);
    t.equal(noRoute.headers['x-breakwater-attempts'], '0', 'no route');

    const malformed = await rawExchange(edge, 'GET /app HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    t.match(malformed, /^HTTP\/1\.1 400 /);
    t.match(malformed, /x-breakwater-attempts: 0/i, 'malformed request');
    const twoHosts = await rawExchange(edge, 'GET /app HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n');
    t.match(twoHosts, /^HTTP\/1\.1 400 /);
    t.match(twoHosts, /x-breakwater-attempts: 0/i, 'two Host headers');
    const oversized = await rawExchange(edge, `GET /app HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`);
    t.match(oversized, /^HTTP\/1\.1 431 /);
    t.match(oversized, /x-breakwater-attempts: 0/i, 'head over maxHeaderSize');
    const unfinished = await rawExchange(edge, 'GET /app HTTP/1.1\r\nHost: x\r\n');
    t.match(unfinished, /^HTTP\/1\.1 408 /);
    t.match(unfinished, /x-breakwater-attempts: 0/i, 'head not complete within headersTimeout');

    const aborted = await http(`${edge}/fault`);
    t.equal(aborted.status, 503);
    t.equal(aborted.headers['x-breakwater-attempts'], '0', 'injected fault');
    t.equal(aborted.headers.via, undefined, 'no Via on what Breakwater produced itself');

    const failed = await http(`${edge}/dead`);
    t.equal(failed.status, 503, 'connect failure');
    t.equal(failed.headers['x-breakwater-attempts'], '1', 'upstream failure');

    const fallback = await eventually('the breaker to open and the fallback to answer', async () => {
      const res = await http(`${edge}/guarded`);
      return res.status === 200 ? res : undefined;
    });
    t.same(JSON.parse(fallback.body), { fallback: true });
    t.equal(fallback.headers['x-breakwater-attempts'], '0', 'fallback');
    t.equal(fallback.headers.via, undefined);
  });

  t.test('a 204 Breakwater answers itself (fault abort, fallback) carries no content, over HTTP/1.1 and HTTP/2', async (t) => {
    await eventually('the breaker to open and the fallback to answer', async () => ((await http(`${edge}/no-content/fallback`)).status === 204 ? true : undefined));
    for (const path of ['/no-content/fault', '/no-content/fallback']) {
      // Two requests on one connection: a body or a Content-Length on the first would garble the second.
      const raw = await rawExchange(edge, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\nGET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      t.same(statusLines(raw), ['HTTP/1.1 204 No Content', 'HTTP/1.1 204 No Content'], `${path}: both answered on one connection`);
      t.notMatch(raw, /content-length/i, `${path}: no Content-Length`);

      const session = connect(edge);
      t.teardown(() => session.close());
      const stream = session.request({ ':path': path });
      stream.end().resume();
      const [head] = (await once(stream, 'response')) as [IncomingHttpHeaders];
      await once(stream, 'close');
      t.equal(head[':status'], 204, `${path} over HTTP/2`);
      t.equal(stream.rstCode, constants.NGHTTP2_NO_ERROR, `${path}: the stream ends cleanly, not reset for content a 204 cannot have`);
    }
  });
});
