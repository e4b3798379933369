/**
 * Reloads lose nothing: requests of the old generation keep its upstream pools, breakers and bulkheads until they
 * finish, even when the reload replaces every one of them. Real Breakwater, loopback upstreams, bounded load.
 */
import { Readable } from 'node:stream';
import t from 'tap';
import { request } from 'undici';
import { startBreakwater } from '../helpers/breakwater.js';
import { startScriptedUpstream } from '../helpers/scripted-upstream.js';

t.test('reloads that change the upstream and the breaker under load fail no request', async (t) => {
  const a = await startScriptedUpstream();
  const b = await startScriptedUpstream();
  t.teardown(() => Promise.all([a.close(), b.close()]));
  for (const upstream of [a, b]) {
    upstream.on('/slow', (arrival) => setTimeout(() => arrival.res.end('slow'), 150));
  }
  const policy = (generation: number) => ({
    listeners: [
      {
        name: 'egress',
        address: '127.0.0.1:0',
        routes: [
          {
            name: 'api',
            match: { pathPrefix: '/' },
            upstream: 'backend',
            timeout: '10s',
            retry: { attempts: 2, on: ['connect-failure', 503] },
            circuitBreaker: { volumeThreshold: 1000, resetTimeout: generation % 2 === 0 ? '5s' : '6s' },
            maxConcurrent: 100 + (generation % 2),
          },
        ],
      },
    ],
    upstreams: [
      {
        name: 'backend',
        endpoints: generation % 2 === 0 ? [a.address] : [b.address],
        connectTimeout: generation % 2 === 0 ? '250ms' : '300ms',
        pool: { maxConnections: 16 },
      },
    ],
  });
  const bw = await startBreakwater(policy(0));
  t.teardown(() => bw.stop());

  const failures: string[] = [];
  let sent = 0;
  let loading = true;
  const worker = async (index: number) => {
    // Bounded: until the reloads are done, and never more than 2000 requests per worker.
    for (let i = 0; loading && i < 2000; i++) {
      sent++;
      const path = i % 4 === 0 ? `/slow/${index}-${i}` : `/fast/${index}-${i}`;
      try {
        const res = await request(`${bw.url}${path}`);
        const body = await res.body.text();
        if (res.statusCode !== 200) failures.push(`${path}: ${res.statusCode} ${body}`);
      } catch (err) {
        failures.push(`${path}: ${(err as Error).message}`);
      }
    }
  };
  // A slow upload that spans a reload: its attempt starts after the swap, under its own generation.
  const reloadLogIndex = bw.logs.length;
  const upload = (async () => {
    const res = await request(`${bw.url}/upload`, {
      method: 'PUT',
      body: Readable.from(
        (async function* () {
          yield Buffer.from('first half ');
          await bw.waitForLog((l) => l.msg === 'policy reloaded', 10_000, reloadLogIndex);
          yield Buffer.from('second half');
        })(),
      ),
    });
    return { status: res.statusCode, body: await res.body.text() };
  })();
  const workers = Array.from({ length: 6 }, (_, i) => worker(i));

  for (let generation = 1; generation <= 6; generation++) {
    const from = bw.logs.length;
    bw.writePolicy(policy(generation));
    await bw.waitForLog((l) => l.msg === 'policy reloaded' && l.generation === generation + 1, 10_000, from);
  }
  loading = false;
  await Promise.all(workers);
  const uploaded = await upload;

  t.equal(uploaded.status, 200, 'the upload that spanned a reload went through');
  t.ok(sent > 100, `load ran during the reloads (${sent} requests)`);
  t.same(failures.slice(0, 10), [], `no request failed across 6 reloads (${failures.length} of ${sent} failed)`);
  t.ok(a.count('/') > 0 && b.count('/') > 0, 'both generations served');
});
