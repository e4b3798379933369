/**
 * /metrics of a real Breakwater: the event-loop gauges of an idle proxy read its delay, not the sampling period, and
 * scrapes during traffic (rendered a slice at a time, shared between concurrent scrapers) are complete and exact.
 */
import t from 'tap';
import { request } from 'undici';
import { eventually, metricValue, startBreakwater } from '../helpers/breakwater.js';
import { startBackend } from '../helpers/demo-backend.js';

const IDLE_POLICY = {
  listeners: [{ name: 'egress', address: '127.0.0.1:0', routes: [{ name: 'api', upstream: 'backend' }] }],
  upstreams: [{ name: 'backend', endpoints: ['127.0.0.1:9'] }],
};

t.test('an idle proxy reads an event-loop lag near 0, not the 0.1 s sampling period', async (t) => {
  const bw = await startBreakwater(IDLE_POLICY);
  t.teardown(() => bw.stop());
  // Each scrape reads the ticks (every 100 ms) since the one before; one has been recorded once max is above 0.
  const text = await eventually(
    'an event-loop tick recorded between scrapes',
    async () => {
      const scraped = await bw.metrics();
      return metricValue(scraped, 'nodejs_eventloop_lag_max_seconds') > 0 ? scraped : undefined;
    },
    5000,
    250,
  );
  for (const gauge of ['min', 'mean', 'p50', 'p90', 'p99']) {
    const value = metricValue(text, `nodejs_eventloop_lag_${gauge}_seconds`);
    t.ok(value >= 0 && value < 0.05, `nodejs_eventloop_lag_${gauge}_seconds is ${value}, well under 0.05 s`);
  }
});

/** breakwater_requests_total summed over its series, read without parsing the whole text. */
function requestsCounted(text: string): number {
  let total = 0;
  for (const [, value] of text.matchAll(/^breakwater_requests_total\{[^}]*\} (\d+)$/gm)) total += Number(value);
  return total;
}

const ROUTES = 200;
const REQUESTS = 200;
const SCRAPERS = 4;

t.test('scrapes during traffic each get complete text, and a scrape after it shows every request', async (t) => {
  const backend = await startBackend({ name: 'b' });
  t.teardown(() => backend.stop());
  const routes = Array.from({ length: ROUTES }, (_, i) => ({ name: `r${i}`, match: { pathPrefix: `/r${i}/` }, upstream: 'backend', circuitBreaker: {} }));
  const bw = await startBreakwater({ listeners: [{ name: 'egress', address: '127.0.0.1:0', routes }], upstreams: [{ name: 'backend', endpoints: [backend.address] }] });
  t.teardown(() => bw.stop());

  let trafficDone = false;
  const traffic = (async () => {
    try {
      for (let i = 0; i < REQUESTS; i++) await (await request(`${bw.url}/r${i % ROUTES}/item`)).body.dump();
    } finally {
      trafficDone = true;
    }
  })();
  // Scrapers in parallel until the traffic ends (at most 200 scrapes each), every answer checked for completeness.
  const scrapers = Array.from({ length: SCRAPERS }, async () => {
    const counts: number[] = [];
    for (let scrapes = 0; !trafficDone && scrapes < 200; scrapes++) {
      const res = await request(`${bw.admin}/metrics`);
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`);
      if (Number(res.headers['content-length']) !== Buffer.byteLength(text)) throw new Error('the body is shorter or longer than its Content-Length');
      if (!text.endsWith('\n') || !/^nodejs_eventloop_lag_p99_seconds /m.test(text)) throw new Error('a scrape lacks its last family');
      counts.push(requestsCounted(text));
    }
    return counts;
  });
  await traffic;
  const seen = await Promise.all(scrapers);
  t.ok(seen.flat().length >= SCRAPERS, `${seen.flat().length} scrapes ran during the traffic, each complete`);
  for (const counts of seen) t.same(counts, [...counts].sort((a, b) => a - b), 'one scraper\'s counts never go back');

  const after = await bw.metrics();
  t.equal(metricValue(after, 'breakwater_requests_total'), REQUESTS, 'a scrape after the traffic counts every request');
  t.equal(metricValue(after, 'breakwater_request_duration_seconds_count'), REQUESTS);
  t.equal(metricValue(after, 'breakwater_circuit_state', { state: 'closed' }), ROUTES, 'every route\'s breaker state is exported');
});
