import t from 'tap';
import { request } from 'undici';
import { startBackend } from '../helpers/demo-backend.js';
import { eventually, startBreakwater } from '../helpers/breakwater.js';

t.test('round robin: with one of two endpoints failing, first attempts still alternate; retries go to the other', async (t) => {
  const failing = await startBackend({ name: 'failing', failureRate: 1, failureStatus: 503 });
  const healthy = await startBackend({ name: 'healthy' });
  t.teardown(() => Promise.all([failing.stop(), healthy.stop()]));
  const bw = await startBreakwater({
    listeners: [
      {
        name: 'egress',
        address: '127.0.0.1:0',
        routes: [
          {
            name: 'api',
            upstream: 'backend',
            retry: { attempts: 2, on: [503], backoff: { base: '1ms', max: '1ms' }, budget: { ratio: 1, minPerSecond: 1000 } },
          },
        ],
      },
    ],
    // Outlier detection would take the failing endpoint out and hide what the balancer does.
    upstreams: [{ name: 'backend', endpoints: [failing.address, healthy.address], outlierDetection: { consecutiveFailures: 1000 } }],
  });
  t.teardown(() => bw.stop());

  const REQUESTS = 20;
  for (let i = 0; i < REQUESTS; i++) {
    const res = await request(`${bw.url}/api/data`);
    await res.body.dump();
    t.equal(res.statusCode, 200, `request ${i + 1} succeeds, on a retry when needed`);
  }
  const lines = await eventually(`${REQUESTS} access log lines`, () => {
    const seen = bw.logs.filter((l) => l.msg === 'request');
    return seen.length >= REQUESTS ? seen : undefined;
  });
  const firsts = lines.map((l) => (l.endpoints as string[])[0]);
  const toFailing = firsts.filter((e) => e === failing.address).length;
  t.equal(toFailing, REQUESTS / 2, `half the first attempts go to the failing endpoint: ${firsts.join(' ')}`);
  for (let i = 1; i < REQUESTS; i++) t.not(firsts[i], firsts[i - 1], `first attempts alternate (request ${i + 1})`);
  for (const line of lines) {
    const endpoints = line.endpoints as string[];
    if (endpoints[0] === failing.address) t.same(endpoints, [failing.address, healthy.address], 'a retry goes to the endpoint not tried');
  }
  t.equal((await failing.stats()).requests.total, REQUESTS / 2, 'the failing backend saw one attempt per second request');
});
