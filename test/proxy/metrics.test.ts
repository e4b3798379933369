/**
 * /metrics of a real Breakwater: the event-loop gauges of an idle proxy read its delay, not the sampling period.
 */
import t from 'tap';
import { eventually, metricValue, startBreakwater } from '../helpers/breakwater.js';

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
