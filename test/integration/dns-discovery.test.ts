import { lookup } from 'node:dns/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { startBackend } from '../helpers/demo-backend.js';
import { eventually, metricValue, startBreakwater } from '../helpers/breakwater.js';

t.test('upstreams[].dns resolves a name to every address and proxies to them', async (t) => {
  const backend = await startBackend({ name: 'dns' });
  t.teardown(() => backend.stop());
  const bw = await startBreakwater({
    listeners: [{ name: 'egress', address: '127.0.0.1:0', routes: [{ name: 'api', upstream: 'svc', retry: { attempts: 3, on: ['connect-failure'] } }] }],
    upstreams: [{ name: 'svc', dns: { name: 'localhost', port: backend.port, refresh: '1s' } }],
  });
  t.teardown(() => bw.stop());

  const expected = (await lookup('localhost', { all: true })).map((r) => (r.family === 6 ? `[${r.address}]:${backend.port}` : `${r.address}:${backend.port}`));
  const res = await request(`${bw.admin}/endpoints`);
  const body = (await res.body.json()) as { upstreams: Array<{ name: string; endpoints: Array<{ address: string }> }> };
  t.same(body.upstreams[0]!.endpoints.map((e) => e.address).sort(), [...new Set(expected)].sort(), 'one endpoint per resolved address');

  for (let i = 0; i < 4; i++) {
    const r = await request(`${bw.url}/api/data`);
    await r.body.dump();
    t.equal(r.statusCode, 200, 'requests reach the backend through the discovered endpoints');
  }
});

t.test('a name that does not resolve at start-up: the proxy starts unready, answers 503 no-endpoint, and keeps trying', async (t) => {
  const bw = await startBreakwater({
    listeners: [{ name: 'egress', address: '127.0.0.1:0', routes: [{ name: 'api', upstream: 'svc' }] }],
    upstreams: [{ name: 'svc', dns: { name: 'no-such-host.invalid', port: 80, refresh: '200ms' } }],
  });
  t.teardown(() => bw.stop());
  const ready = await request(`${bw.admin}/readyz`);
  await ready.body.dump();
  t.equal(ready.statusCode, 503, '/readyz says not ready');
  const res = await request(`${bw.url}/api/data`);
  t.equal(res.statusCode, 503);
  t.match(await res.body.json(), { error: 'no-endpoint' });
  const retries = await eventually('two failed resolutions counted', async () => {
    const failures = metricValue(await bw.metrics(), 'breakwater_dns_refresh_failures_total', { upstream: 'svc', reason: 'not-found' });
    return failures >= 2 ? failures : undefined;
  });
  t.ok(retries >= 2, 'it keeps retrying');
  t.ok(bw.logs.some((l) => l.msg === 'DNS name not resolved; no endpoints yet' && l.upstream === 'svc' && l.reason === 'not-found'), 'and logs why');
  t.equal(bw.child.exitCode, null, 'the process is still running');
});

t.test('a reload adding a name that does not resolve is refused; the running policy keeps serving', async (t) => {
  const backend = await startBackend({ name: 'dns' });
  t.teardown(() => backend.stop());
  const policy = (name: string) => ({
    listeners: [{ name: 'egress', address: '127.0.0.1:0', routes: [{ name: 'api', upstream: 'svc', retry: { attempts: 3, on: ['connect-failure'] } }] }],
    upstreams: [{ name: 'svc', dns: { name, port: backend.port } }],
  });
  const bw = await startBreakwater(policy('localhost'));
  t.teardown(() => bw.stop());
  const from = bw.logs.length;
  bw.writePolicy(policy('no-such-host.invalid'));
  const rejected = await bw.waitForLog((l) => l.msg === 'policy reload rejected; the running policy is unchanged', 10_000, from);
  t.match(JSON.stringify(rejected.problems), /upstream \\"svc\\": dns discovery: no-such-host\.invalid lookup failed: getaddrinfo ENOTFOUND/);
  const res = await request(`${bw.url}/api/data`);
  await res.body.dump();
  t.equal(res.statusCode, 200, 'still served by the running policy');
  const ready = await request(`${bw.admin}/readyz`);
  await ready.body.dump();
  t.equal(ready.statusCode, 200, 'and still ready');
});

t.test('the Host sent to a DNS upstream is its name (and port), or upstreams[].host when set', async (t) => {
  const hosts: Array<string | undefined> = [];
  const server = createServer((req, res) => {
    hosts.push(req.headers.host);
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  const route = (name: string) => ({ name, match: { pathPrefix: `/${name}` }, upstream: name, retry: { attempts: 3, on: ['connect-failure'] } });
  const bw = await startBreakwater({
    listeners: [{ name: 'egress', address: '127.0.0.1:0', routes: [route('by-name'), route('by-host'), route('static'), route('static-host')] }],
    upstreams: [
      { name: 'by-name', dns: { name: 'localhost', port } },
      { name: 'by-host', dns: { name: 'localhost', port }, host: 'api.internal' },
      { name: 'static', endpoints: [`127.0.0.1:${port}`] },
      { name: 'static-host', endpoints: [`127.0.0.1:${port}`], host: 'api.internal:8080' },
    ],
  });
  t.teardown(() => bw.stop());
  for (const name of ['by-name', 'by-host', 'static', 'static-host']) {
    const res = await request(`${bw.url}/${name}/x`, { headers: { host: 'client.example' } });
    await res.body.dump();
    t.equal(res.statusCode, 200, name);
  }
  t.same(hosts, [`localhost:${port}`, 'api.internal', `127.0.0.1:${port}`, 'api.internal:8080']);
});
