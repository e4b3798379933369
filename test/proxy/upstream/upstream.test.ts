import t from 'tap';
import { parsePolicy } from '../../../proxy/config/load.js';
import { createLoggers } from '../../../proxy/telemetry/logger.js';
import { Metrics } from '../../../proxy/telemetry/metrics.js';
import { Upstream } from '../../../proxy/upstream/upstream.js';
import { metricValue } from '../../helpers/breakwater.js';

const policy = parsePolicy(
  'listeners: [{ name: e, address: "127.0.0.1:0", routes: [{ name: r, upstream: svc }] }]\nupstreams: [{ name: svc, dns: { name: svc.ns, port: 8080, refresh: 20ms } }]\n',
  'upstream-dns',
).upstreams[0]!;

const notFound = () => Object.assign(new Error('getaddrinfo ENOTFOUND svc.ns'), { code: 'ENOTFOUND' });

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

t.test('at start-up a name that does not resolve leaves the upstream not ready, without endpoints, until DNS answers', async (t) => {
  let answer: string[] | undefined;
  const metrics = new Metrics();
  const upstream = new Upstream(policy, metrics, createLoggers('silent').log, async () => {
    if (answer === undefined) throw notFound();
    return answer;
  });
  t.teardown(() => upstream.destroy());
  await upstream.start({ requireEndpoints: false });
  t.equal(upstream.ready, false, 'not ready');
  t.equal(upstream.pick([]), undefined, 'no endpoint to send to');
  t.equal(metricValue(await metrics.registry.metrics(), 'breakwater_dns_refresh_failures_total', { upstream: 'svc', reason: 'not-found' }), 1, 'the failure is counted');
  answer = ['10.0.0.1'];
  await until('the upstream to become ready', () => upstream.ready);
  t.equal(upstream.pick([])?.address, '10.0.0.1:8080');
});

t.test('with requireEndpoints (a reload), a name that does not resolve rejects and stops retrying', async (t) => {
  let calls = 0;
  const upstream = new Upstream(policy, new Metrics(), createLoggers('silent').log, async () => {
    calls += 1;
    throw notFound();
  });
  t.teardown(() => upstream.destroy());
  await t.rejects(upstream.start({ requireEndpoints: true }), /svc\.ns lookup failed: getaddrinfo ENOTFOUND svc\.ns/);
  // Absence can only be watched for a while: 300 ms would see a dozen retries at the 20 ms refresh.
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(calls, 1, 'no retry after the rejection');
});
