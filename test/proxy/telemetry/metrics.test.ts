// breakwater_endpoint_healthy and the upstream bulkhead gauges are read at scrape time from the upstream that is
// exported: endpoints DNS adds or drops appear and go, ejections read 0, and only the exported upstream can forget
// its name (a replaced one closing later must not take the running one's series with it).
import t from 'tap';
import { parsePrometheusText } from '../../../chaos/prometheus-text.js';
import { parsePolicy } from '../../../proxy/config/load.js';
import { clock } from '../../../proxy/core/clock.js';
import { createLoggers } from '../../../proxy/telemetry/logger.js';
import { Metrics } from '../../../proxy/telemetry/metrics.js';
import { Upstream } from '../../../proxy/upstream/upstream.js';

const POLICY = `
listeners:
  - name: egress
    address: 127.0.0.1:0
    routes: [{ name: api, upstream: backend }]
upstreams:
  - name: backend
    endpoints: ["127.0.0.1:1", "127.0.0.1:2"]
`;

async function scrape(metrics: Metrics) {
  const samples = parsePrometheusText(await metrics.registry.metrics());
  return {
    healthy: Object.fromEntries(
      samples.filter((s) => s.name === 'breakwater_endpoint_healthy' && s.labels.upstream === 'backend').map((s) => [s.labels.endpoint, s.value]),
    ),
    bulkheads: samples.filter((s) => s.name === 'breakwater_bulkhead_active' && s.labels.name === 'backend').length,
  };
}

t.test('endpoint health follows the exported upstream', async (t) => {
  const policy = parsePolicy(POLICY, 'test.yaml').upstreams[0]!;
  const metrics = new Metrics();
  const log = createLoggers('silent').log;
  const running = new Upstream(policy, metrics, log);
  const replacement = new Upstream(policy, metrics, log);
  t.teardown(() => Promise.all([running.destroy(), replacement.destroy()]));

  t.same(await scrape(metrics), { healthy: {}, bulkheads: 0 }, 'nothing is exported before the generation serves');
  metrics.exportUpstream(running);
  t.same(await scrape(metrics), { healthy: { '127.0.0.1:1': 1, '127.0.0.1:2': 1 }, bulkheads: 1 });

  running.setEndpoints(['127.0.0.1:2', '127.0.0.1:3']);
  t.same((await scrape(metrics)).healthy, { '127.0.0.1:2': 1, '127.0.0.1:3': 1 }, 'a dropped endpoint goes, a new one appears');

  running.endpoints.find((e) => e.address === '127.0.0.1:3')!.ejectedUntil = clock.time() + 60_000;
  running.endpoints.find((e) => e.address === '127.0.0.1:2')!.checkHealthy = false;
  t.same((await scrape(metrics)).healthy, { '127.0.0.1:2': 0, '127.0.0.1:3': 0 }, 'ejected and failing its check both read 0');

  metrics.forgetUpstream(replacement);
  t.same(await scrape(metrics), { healthy: { '127.0.0.1:2': 0, '127.0.0.1:3': 0 }, bulkheads: 1 }, 'an upstream never exported forgets nothing');
  metrics.exportUpstream(replacement);
  metrics.forgetUpstream(running);
  t.same(await scrape(metrics), { healthy: { '127.0.0.1:1': 1, '127.0.0.1:2': 1 }, bulkheads: 1 }, 'the replaced one closing leaves the replacement exported');
  metrics.forgetUpstream(replacement);
  t.same(await scrape(metrics), { healthy: {}, bulkheads: 0 }, 'a removed upstream stops exporting');
});
