import t from 'tap';
import { runLoad } from '../../../demo-client/load.js';
import { startBackend } from '../../helpers/demo-backend.js';
import { startBreakwater } from '../../helpers/breakwater.js';

/** The contract's route policy with test-sized backoff, a budget that never runs out and no percentage trip. */
function policy(endpoint: string): Record<string, unknown> {
  return {
    listeners: [{
      name: 'egress',
      address: '127.0.0.1:0',
      routes: [{
        name: 'api',
        match: { pathPrefix: '/api' },
        upstream: 'backend',
        timeout: '3s',
        retry: { attempts: 4, perTryTimeout: '800ms', on: ['connect-failure', 'reset', '5xx', 'timeout'], backoff: { base: '1ms', max: '5ms', jitter: 'full' }, budget: { ratio: 1, minPerSecond: 100 } },
        circuitBreaker: { errorThresholdPercentage: 50, volumeThreshold: 1000, window: '10s', resetTimeout: '30s', halfOpenRequests: 1, consecutiveFailures: 5, failOn: ['5xx', 'timeout', 'connect-failure'] },
      }],
    }],
    upstreams: [{ name: 'backend', endpoints: [endpoint], connectTimeout: '250ms' }],
  };
}

// The `proxy` arm is the unmodified `none` client pointed at a real Breakwater in front of a real demo backend.
// Generous start bounds: on a busy 2-core machine a cold node process can take seconds to log that it listens.
const backend = await startBackend({ name: 'proxy-arm', startTimeoutMs: 30_000 });
t.teardown(() => backend.stop());
const breakwater = await startBreakwater(policy(backend.address), { startTimeoutMs: 30_000 }).catch(async (err: unknown) => {
  await backend.stop();
  throw err;
});
t.teardown(() => breakwater.stop());

t.test('retried by the sidecar: the client sees success and the attempts header', async (t) => {
  await backend.setFaults({ failureRate: 0, failNext: 2 });
  const { records } = await runLoad({ url: `${breakwater.url}/api/data`, rate: 10, durationMs: 100, mode: 'none', arm: 'proxy' });
  t.match(records, [{ arm: 'proxy', status: 200, ok: true, attempts: 3, fastFail: false, replica: 'proxy-arm' }]);
});

t.test("the sidecar's open breaker shows as fast fails, without backend traffic", async (t) => {
  await backend.reset();
  await backend.setFaults({ failureRate: 1, failureStatus: 500, slowRate: 0, transientRate: 0, failNext: 0 });
  const { records, summary } = await runLoad({ url: `${breakwater.url}/api/data`, rate: 40, durationMs: 1000, mode: 'none', arm: 'proxy' });
  t.ok(summary.fastFails > 0, `some calls were short-circuited (${summary.fastFails} of ${summary.count})`);
  t.ok(records.filter((r) => r.fastFail).every((r) => r.status === 503 && !r.ok), 'a short-circuited call is the fallback 503');
  const attemptsReported = records.reduce((sum, r) => sum + (r.attempts ?? 0), 0);
  const apiRequests = (await backend.stats()).requests.byRoute['GET /api/data'] ?? 0;
  t.equal(apiRequests, attemptsReported, 'the attempts headers the client recorded add up to what the backend saw');
  t.ok(attemptsReported > summary.count - summary.fastFails, 'failed calls that reached the backend were retried');
});
