import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import t from 'tap';
import { Client, request } from 'undici';
import { startBackend } from '../helpers/demo-backend.js';
import { metricValue, startBreakwater } from '../helpers/breakwater.js';
import { rawExchange } from '../helpers/raw-http.js';

t.test('routing, headers and streaming through a real Breakwater and demo backend', async (t) => {
  const orders = await startBackend({ name: 'orders' });
  const catalog = await startBackend({ name: 'catalog' });
  t.teardown(() => Promise.all([orders.stop(), catalog.stop()]));
  const bw = await startBreakwater({
    listeners: [
      {
        name: 'egress',
        address: '127.0.0.1:0',
        routes: [
          { name: 'orders-write', match: { pathPrefix: '/api/orders', methods: ['POST'] }, upstream: 'orders' },
          { name: 'tenant', match: { pathPrefix: '/api', headers: { 'x-tenant': 'blue' } }, upstream: 'orders' },
          { name: 'exact', match: { path: '/api/echo' }, upstream: 'catalog' },
          { name: 'api', match: { pathPrefix: '/api' }, upstream: 'catalog' },
          { name: 'also-api', match: { pathPrefix: '/api' }, upstream: 'orders' },
        ],
      },
    ],
    upstreams: [
      { name: 'orders', endpoints: [orders.address] },
      { name: 'catalog', endpoints: [catalog.address] },
    ],
  });
  t.teardown(() => bw.stop());

  t.test('first matching route wins, by path, method and header', async (t) => {
    const post = await request(`${bw.url}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"item":"a"}' });
    await post.body.dump();
    t.equal(post.headers['x-backend-replica'], 'orders', 'POST /api/orders → orders-write');
    const get = await request(`${bw.url}/api/data`);
    await get.body.dump();
    t.equal(get.headers['x-backend-replica'], 'catalog', 'GET /api/data → api (the first /api route), not also-api');
    const tenant = await request(`${bw.url}/api/data`, { headers: { 'x-tenant': 'blue' } });
    await tenant.body.dump();
    t.equal(tenant.headers['x-backend-replica'], 'orders', 'the header match wins when present');
    const prefixOnly = await request(`${bw.url}/apix`);
    await prefixOnly.body.dump();
    t.equal(prefixOnly.statusCode, 404, '/apix is not under the /api prefix');
  });

  t.test('HEAD: the upstream status and headers, no body, and the connection stays usable', async (t) => {
    const client = new Client(bw.url); // one connection: HEAD, then GET on the same socket
    t.teardown(() => client.close());
    const head = await client.request({ path: '/api/data', method: 'HEAD' });
    t.equal(head.statusCode, 200);
    t.equal(head.headers['x-backend-replica'], 'catalog');
    t.equal(await head.body.text(), '', 'no body after a HEAD');
    const get = await client.request({ path: '/api/data', method: 'GET' });
    t.equal(get.statusCode, 200, 'the next request on the same connection is answered');
    t.ok((await get.body.text()).length > 0);
  });

  t.test('no match: 404 from Breakwater, labelled as such, nothing sent upstream', async (t) => {
    const before = (await orders.stats()).requests.total + (await catalog.stats()).requests.total;
    const res = await request(`${bw.url}/elsewhere`);
    const body = (await res.body.json()) as { error: string; detail: string };
    t.equal(res.statusCode, 404);
    t.equal(res.headers['x-breakwater-route'], 'none');
    t.equal(body.error, 'no route');
    t.match(body.detail, /GET \/elsewhere/);
    const after = (await orders.stats()).requests.total + (await catalog.stats()).requests.total;
    t.equal(after, before, 'no backend saw it');
    t.equal(metricValue(await bw.metrics(), 'breakwater_requests_total', { outcome: 'no-route' }) >= 1, true);
  });

  t.test('x-request-id generated or kept, x-forwarded-* set, hop-by-hop headers dropped', async (t) => {
    const res = await request(`${bw.url}/api/echo`, { method: 'POST', headers: { 'x-custom': 'kept', 'content-type': 'text/plain' }, body: 'hi' });
    const seen = (await res.body.json()) as { headers: Record<string, string> };
    t.equal(res.statusCode, 200);
    t.match(seen.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'a request id was generated');
    t.equal(res.headers['x-request-id'], seen.headers['x-request-id'], 'and echoed to the client');
    t.equal(seen.headers['x-custom'], 'kept');
    t.equal(seen.headers['x-forwarded-proto'], 'http');
    t.match(seen.headers['x-forwarded-for'], /127\.0\.0\.1/);
    t.equal(seen.headers['x-forwarded-host'], new URL(bw.url).host);
    t.equal(seen.headers.host, catalog.address, 'Host is the endpoint authority');
    t.notOk(seen.headers['keep-alive']);

    const given = await request(`${bw.url}/api/echo`, { method: 'POST', headers: { 'x-request-id': 'abc-123' }, body: 'x' });
    const givenSeen = (await given.body.json()) as { headers: Record<string, string> };
    t.equal(givenSeen.headers['x-request-id'], 'abc-123', 'a client request id passes unchanged');

    // HTTP clients refuse to send custom Connection tokens, so speak HTTP/1.1 by hand.
    const raw = await rawExchange(bw.url, 'POST /api/echo HTTP/1.1\r\nHost: x\r\nConnection: close, x-drop-me\r\nX-Drop-Me: secret\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\nhi');
    const rawSeen = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { headers: Record<string, string> };
    t.notOk(rawSeen.headers['x-drop-me'], 'a header named in Connection does not pass');
    t.notOk(rawSeen.headers['keep-alive'], 'keep-alive does not pass');
  });

  t.test('large downloads and chunked uploads stream through intact', async (t) => {
    const bytes = 8 * 1024 * 1024 + 17;
    const res = await request(`${bw.url}/api/blob?bytes=${bytes}`);
    let received = 0;
    for await (const chunk of res.body) received += (chunk as Buffer).length;
    t.equal(res.statusCode, 200);
    t.equal(received, bytes, 'every byte of an 8 MiB download');

    const payload = Buffer.alloc(3 * 1024 * 1024 + 5, 'abc');
    const parts = [payload.subarray(0, 1_000_000), payload.subarray(1_000_000, 2_000_000), payload.subarray(2_000_000)];
    const up = await request(`${bw.url}/api/echo`, { method: 'POST', body: Readable.from(parts) }); // no length: chunked
    const echo = (await up.body.json()) as { bodyBytes: number; bodySha256: string; headers: Record<string, string> };
    t.equal(echo.bodyBytes, payload.length);
    t.equal(echo.bodySha256, createHash('sha256').update(payload).digest('hex'), 'the body arrived byte for byte');
  });

  t.test('a malformed request is answered 400 by Breakwater and never reaches the upstream', async (t) => {
    const before = (await orders.stats()).requests.total + (await catalog.stats()).requests.total;
    const reply = await rawExchange(bw.url, 'GET /api/data HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    t.match(reply, /^HTTP\/1\.1 400/);
    const after = (await orders.stats()).requests.total + (await catalog.stats()).requests.total;
    t.equal(after, before, 'no backend saw it');
  });

  t.test('the access log names route, upstream, endpoints, attempts and outcome; secrets are redacted', async (t) => {
    // The line is matched by request id: the line of an earlier test's request may still be on its way.
    const requestId = 'access-log-check';
    const res = await request(`${bw.url}/api/data?token=abc`, {
      headers: { authorization: 'Bearer hunter2', cookie: 'session=s3cret', 'x-request-id': requestId },
    });
    await res.body.dump();
    const line = await bw.waitForLog((l) => l.msg === 'request' && l.requestId === requestId, 5000);
    t.equal(line.route, 'api');
    t.equal(line.upstream, 'catalog');
    t.same(line.endpoints, [catalog.address]);
    t.equal(line.attempts, 1);
    t.equal(line.outcome, 'ok');
    t.equal(line.status, 200);
    t.equal(line.path, '/api/data', 'the query string (which may hold secrets) is not logged');
    const everything = JSON.stringify(bw.logs);
    t.notMatch(everything, /hunter2|s3cret/, 'no credential reached the log');
  });
});
