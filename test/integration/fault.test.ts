/**
 * Fault injection through real processes: an injected abort never reaches the upstream and is marked as injected
 * (header, access log, metric); an injected delay adds its time; 0% changes nothing.
 */
import t from 'tap';
import { http, metricValue, startBreakwater } from '../helpers/breakwater.js';
import { startBackend } from '../helpers/demo-backend.js';

const DELAY_MS = 400;

t.test('fault injection', async (t) => {
  const backend = await startBackend();
  t.teardown(() => backend.stop());
  const bw = await startBreakwater(
    {
      listeners: [
        {
          name: 'main',
          address: '127.0.0.1:0',
          routes: [
            { name: 'aborted', match: { pathPrefix: '/api/status' }, upstream: 'backend', fault: { abort: { percent: 100, status: 429 } } },
            { name: 'delayed', match: { pathPrefix: '/api/transient' }, upstream: 'backend', fault: { delay: { percent: 100, duration: `${DELAY_MS}ms` } } },
            {
              name: 'untouched',
              match: { pathPrefix: '/api/data' },
              upstream: 'backend',
              fault: { delay: { percent: 0, duration: '5s' }, abort: { percent: 0, status: 500 } },
            },
          ],
        },
      ],
      upstreams: [{ name: 'backend', endpoints: [backend.address] }],
    },
    { startTimeoutMs: 30_000 },
  );
  t.teardown(() => bw.stop());

  await t.test('abort at 100% answers the configured status without calling the upstream, marked as injected', async (t) => {
    const before = (await backend.stats()).requests.total;
    const from = bw.logs.length;
    for (let i = 0; i < 10; i++) {
      const res = await http(`${bw.url}/api/status/200`);
      t.equal(res.status, 429);
      t.equal(res.headers['x-breakwater-fault'], 'abort');
    }
    t.equal((await backend.stats()).requests.total, before, 'no aborted request reached the backend');
    const line = await bw.waitForLog((l) => l.msg === 'request' && l.route === 'aborted', 5000, from);
    t.equal(line.injected, 'abort', 'the access log marks the fault as injected');
    t.equal(line.outcome, 'fault-abort');
    t.equal(metricValue(await bw.metrics(), 'breakwater_faults_injected_total', { route: 'aborted', kind: 'abort' }), 10);
  });

  await t.test('delay at 100% adds its duration, then the request goes upstream', async (t) => {
    const before = (await backend.stats()).requests.total;
    const from = bw.logs.length;
    const start = performance.now();
    const res = await http(`${bw.url}/api/transient`);
    const elapsed = performance.now() - start;
    t.equal(res.status, 200);
    t.ok(elapsed >= DELAY_MS - 10, `the request took at least the injected ${DELAY_MS} ms (took ${elapsed.toFixed(0)} ms)`);
    t.equal((await backend.stats()).requests.total, before + 1, 'the delayed request reached the backend');
    const line = await bw.waitForLog((l) => l.msg === 'request' && l.route === 'delayed', 5000, from);
    t.equal(line.injected, 'delay');
    t.equal(metricValue(await bw.metrics(), 'breakwater_faults_injected_total', { route: 'delayed', kind: 'delay' }), 1);
  });

  await t.test('0% injects nothing', async (t) => {
    const before = (await backend.stats()).requests.total;
    for (let i = 0; i < 20; i++) {
      const res = await http(`${bw.url}/api/data`);
      t.equal(res.status, 200);
      t.equal(res.headers['x-breakwater-fault'], undefined);
    }
    t.equal((await backend.stats()).requests.total, before + 20);
    t.equal(metricValue(await bw.metrics(), 'breakwater_faults_injected_total', { route: 'untouched' }), 0);
  });
});
