import { lookup } from 'node:dns/promises';
import t from 'tap';
import { request } from 'undici';
import { startBackend } from '../helpers/demo-backend.js';
import { startBreakwater } from '../helpers/breakwater.js';

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

t.test('a name that does not resolve stops start-up with a clear error', async (t) => {
  await t.rejects(
    startBreakwater({
      listeners: [{ name: 'egress', address: '127.0.0.1:0', routes: [{ name: 'api', upstream: 'svc' }] }],
      upstreams: [{ name: 'svc', dns: { name: 'no-such-host.invalid', port: 80 } }],
    }),
    /breakwater exited before the expected log line[^]*upstream \\"svc\\": getaddrinfo ENOTFOUND no-such-host\.invalid/,
  );
});
