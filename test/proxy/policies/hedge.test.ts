import t from 'tap';
import { Clock, clock } from '../../../proxy/core/clock.js';
import type { Exchange, Send, UpstreamResponse } from '../../../proxy/core/exchange.js';
import { ProxyError } from '../../../proxy/core/proxy-error.js';
import type { AbortListener } from '../../../proxy/core/request-scope.js';
import { hedgeLayer, type HedgeResult } from '../../../proxy/policies/hedge.js';
import { fakeExchange } from '../../helpers/fake-send.js';
import { LatencyWindow, MIN_SAMPLES } from '../../../proxy/policies/latency-window.js';
import { RetryBudget } from '../../../proxy/policies/retry-budget.js';

/** One attempt the fake upstream holds until the test answers it; it sees its own abort as the attempt would. */
interface HeldAttempt {
  exchange: Exchange;
  answer(status: number): void;
  fail(error: ProxyError): void;
  /** Why its scope was aborted, once it was. */
  aborted: ProxyError | undefined;
}

function fakeUpstream(): { send: Send; attempts: HeldAttempt[]; next(n: number): Promise<HeldAttempt> } {
  const attempts: HeldAttempt[] = [];
  const waiters: Array<() => void> = [];
  const send: Send = (exchange) =>
    new Promise<UpstreamResponse>((resolve, reject) => {
      exchange.trace.attempts++;
      const held: HeldAttempt = {
        exchange,
        aborted: undefined,
        answer: (status) => resolve({ status, headers: {}, body: Buffer.from(String(status)) }),
        fail: reject,
      };
      const listener: AbortListener = {
        abort: (reason) => {
          held.aborted = reason;
          reject(reason);
        },
      };
      exchange.scope.onAbort(listener);
      attempts.push(held);
      for (const wake of waiters.splice(0)) wake();
    });
  const next = (n: number) =>
    new Promise<HeldAttempt>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`attempt #${n + 1} was never sent (saw ${attempts.length})`)), 2000);
      const check = () => {
        if (attempts[n]) {
          clearTimeout(timer);
          resolve(attempts[n]!);
        } else waiters.push(check);
      };
      check();
    });
  return { send, attempts, next };
}

function hedged(policy: { delayMs?: number; percentile?: number; maxAttempts?: number }, budget = new RetryBudget({ ratio: 1, minPerSecond: 100, windowMs: 10_000 }), latencies = new LatencyWindow()) {
  const results: HedgeResult[] = [];
  const layer = hedgeLayer({ maxAttempts: 2, ...policy }, { budget, recordsRequests: true, latencies, hedged: (r) => results.push(r) });
  return { layer, results };
}

t.test('a slow first attempt is hedged after the delay; the hedge answers first and the first attempt is cancelled', async (t) => {
  const upstream = fakeUpstream();
  const { layer, results } = hedged({ delayMs: 20 });
  const ex = fakeExchange();
  const response = layer(upstream.send)(ex);
  const first = await upstream.next(0);
  const hedge = await upstream.next(1);
  t.not(hedge.exchange.scope, first.exchange.scope, 'each attempt runs in its own scope');
  hedge.answer(200);
  t.equal((await response).status, 200, 'the hedge answer is the response');
  t.equal(first.aborted?.kind, 'cancelled', 'the slower attempt is cancelled');
  t.equal(hedge.aborted, undefined, 'the winner keeps running (its body is still to be relayed)');
  t.equal(ex.scope.reason, undefined, 'the request itself goes on');
  t.equal(ex.trace.attempts, 2, 'both attempts count in x-breakwater-attempts');
  t.same(results, ['won']);
});

t.test('an attempt that answers within the delay is never hedged', async (t) => {
  const upstream = fakeUpstream();
  const { layer, results } = hedged({ delayMs: 200 });
  const response = layer(upstream.send)(fakeExchange());
  (await upstream.next(0)).answer(200);
  t.equal((await response).status, 200);
  t.equal(upstream.attempts.length, 1);
  t.same(results, []);
});

t.test('a non-idempotent request or a streamed body is never hedged', async (t) => {
  for (const ex of [fakeExchange({ method: 'POST', idempotent: false }), fakeExchange({ body: { kind: 'stream', stream: undefined as never, reason: 'too-large' } })]) {
    const upstream = fakeUpstream();
    const { layer } = hedged({ delayMs: 1 });
    const response = layer(upstream.send)(ex);
    const only = await upstream.next(0);
    // The shared clock runs its timers in time order: one due well after the delay runs after any hedge would have.
    await afterClock(20);
    t.equal(upstream.attempts.length, 1, `${ex.method} with a ${ex.body.kind} body: one attempt`);
    only.answer(200);
    t.equal((await response).status, 200);
  }
});

t.test('a spent retry budget stops the hedge, and says so', async (t) => {
  const upstream = fakeUpstream();
  const budget = new RetryBudget({ ratio: 0, minPerSecond: 0, windowMs: 10_000 });
  const { layer, results } = hedged({ delayMs: 5 }, budget);
  const response = layer(upstream.send)(fakeExchange());
  const first = await upstream.next(0);
  await t.resolves(waitFor(() => results.length > 0), 'the hedge came due');
  t.same(results, ['budget']);
  t.equal(upstream.attempts.length, 1, 'no hedge was sent');
  first.answer(200);
  t.equal((await response).status, 200);
});

t.test('a 5xx while a hedge is out waits for it; a 5xx from every attempt is the answer', async (t) => {
  const upstream = fakeUpstream();
  const { layer } = hedged({ delayMs: 5 });
  const response = layer(upstream.send)(fakeExchange());
  const first = await upstream.next(0);
  const hedge = await upstream.next(1);
  first.answer(503);
  hedge.answer(200);
  t.equal((await response).status, 200, 'the hedge beats an earlier 5xx');

  const again = fakeUpstream();
  const second = layer(again.send)(fakeExchange());
  (await again.next(0)).answer(502);
  t.equal((await second).status, 502, 'a 5xx with nothing else out is final (the retry layer decides on it)');
});

t.test('the client leaving aborts every attempt and rejects with its reason', async (t) => {
  const upstream = fakeUpstream();
  const { layer } = hedged({ delayMs: 5 });
  const ex = fakeExchange();
  const response = layer(upstream.send)(ex);
  const first = await upstream.next(0);
  const hedge = await upstream.next(1);
  ex.scope.abort(new ProxyError('client-gone', 'gone'));
  const error = (await response.catch((err: unknown) => err)) as ProxyError;
  t.equal(error.kind, 'client-gone', 'the request rejects with its own reason');
  t.equal(first.aborted?.kind, 'client-gone');
  t.equal(hedge.aborted?.kind, 'client-gone');
});

t.test('a percentile delay waits for enough samples, then hedges at the recent latency', async (t) => {
  let now = 0;
  const latencies = new LatencyWindow(10_000, new Clock(() => now));
  t.equal(latencies.percentile(95), undefined, 'no samples, no percentile');
  for (let i = 0; i < MIN_SAMPLES - 1; i++) latencies.record(10);
  t.equal(latencies.percentile(95), undefined, `under ${MIN_SAMPLES} samples, no percentile`);
  now += 200; // past the cached value
  latencies.record(10);
  for (let i = 0; i < 80; i++) latencies.record(10);
  for (let i = 0; i < 20; i++) latencies.record(100);
  now += 200;
  const p95 = latencies.percentile(95)!;
  t.ok(p95 >= 100 && p95 <= 110, `p95 is the slow tail to within 10% (${p95} ms)`);
  const p50 = latencies.percentile(50)!;
  t.ok(p50 >= 10 && p50 <= 11, `p50 is the fast body (${p50} ms)`);
  now += 25_000; // two idle windows: what was seen is stale
  t.equal(latencies.percentile(95), undefined, 'an idle route forgets old latencies');
});

async function waitFor(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Resolves from the shared clock `ms` from now (its timer does not hold the process open: this one does meanwhile). */
function afterClock(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const keepAlive = setTimeout(() => undefined, ms + 1000);
    clock.at(clock.time() + ms, () => {
      clearTimeout(keepAlive);
      resolve();
    });
  });
}
