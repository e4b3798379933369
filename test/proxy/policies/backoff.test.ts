import t from 'tap';
import { backoffDelay, retryAfterMs } from '../../../proxy/policies/backoff.js';

t.test('backoff grows exponentially to the cap, and each jitter stays in its range', async (t) => {
  const policy = { baseMs: 50, maxMs: 1000, jitter: 'none' as const };
  t.same([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy)), [50, 100, 200, 400, 800, 1000]);
  t.equal(backoffDelay(3, { ...policy, jitter: 'full' }, () => 0.5), 100, 'full: uniform in [0, ceiling)');
  t.equal(backoffDelay(3, { ...policy, jitter: 'full' }, () => 0), 0);
  t.equal(backoffDelay(3, { ...policy, jitter: 'equal' }, () => 0), 100, 'equal: at least half the ceiling');
  t.equal(backoffDelay(3, { ...policy, jitter: 'equal' }, () => 0.999999) < 200, true);
});

t.test('Retry-After: seconds or an HTTP date', async (t) => {
  t.equal(retryAfterMs('2'), 2000);
  t.equal(retryAfterMs(undefined), undefined);
  t.equal(retryAfterMs('soon'), undefined);
  const now = Date.parse('2026-01-01T00:00:00Z');
  t.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:03 GMT', now), 3000);
  t.equal(retryAfterMs(['1', '9']), 1000);
});
