import t from 'tap';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { startBackend } from '../helpers/demo-backend.js';
import { metricValue, startBreakwater } from '../helpers/breakwater.js';
import { rawExchange } from '../helpers/raw-http.js';

const retryPolicy = (endpoints: string[], retry: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  listeners: [
    {
      name: 'egress',
      address: '127.0.0.1:0',
      routes: [
        { name: 'api', match: { pathPrefix: '/api' }, upstream: 'backend', timeout: '3s', retry, ...extra },
      ],
    },
  ],
  upstreams: [{ name: 'backend', endpoints, connectTimeout: '250ms', outlierDetection: { consecutiveFailures: 100 } }],
});

t.test('retries: a GET that fails twice with 503 succeeds on the third attempt at a different endpoint', async (t) => {
  const a = await startBackend({ name: 'a', failureStatus: 503 });
  const b = await startBackend({ name: 'b', failureStatus: 503 });
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  const bw = await startBreakwater(
    retryPolicy([a.address, b.address], { attempts: 4, on: [503], backoff: { base: '10ms', max: '20ms' }, budget: { ratio: 1, minPerSecond: 100 } }),
  );
  t.teardown(() => bw.stop());

  // Each replica fails its next request: attempt 1 and 2 fail (on different replicas), attempt 3 succeeds.
  await a.setFaults({ failNext: 1 });
  await b.setFaults({ failNext: 1 });
  const res = await request(`${bw.url}/api/data`);
  const body = await res.body.json();
  t.equal(res.statusCode, 200, 'the client sees success');
  t.equal(res.headers['x-breakwater-attempts'], '3', 'after three attempts');
  const log = await bw.waitForLog((l) => l.msg === 'request' && l.route === 'api');
  const endpoints = log.endpoints as string[];
  t.equal(endpoints.length, 3);
  t.not(endpoints[1], endpoints[0], 'the first retry went to the other endpoint');
  t.not(endpoints[2], endpoints[1], 'the second retry moved away from the endpoint that failed last');
  t.ok(body, 'body forwarded');
  t.equal(metricValue(await bw.metrics(), 'breakwater_retries_total', { route: 'api', reason: '503' }), 2, 'two retries counted by reason');
  const total = (await a.stats()).requests.total + (await b.stats()).requests.total;
  t.equal(total, 3, 'the backends saw exactly three attempts');
});

t.test('retries: a POST without Idempotency-Key is not retried, and the backend records exactly one order', async (t) => {
  const a = await startBackend({ name: 'a', failureStatus: 503 });
  const b = await startBackend({ name: 'b', failureStatus: 503 });
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  const bw = await startBreakwater(retryPolicy([a.address, b.address], { attempts: 4, on: [503, 'reset'], budget: { ratio: 1, minPerSecond: 100 } }));
  t.teardown(() => bw.stop());

  await a.setFaults({ failNext: 1 });
  await b.setFaults({ failNext: 1 });
  const res = await request(`${bw.url}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ item: 'rope' }) });
  await res.body.dump();
  t.equal(res.statusCode, 503, 'the failure goes back to the client');
  t.equal(res.headers['x-breakwater-attempts'], '1', 'one attempt only');
  const log = await bw.waitForLog((l) => l.msg === 'request' && l.method === 'POST');
  t.equal(log.retrySkipped, 'not-idempotent', 'the access log says why no retry happened');
  t.equal(metricValue(await bw.metrics(), 'breakwater_retries_skipped_total', { route: 'api', reason: 'not-idempotent' }), 1);

  // A successful POST without a key: exactly one order recorded across both backends.
  await a.setFaults({ failNext: 0 });
  await b.setFaults({ failNext: 0 });
  const ok = await request(`${bw.url}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ item: 'rope' }) });
  await ok.body.dump();
  t.equal(ok.statusCode, 201);
  const orders = (await a.stats()).orders.accepted + (await b.stats()).orders.accepted;
  t.equal(orders, 1, 'exactly one order recorded');
});

t.test('retries: a POST with Idempotency-Key is retried and deduplicated', async (t) => {
  const a = await startBackend({ name: 'a', failureStatus: 503 });
  t.teardown(() => a.stop());
  const bw = await startBreakwater(retryPolicy([a.address], { attempts: 3, on: [503], backoff: { base: '5ms', max: '10ms' }, budget: { ratio: 1, minPerSecond: 100 } }));
  t.teardown(() => bw.stop());
  await a.setFaults({ failNext: 1 });
  const res = await request(`${bw.url}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': 'order-42' },
    body: JSON.stringify({ item: 'chain' }),
  });
  await res.body.dump();
  t.equal(res.statusCode, 201);
  t.equal(res.headers['x-breakwater-attempts'], '2', 'the keyed POST was retried once');
  t.equal((await a.stats()).orders.accepted, 1);
});

t.test('retries: a connect failure is retried for any method, on another endpoint', async (t) => {
  const live = await startBackend({ name: 'live' });
  const dead = await startBackend({ name: 'dead' });
  t.teardown(() => live.stop());
  await dead.stop(); // its port now refuses connections
  const bw = await startBreakwater(retryPolicy([dead.address, live.address], { attempts: 2, on: ['connect-failure'], budget: { ratio: 1, minPerSecond: 100 } }));
  t.teardown(() => bw.stop());
  for (let i = 0; i < 4; i++) {
    const res = await request(`${bw.url}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ item: `n${i}` }) });
    await res.body.dump();
    t.equal(res.statusCode, 201, `POST ${i} succeeds`);
    t.ok(Number(res.headers['x-breakwater-attempts']) <= 2, 'at most one failed attempt');
  }
  t.equal((await live.stats()).orders.accepted, 4, 'every order recorded once');
  t.ok(metricValue(await bw.metrics(), 'breakwater_retries_total', { reason: 'connect-failure' }) >= 1, 'connect-failure retries counted');
});

t.test('retries: with the budget spent, retries stop and the failure returns at once', async (t) => {
  const a = await startBackend({ name: 'a', failureRate: 1, failureStatus: 503 });
  t.teardown(() => a.stop());
  // ratio 0 and a reserve of 0.3/s over 10 s: three retries allowed in the window, then none.
  const bw = await startBreakwater(
    retryPolicy([a.address], { attempts: 2, on: [503], backoff: { base: '1ms', max: '2ms' }, budget: { ratio: 0, minPerSecond: 0.3, window: '10s' } }),
  );
  t.teardown(() => bw.stop());
  const attempts: number[] = [];
  for (let i = 0; i < 8; i++) {
    const res = await request(`${bw.url}/api/data`);
    await res.body.dump();
    t.equal(res.statusCode, 503);
    attempts.push(Number(res.headers['x-breakwater-attempts']));
  }
  t.same(attempts, [2, 2, 2, 1, 1, 1, 1, 1], 'three requests were retried, then the budget stopped retries');
  const metrics = await bw.metrics();
  t.equal(metricValue(metrics, 'breakwater_retry_budget_exhausted_total', { route: 'api' }), 5, 'budget exhaustion counted');
  t.equal((await a.stats()).requests.total, 11, 'the backend saw 8 requests + 3 retries, no more');
  const log = await bw.waitForLog((l) => l.msg === 'request' && l.retrySkipped === 'budget');
  t.equal(log.attempts, 1);
});

t.test('retries: 429 with Retry-After is honoured when it fits the deadline, refused when it does not', async (t) => {
  const a = await startBackend({ name: 'a' });
  t.teardown(() => a.stop());
  const bw = await startBreakwater(retryPolicy([a.address], { attempts: 2, on: [429], backoff: { base: '1ms', max: '2ms' }, budget: { ratio: 1, minPerSecond: 100 } }));
  t.teardown(() => bw.stop());

  // Retry-After: 1 fits the 3 s deadline: the retry waits for it.
  const started = performance.now();
  const res = await request(`${bw.url}/api/status/429?retryAfter=1`);
  await res.body.dump();
  const waited = performance.now() - started;
  t.equal(res.headers['x-breakwater-attempts'], '2', 'retried');
  t.ok(waited >= 950, `the retry waited for Retry-After (${Math.round(waited)} ms)`);

  // Retry-After: 10 does not fit: no retry, the 429 goes back with its header.
  const late = await request(`${bw.url}/api/status/429?retryAfter=10`);
  await late.body.dump();
  t.equal(late.statusCode, 429);
  t.equal(late.headers['x-breakwater-attempts'], '1');
  t.equal(late.headers['retry-after'], '10');
  await bw.waitForLog((l) => l.msg === 'request' && l.retrySkipped === 'deadline');
});

t.test('retries: a body over maxReplayBody streams through once and is not retried', async (t) => {
  const a = await startBackend({ name: 'a', failureStatus: 503 });
  t.teardown(() => a.stop());
  const bw = await startBreakwater(retryPolicy([a.address], { attempts: 3, on: [503], maxReplayBody: '1KiB', budget: { ratio: 1, minPerSecond: 100 } }));
  t.teardown(() => bw.stop());
  const big = Buffer.alloc(64 * 1024, 'x');
  const res = await request(`${bw.url}/api/echo`, { method: 'POST', headers: { 'idempotency-key': 'k1' }, body: big });
  const echoed = (await res.body.json()) as { bodyBytes: number };
  t.equal(res.statusCode, 200);
  t.equal(echoed.bodyBytes, big.length, 'the large body arrived whole');

  await a.setFaults({ failNext: 1 });
  const failed = await request(`${bw.url}/api/echo`, { method: 'POST', headers: { 'idempotency-key': 'k2' }, body: big });
  await failed.body.dump();
  t.equal(failed.headers['x-breakwater-attempts'], '1', 'not retried');
  await bw.waitForLog((l) => l.msg === 'request' && l.retrySkipped === 'body-too-large');
  t.equal(metricValue(await bw.metrics(), 'breakwater_request_body_unreplayable_total', { route: 'api' }), 2);

  // A small body is buffered and replayed on retry.
  await a.setFaults({ failNext: 1 });
  const small = await request(`${bw.url}/api/echo`, { method: 'POST', headers: { 'idempotency-key': 'k3' }, body: 'hello' });
  const smallBody = (await small.body.json()) as { bodyBytes: number };
  t.equal(small.headers['x-breakwater-attempts'], '2');
  t.equal(smallBody.bodyBytes, 5, 'the replayed body arrived whole');
});

t.test('retries: a body kept for replay in several chunks, sized or chunked, arrives whole at every attempt', async (t) => {
  const a = await startBackend({ name: 'a', failureStatus: 503 });
  t.teardown(() => a.stop());
  const bw = await startBreakwater(retryPolicy([a.address], { attempts: 3, on: [503], maxReplayBody: '128KiB', budget: { ratio: 1, minPerSecond: 100 } }));
  t.teardown(() => bw.stop());
  // Under the replay limit, but more than one socket read (64 KiB at most): it arrives in pieces.
  const payload = Buffer.alloc(100 * 1024);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) % 251;
  const sha256 = createHash('sha256').update(payload).digest('hex');
  type Echo = { bodyBytes: number; bodySha256: string; headers: Record<string, string> };

  await a.setFaults({ failNext: 1 });
  const sized = await request(`${bw.url}/api/echo`, { method: 'POST', headers: { 'idempotency-key': 's1' }, body: payload });
  const sizedEcho = (await sized.body.json()) as Echo;
  t.equal(sized.headers['x-breakwater-attempts'], '2', 'retried after the 503');
  t.same([sizedEcho.bodyBytes, sizedEcho.bodySha256], [payload.length, sha256], 'the replayed body is the one sent');

  // No Content-Length from the client: the body goes upstream with one, as a buffered body should.
  async function* pieces() {
    for (let offset = 0; offset < payload.length; offset += 8192) yield payload.subarray(offset, offset + 8192);
  }
  await a.setFaults({ failNext: 1 });
  const chunked = await request(`${bw.url}/api/echo`, { method: 'POST', headers: { 'idempotency-key': 's2' }, body: Readable.from(pieces()) });
  const chunkedEcho = (await chunked.body.json()) as Echo;
  t.equal(chunked.headers['x-breakwater-attempts'], '2', 'retried after the 503');
  t.same([chunkedEcho.bodyBytes, chunkedEcho.bodySha256], [payload.length, sha256], 'the replayed chunked body is the one sent');
  t.equal(chunkedEcho.headers['content-length'], String(payload.length), 'sent upstream with a Content-Length');
  t.notOk(chunkedEcho.headers['transfer-encoding'], 'and not chunked');

  // A client that names Content-Length in Connection loses that header at the proxy boundary; the body still goes
  // upstream with one (HTTP clients refuse such a Connection header, so the request is written by hand).
  await a.setFaults({ failNext: 1 });
  const head = `POST /api/echo HTTP/1.1\r\nHost: x\r\nIdempotency-Key: s3\r\nConnection: close, content-length\r\nContent-Length: ${payload.length}\r\n\r\n`;
  const raw = await rawExchange(bw.url, Buffer.concat([Buffer.from(head), payload]));
  t.match(raw, /^HTTP\/1\.1 200 /);
  t.match(raw, /\r\nx-breakwater-attempts: 2\r\n/i, 'retried after the 503');
  const rawEcho = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Echo;
  t.same([rawEcho.bodyBytes, rawEcho.bodySha256], [payload.length, sha256], 'the replayed body is the one sent');
  t.equal(rawEcho.headers['content-length'], String(payload.length), 'sent upstream with a Content-Length');
  t.notOk(rawEcho.headers['transfer-encoding'], 'and not chunked');
});
