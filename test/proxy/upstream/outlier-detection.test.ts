import t from 'tap';
import { Bulkhead } from '../../../proxy/policies/bulkhead.js';
import { createLoggers } from '../../../proxy/telemetry/logger.js';
import { Metrics } from '../../../proxy/telemetry/metrics.js';
import { Endpoint } from '../../../proxy/upstream/endpoint.js';
import { OutlierDetector, ejectionLimit } from '../../../proxy/upstream/outlier-detection.js';
import { parsePrometheusText } from '../../../chaos/prometheus-text.js';
import { metricValue } from '../../helpers/breakwater.js';

/** Endpoints with their health fields and Endpoint's own available(), but no connection pool. */
function endpoints(n: number): Endpoint[] {
  return Array.from({ length: n }, (_, i) =>
    Object.assign(Object.create(Endpoint.prototype) as Endpoint, {
      address: `10.0.0.${i + 1}:80`,
      consecutiveFailures: 0,
      ejectedUntil: 0,
      ejections: 0,
      ejectionLevel: 0,
      checkHealthy: true,
    }),
  );
}

type OutlierPolicy = ConstructorParameters<typeof OutlierDetector>[1];

/**
 * A detector for upstream "up", whose endpoints `exported` are the ones breakwater_endpoint_healthy reports. Times
 * not given are long enough never to pass during a test.
 */
function detector(given: Partial<OutlierPolicy> & Pick<OutlierPolicy, 'consecutiveFailures' | 'baseEjectionTimeMs' | 'maxEjectionPercent'>, exported: Endpoint[] = []) {
  const policy: OutlierPolicy = { maxEjectionTimeMs: 3_600_000, decayIntervalMs: 3_600_000, ...given };
  const metrics = new Metrics();
  const bulkhead = new Bulkhead({ maxConcurrent: 1, maxPending: 0, queueTimeoutMs: 0 }, metrics.bulkheadEvents('upstream', 'up'), 'upstream "up"');
  metrics.exportUpstream({ name: 'up', bulkhead, endpoints: exported });
  return { metrics, detector: new OutlierDetector('up', policy, metrics, createLoggers('silent').log) };
}

/** Polls a condition every 5 ms; fails naming `what` after 2 s. */
async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const fail = (d: OutlierDetector, e: Endpoint, all: Endpoint[], times: number) => {
  for (let i = 0; i < times; i++) d.failure(e, all);
};

t.test('ejects after N consecutive failures; a success resets the count', async (t) => {
  const all = endpoints(2);
  const { detector: d, metrics } = detector({ consecutiveFailures: 3, baseEjectionTimeMs: 10_000, maxEjectionPercent: 50 }, all);
  fail(d, all[0]!, all, 2);
  d.success(all[0]!);
  fail(d, all[0]!, all, 2);
  t.equal(all[0]!.ejections, 0, 'two failures, a success, two failures: not in a row');
  d.failure(all[0]!, all);
  t.equal(all[0]!.ejections, 1);
  t.ok(all[0]!.ejectedUntil > performance.now() + 9000, 'ejected for baseEjectionTime');
  const text = await metrics.registry.metrics();
  t.equal(metricValue(text, 'breakwater_endpoint_ejections_total', { endpoint: '10.0.0.1:80' }), 1);
  t.same(
    parsePrometheusText(text).filter((s) => s.name === 'breakwater_endpoint_healthy').map((s) => [s.labels.endpoint, s.value]),
    [['10.0.0.1:80', 0], ['10.0.0.2:80', 1]],
    'the ejected endpoint reads 0, the other 1',
  );
});

t.test('each ejection lasts longer: baseEjectionTime × times ejected; back afterwards', async (t) => {
  const all = endpoints(2);
  const { detector: d, metrics } = detector({ consecutiveFailures: 1, baseEjectionTimeMs: 40, maxEjectionPercent: 50 }, all);
  d.failure(all[0]!, all);
  const first = all[0]!.ejectedUntil - performance.now();
  await until('the first ejection to end', () => all[0]!.ejectedUntil <= performance.now());
  d.failure(all[0]!, all);
  const second = all[0]!.ejectedUntil - performance.now();
  t.equal(all[0]!.ejections, 2);
  t.ok(first <= 40 && second > 40 && second <= 80, `first ${first.toFixed(0)} ms, second ${second.toFixed(0)} ms`);
  await until('breakwater_endpoint_healthy to return to 1 after the ejection', async () =>
    metricValue(await metrics.registry.metrics(), 'breakwater_endpoint_healthy', { endpoint: '10.0.0.1:80' }) === 1,
  );
  t.pass('healthy again once the ejection ends');
});

t.test('never more than maxEjectionPercent, and never the last endpoint', async (t) => {
  const { detector: d } = detector({ consecutiveFailures: 1, baseEjectionTimeMs: 10_000, maxEjectionPercent: 50 });
  const four = endpoints(4);
  for (const e of four) d.failure(e, four);
  t.equal(four.filter((e) => e.ejections > 0).length, 2, '50% of 4');

  const { detector: all } = detector({ consecutiveFailures: 1, baseEjectionTimeMs: 10_000, maxEjectionPercent: 100 });
  const one = endpoints(1);
  fail(all, one[0]!, one, 5);
  t.equal(one[0]!.ejections, 0, 'a single endpoint is never ejected');
  const two = endpoints(2);
  for (const e of two) fail(all, e, two, 3);
  t.equal(two.filter((e) => e.ejections > 0).length, 1, 'with 100% allowed, one of two stays');
});

/** Ejects `endpoint` (consecutiveFailures 1) and returns for how long, in ms. */
function ejectOnce(d: OutlierDetector, endpoint: Endpoint, all: Endpoint[]): number {
  d.failure(endpoint, all);
  return Math.round(endpoint.ejectedUntil - performance.now());
}

/** Moves an ejected endpoint's ejection to have ended `agoMs` ago, as if that time had passed. */
function endedAgo(endpoint: Endpoint, agoMs: number): void {
  endpoint.ejectedUntil = performance.now() - agoMs;
}

t.test('ejection time grows with each ejection up to maxEjectionTime', async (t) => {
  const all = endpoints(2);
  const { detector: d } = detector({ consecutiveFailures: 1, baseEjectionTimeMs: 10_000, maxEjectionTimeMs: 25_000, maxEjectionPercent: 50 });
  const durations: number[] = [];
  for (let i = 0; i < 5; i++) {
    durations.push(ejectOnce(d, all[0]!, all));
    endedAgo(all[0]!, 0);
  }
  t.ok(durations.every((ms, i) => Math.abs(ms - [10_000, 20_000, 25_000, 25_000, 25_000][i]!) < 50), `10 s, 20 s, then capped at 25 s: ${durations.join(', ')} ms`);
  t.equal(all[0]!.ejections, 5, 'every ejection is counted');
});

t.test('the multiplier decays by one for each decayInterval back in service', async (t) => {
  const all = endpoints(2);
  const { detector: d } = detector({ consecutiveFailures: 1, baseEjectionTimeMs: 1000, maxEjectionTimeMs: 100_000, decayIntervalMs: 10_000, maxEjectionPercent: 50 });
  for (let i = 0; i < 4; i++) {
    ejectOnce(d, all[0]!, all);
    endedAgo(all[0]!, 0);
  }
  t.equal(all[0]!.ejectionLevel, 4, 'four ejections in a row');
  endedAgo(all[0]!, 25_000); // two whole intervals back in service
  const after = ejectOnce(d, all[0]!, all);
  t.ok(Math.abs(after - 3000) < 50, `4 - 2 + 1 = level 3: ejected for ${after} ms`);
  endedAgo(all[0]!, 1_000_000);
  const rested = ejectOnce(d, all[0]!, all);
  t.ok(Math.abs(rested - 1000) < 50, `long healthy: back to baseEjectionTime, ${rested} ms`);
});

t.test('a multiplier stuck at the cap decays as soon as the endpoint stays healthy', async (t) => {
  const all = endpoints(2);
  const { detector: d } = detector({ consecutiveFailures: 1, baseEjectionTimeMs: 1000, maxEjectionTimeMs: 3000, decayIntervalMs: 10_000, maxEjectionPercent: 50 });
  for (let i = 0; i < 20; i++) {
    ejectOnce(d, all[0]!, all);
    endedAgo(all[0]!, 0);
  }
  t.equal(all[0]!.ejectionLevel, 3, 'the level stops where the ejection time reaches the cap');
  endedAgo(all[0]!, 10_000);
  const after = ejectOnce(d, all[0]!, all);
  t.ok(Math.abs(after - 3000) < 50, `one interval healthy: 3 - 1 + 1, still the cap: ${after} ms`);
  endedAgo(all[0]!, 20_000);
  t.ok(Math.abs(ejectOnce(d, all[0]!, all) - 2000) < 50, 'two intervals healthy: below the cap');
});

t.test('at least one endpoint may be ejected whenever maxEjectionPercent > 0', async (t) => {
  t.equal(ejectionLimit(4, 10), 1, '10% of 4 rounds down to 0, but one may go');
  t.equal(ejectionLimit(20, 10), 2);
  t.equal(ejectionLimit(4, 0), 0, '0% ejects nothing');
  const { detector: d } = detector({ consecutiveFailures: 1, baseEjectionTimeMs: 10_000, maxEjectionPercent: 10 });
  const four = endpoints(4);
  for (const e of four) d.failure(e, four);
  t.equal(four.filter((e) => e.ejections > 0).length, 1, 'one of four ejected at 10%');
  const { detector: none } = detector({ consecutiveFailures: 1, baseEjectionTimeMs: 10_000, maxEjectionPercent: 0 });
  const two = endpoints(2);
  for (const e of two) none.failure(e, two);
  t.equal(two.filter((e) => e.ejections > 0).length, 0, 'nothing at 0%');
});

t.test('never the last available endpoint: one failing its health check counts as unavailable', async (t) => {
  const { detector: d } = detector({ consecutiveFailures: 1, baseEjectionTimeMs: 10_000, maxEjectionPercent: 100 });
  const three = endpoints(3);
  three[1]!.checkHealthy = false;
  three[2]!.checkHealthy = false;
  d.failure(three[0]!, three);
  t.equal(three[0]!.ejections, 0, 'the only endpoint passing its checks stays');
  three[2]!.checkHealthy = true;
  d.failure(three[0]!, three);
  t.equal(three[0]!.ejections, 1, 'with another available, it may go');
});
