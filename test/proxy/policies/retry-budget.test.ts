import t from 'tap';
import { Clock } from '../../../proxy/core/clock.js';
import { RetryBudget } from '../../../proxy/policies/retry-budget.js';

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
