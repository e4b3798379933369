import t from 'tap';
import { eventually, http, metricValue, startBreakwater } from '../helpers/breakwater.js';
import { startScriptedUpstream, type Arrival } from '../helpers/scripted-upstream.js';

/** Holds a request without answering: a slow endpoint, until the proxy gives up on it. */
const hold = (_arrival: Arrival) => undefined;

t.test('hedged requests through a real Breakwater: one slow endpoint of two', async (t) => {
  const slow = await startScriptedUpstream();
  const fast = await startScriptedUpstream();
  t.teardown(() => Promise.all([slow.close(), fast.close()]));
  slow.on('/', hold);
  fast.on('/', hold); // /writes and /budget: both endpoints slow
  fast.on('/api', (a) => a.res.end('fast')); // the later script wins for its prefix
  const bw = await startBreakwater({
    listeners: [
      {
        name: 'egress',
        address: '127.0.0.1:0',
        routes: [
          { name: 'api', match: { pathPrefix: '/api' }, upstream: 'pair', timeout: '5s', hedge: { delay: '50ms' } },
          { name: 'writes', match: { pathPrefix: '/writes' }, upstream: 'pair', timeout: '300ms', hedge: { delay: '20ms' } },
          {
            name: 'budget',
            match: { pathPrefix: '/budget' },
            upstream: 'pair',
            timeout: '300ms',
            hedge: { delay: '20ms' },
            // One hedge in the 10 s window, and none earned by requests.
            retry: { attempts: 1, budget: { ratio: 0, minPerSecond: 0.1, window: '10s' } },
          },
        ],
      },
    ],
    upstreams: [{ name: 'pair', endpoints: [slow.address, fast.address], outlierDetection: { consecutiveFailures: 1000 } }],
  });
  t.teardown(() => bw.stop());

  await t.test('the hedge wins for requests whose first attempt went to the slow endpoint; the loser is cancelled upstream', async (t) => {
    const REQUESTS = 6;
    for (let i = 0; i < REQUESTS; i++) {
      const res = await http(`${bw.url}/api/items/${i}`);
      t.equal(res.status, 200, `request ${i + 1} answered`);
      t.equal(res.body, 'fast', 'by the fast endpoint');
    }
    const slowFirst = slow.count('/api');
    t.ok(slowFirst >= 2 && slowFirst <= 4, `round robin sent about half the first attempts to the slow endpoint (${slowFirst} of ${REQUESTS})`);
    for (let i = 0; i < slowFirst; i++) {
      const arrival = await slow.arrival('/api', i);
      await t.resolves(Promise.race([arrival.closed, rejectAfter(3000, `slow attempt ${i + 1} was never cancelled`)]), `slow attempt ${i + 1} was cancelled upstream`);
      t.notOk(arrival.res.headersSent, 'the slow endpoint never answered it');
    }
    const metrics = await bw.metrics();
    t.equal(metricValue(metrics, 'breakwater_hedges_total', { route: 'api', result: 'won' }), slowFirst, 'every hedge won');
    t.equal(metricValue(metrics, 'breakwater_upstream_attempts_total', { route: 'api', result: 'cancelled' }), slowFirst, 'the losers count as cancelled attempts');
    const lines = await eventually('access log lines for /api', () => {
      const seen = bw.logs.filter((l) => l.msg === 'request' && String(l.path).startsWith('/api'));
      return seen.length >= REQUESTS ? seen : undefined;
    });
    for (const line of lines) {
      const endpoints = line.endpoints as string[];
      t.equal(line.attempts, endpoints[0] === slow.address ? 2 : 1, `${line.path}: hedged exactly when the first attempt was slow`);
    }
  });

  await t.test('a non-idempotent request is never hedged', async (t) => {
    const res = await http(`${bw.url}/writes/order`, { method: 'POST', body: 'x' });
    t.equal(res.status, 504, 'the route deadline answers it');
    t.equal(res.headers['x-breakwater-attempts'], '1', 'one attempt');
    t.equal(slow.count('/writes') + fast.count('/writes'), 1, 'one request reached an upstream');
  });

  await t.test('hedges spend the retry budget: past it, slow requests are not hedged', async (t) => {
    for (let i = 0; i < 3; i++) t.equal((await http(`${bw.url}/budget/${i}`)).status, 504, `request ${i + 1} meets its deadline`);
    t.equal(slow.count('/budget') + fast.count('/budget'), 4, 'three requests and the one hedge the budget allowed reached the upstreams');
    const metrics = await bw.metrics();
    t.equal(metricValue(metrics, 'breakwater_hedges_total', { route: 'budget', result: 'budget' }), 2, 'the other two hedges were refused for the budget');
  });
});

function rejectAfter(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}
