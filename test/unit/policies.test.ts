import t from 'tap';
import { backoffDelay, retryAfterMs } from '../../proxy/policies/backoff.js';
import { RetryBudget } from '../../proxy/policies/retry-budget.js';
import { Clock } from '../../proxy/core/clock.js';
import { classifyError } from '../../proxy/core/outcome.js';

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

t.test('retry budget: ratio of requests plus a per-second reserve, over a sliding window', async (t) => {
  let now = 0;
  const clock = new Clock(() => now);
  const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0, windowMs: 10_000 }, clock);
  for (let i = 0; i < 10; i++) budget.recordRequest();
  t.ok(budget.tryWithdraw(), '1st retry of 10 requests at 20%');
  t.ok(budget.tryWithdraw(), '2nd');
  t.notOk(budget.tryWithdraw(), '3rd exceeds 20% of 10');
  now = 11_000; // the window slid past those requests
  t.notOk(budget.tryWithdraw(), 'nothing to retry against in a fresh window');
  const reserve = new RetryBudget({ ratio: 0, minPerSecond: 1, windowMs: 2000 }, clock);
  t.ok(reserve.tryWithdraw());
  t.ok(reserve.tryWithdraw());
  t.notOk(reserve.tryWithdraw(), 'the reserve allows minPerSecond × window seconds');
});

t.test('the shared clock fires timers in order, never early, and cancels', async (t) => {
  const clock = new Clock();
  // The clock's interval is unref'd (a proxy's sockets keep the process alive); hold the loop open for the test.
  const keepAlive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const fired: string[] = [];
  const start = clock.time();
  const done = new Promise<void>((resolve) => {
    clock.after(30, () => fired.push('b'));
    clock.after(10, () => fired.push('a'));
    clock.after(20, () => fired.push('cancelled')).cancel();
    clock.after(40, () => {
      fired.push('c');
      resolve();
    });
  });
  await done;
  t.same(fired, ['a', 'b', 'c']);
  t.ok(clock.time() - start >= 40, 'not early');
  // A timer further out than one turn of the wheel (512 × 5 ms) waits its turn.
  const far = clock.time() + 2700;
  let farFiredAt = 0;
  await new Promise<void>((resolve) => clock.at(far, () => ((farFiredAt = clock.time()), resolve())));
  t.ok(farFiredAt >= far, 'a long timer is not fired on an earlier turn');
});

t.test('cancelled timers never fire, even cancelled by another callback of the same tick', async (t) => {
  let now = 0;
  const clock = new Clock(() => now);
  const keepAlive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const fired: string[] = [];
  // Ten timers in one slot of the wheel, three cancelled up front.
  const timers = Array.from({ length: 10 }, (_, i) => clock.at(10, () => fired.push(`t${i}`)));
  for (const i of [0, 4, 9]) timers[i]!.cancel();
  // Two more due in the same tick, each cancelling the other: whichever runs first wins.
  const pair: Array<{ cancel(): void }> = [];
  pair.push(clock.at(10, () => (fired.push('x'), pair[1]!.cancel())));
  pair.push(clock.at(10, () => (fired.push('y'), pair[0]!.cancel())));
  timers[1]!.cancel(); // cancelling twice, or after others moved in the slot, is harmless
  timers[1]!.cancel();
  const sentinel = new Promise<void>((resolve) => clock.at(30, () => (fired.push('sentinel'), resolve())));
  now = 40;
  await Promise.race([sentinel, new Promise((_, reject) => setTimeout(() => reject(new Error('the wheel did not advance within 2 s')), 2000))]);
  t.same(fired.filter((f) => f.startsWith('t')).sort(), ['t2', 't3', 't5', 't6', 't7', 't8'], 'every live timer fired once, no cancelled one');
  t.equal(fired.filter((f) => f === 'x' || f === 'y').length, 1, 'of two timers cancelling each other, one fired');
  t.equal(fired.at(-1), 'sentinel', 'the later tick ran after the earlier one');
});

t.test('undici errors map to the failure kinds retries and breakers understand', async (t) => {
  t.equal(classifyError({ code: 'ECONNREFUSED' }), 'connect-failure');
  t.equal(classifyError({ code: 'UND_ERR_CONNECT_TIMEOUT' }), 'connect-failure');
  t.equal(classifyError({ code: 'ENOTFOUND' }), 'connect-failure');
  t.equal(classifyError({ code: 'UND_ERR_HEADERS_TIMEOUT' }), 'timeout');
  t.equal(classifyError({ code: 'ECONNRESET' }), 'reset');
  t.equal(classifyError({ code: 'UND_ERR_SOCKET' }), 'reset');
});
