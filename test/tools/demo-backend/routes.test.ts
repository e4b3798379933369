import { createHash } from 'node:crypto';
import t from 'tap';
import { request } from 'undici';
import { startBackend, type RunningBackend } from '../../helpers/demo-backend.js';

let backend: RunningBackend;
t.before(async () => {
  backend = await startBackend({ name: 'routes' });
});
t.teardown(() => backend.stop());

t.test('blob streams exactly the requested bytes, chunked', async (t) => {
  for (const bytes of [1, 65_536, 3 * 65_536 + 17]) {
    const response = await request(`${backend.url}/api/blob?bytes=${bytes}`);
    t.equal(response.statusCode, 200);
    t.equal(response.headers['transfer-encoding'], 'chunked');
    let received = 0;
    for await (const chunk of response.body) received += (chunk as Buffer).length;
    t.equal(received, bytes, `${bytes} bytes`);
  }
  const bad = await request(`${backend.url}/api/blob?bytes=lots`);
  t.equal(bad.statusCode, 400);
  t.match(await bad.body.json(), { message: /"bytes"/ });
});

t.test('echo reports method, url, headers and a digest of the body', async (t) => {
  const body = Buffer.alloc(300_000, 'wave');
  const response = await request(`${backend.url}/api/echo?x=1`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-custom', 'x-trace': 'abc' },
    body,
  });
  t.equal(response.statusCode, 200);
  const echo = (await response.body.json()) as Record<string, unknown>;
  t.match(echo, {
    method: 'POST',
    url: '/api/echo?x=1',
    headers: { 'x-trace': 'abc', 'content-type': 'application/x-custom' },
    bodyBytes: body.length,
    bodySha256: createHash('sha256').update(body).digest('hex'),
  });
});

t.test('status answers the asked status and honours retryAfter', async (t) => {
  const response = await request(`${backend.url}/api/status/503?retryAfter=7`);
  await response.body.dump();
  t.equal(response.statusCode, 503);
  t.equal(response.headers['retry-after'], '7');
  const noContent = await request(`${backend.url}/api/status/204`);
  t.equal(await noContent.body.text(), '');
  t.equal(noContent.statusCode, 204);
  const bad = await request(`${backend.url}/api/status/99`);
  t.equal(bad.statusCode, 400);
  t.match(await bad.body.json(), { message: /"code"/ });
});

t.test('slow answers after the asked delay', async (t) => {
  const response = await request(`${backend.url}/api/slow?ms=50`);
  t.same(await response.body.json(), { replica: 'routes', sleptMs: 50 });
});

t.test('every response names the replica, probes answer', async (t) => {
  for (const path of ['/healthz', '/readyz', '/metrics', '/admin/faults', '/no/such/route']) {
    const response = await request(`${backend.url}${path}`);
    await response.body.dump();
    t.equal(response.headers['x-backend-replica'], 'routes', path);
    t.equal(response.statusCode, path === '/no/such/route' ? 404 : 200, `${path} status`);
  }
});

t.test('metrics: own series present, *_total gauges absent', async (t) => {
  await (await request(`${backend.url}/api/data`)).body.dump();
  await (await request(`${backend.url}/api/orders`, { method: 'POST' })).body.dump();
  const response = await request(`${backend.url}/metrics`);
  const text = await response.body.text();
  t.match(response.headers['content-type'], /text\/plain/);
  t.match(text, /demo_backend_requests_total\{route="\/api\/data",status_class="2xx"\} 1/);
  t.match(text, /demo_backend_request_duration_seconds_bucket\{le="0.005",route="\/api\/data"\}/);
  t.match(text, /demo_backend_orders_total\{result="created"\} 1/);
  t.match(text, /# TYPE demo_backend_in_flight gauge/);
  t.match(text, /process_cpu_seconds_total/, 'default process metrics are there');
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    t.notMatch(text, name);
  }
  t.notMatch(text, /route="\/no\/such/, 'unmatched paths do not become label values');
});
