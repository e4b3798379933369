import { Readable } from 'node:stream';
import t from 'tap';
import type { RetryPolicy } from '../../../proxy/config/policy.js';
import { Clock, clock } from '../../../proxy/core/clock.js';
import type { Exchange, RetrySkipReason } from '../../../proxy/core/exchange.js';
import type { ErrorKind } from '../../../proxy/core/outcome.js';
import { clientGone, ProxyError } from '../../../proxy/core/proxy-error.js';
import { RequestScope } from '../../../proxy/core/request-scope.js';
import { retryLayer } from '../../../proxy/policies/retry.js';
import { RetryBudget } from '../../../proxy/policies/retry-budget.js';
import { fakeExchange, fakeUpstream, recordSleeps, settle, type Script } from '../../helpers/fake-send.js';

const POLICY: RetryPolicy = {
  attempts: 3,
  on: { statuses: new Set([502, 503]), grpcCodes: new Set(), connectFailure: true, reset: true, timeout: true },
  backoff: { baseMs: 10, maxMs: 1000, jitter: 'none' },
  budget: { ratio: 1, minPerSecond: 100, windowMs: 10_000 },
  maxReplayBodyBytes: 1024,
};

const failure = (kind: ErrorKind) => new ProxyError(kind, `scripted ${kind}`);

/** A retry layer over a scripted upstream, recording its events and the backoff waits it asked for. */
function harness(script: Script, options: { policy?: Partial<RetryPolicy>; budget?: RetryBudget; exchange?: Exchange & { scope: RequestScope } } = {}) {
  const policy = { ...POLICY, ...options.policy };
  const upstream = fakeUpstream(script);
  const retried: string[] = [];
  const skipped: RetrySkipReason[] = [];
  const budget = options.budget ?? new RetryBudget(policy.budget);
  const send = retryLayer(policy, budget, { retried: (r) => retried.push(r), skipped: (r) => skipped.push(r) })(upstream.send);
  const exchange = options.exchange ?? fakeExchange();
  const sleeps = recordSleeps(exchange.scope);
  return { upstream, retried, skipped, exchange, sleeps, run: () => settle(send(exchange)) };
}

t.test('a listed status is retried until an attempt succeeds; the retried responses are discarded, the last forwarded', async (t) => {
  const h = harness([503, 502, 200]);
  t.equal(await h.run(), 200);
  t.equal(h.upstream.calls, 3);
  t.same(h.retried, ['503', '502'], 'each retry names its cause');
  t.same(h.upstream.responses.map((r) => r.body.discarded), [1, 1, 0], 'the two failed answers freed, the forwarded one untouched');
  t.same(h.skipped, []);
  t.equal(h.exchange.trace.retrySkipped, undefined);
});

t.test('a status the route does not list is answered at once', async (t) => {
  for (const status of [500, 504, 429, 404]) {
    const h = harness([status, 200]);
    t.equal(await h.run(), status, `${status} forwarded`);
    t.equal(h.upstream.calls, 1, `${status}: one attempt`);
    t.equal(h.upstream.responses[0]!.body.discarded, 0);
  }
});

t.test('failures are retried by kind only when retry.on lists them', async (t) => {
  const cases: Array<[ErrorKind, keyof RetryPolicy['on']]> = [
    ['connect-failure', 'connectFailure'],
    ['reset', 'reset'],
    ['timeout', 'timeout'],
  ];
  for (const [kind, condition] of cases) {
    const listed = harness([failure(kind), 200]);
    t.equal(await listed.run(), 200, `${kind} retried when ${condition} is on`);
    t.same(listed.retried, [kind]);
    const unlisted = harness([failure(kind), 200], { policy: { on: { ...POLICY.on, [condition]: false } } });
    t.equal(await unlisted.run(), kind, `${kind} thrown when ${condition} is off`);
    t.equal(unlisted.upstream.calls, 1);
  }
});

t.test('failures retrying cannot help are never retried, whatever retry.on says', async (t) => {
  const never: ErrorKind[] = ['protocol-error', 'tls-error', 'deadline', 'client-gone', 'circuit-open', 'bulkhead-rejected', 'no-endpoint', 'local-resources'];
  for (const kind of never) {
    const h = harness([failure(kind), 200]);
    t.equal(await h.run(), kind, kind);
    t.equal(h.upstream.calls, 1, `${kind}: one attempt`);
    t.same(h.skipped, [], `${kind}: not a skipped retry either`);
  }
});

t.test('an error that is not a ProxyError is a bug: it propagates at once', async (t) => {
  const bug = new TypeError('a layer broke');
  const h = harness(() => {
    throw bug;
  });
  await t.rejects(h.run(), bug);
  t.equal(h.upstream.calls, 1);
});

t.test('after the last attempt the last answer stands: a response forwarded, an error thrown', async (t) => {
  const statuses = harness(503);
  t.equal(await statuses.run(), 503);
  t.equal(statuses.upstream.calls, POLICY.attempts);
  t.same(statuses.upstream.responses.map((r) => r.body.discarded), [1, 1, 0]);
  t.same(statuses.retried, ['503', '503']);
  t.same(statuses.skipped, [], 'running out of attempts is not a skip');

  const errors = harness(failure('reset'));
  t.equal(await errors.run(), 'reset');
  t.equal(errors.upstream.calls, POLICY.attempts);

  const once = harness(503, { policy: { attempts: 1 } });
  t.equal(await once.run(), 503);
  t.equal(once.upstream.calls, 1, 'attempts: 1 means no retry');
});

t.test('a request that is not idempotent is retried only after a connect failure, when nothing was sent', async (t) => {
  for (const kind of ['reset', 'timeout'] as const) {
    const h = harness([failure(kind), 200], { exchange: fakeExchange({ method: 'POST', idempotent: false }) });
    t.equal(await h.run(), kind, `${kind} of a POST thrown`);
    t.same(h.skipped, ['not-idempotent']);
    t.equal(h.exchange.trace.retrySkipped, 'not-idempotent');
  }
  const status = harness([503, 200], { exchange: fakeExchange({ method: 'POST', idempotent: false }) });
  t.equal(await status.run(), 503, 'a 503 to a POST is forwarded');
  t.same(status.skipped, ['not-idempotent']);
  t.equal(status.upstream.responses[0]!.body.discarded, 0, 'the forwarded response is not discarded');

  const connect = harness([failure('connect-failure'), 201], { exchange: fakeExchange({ method: 'POST', idempotent: false }) });
  t.equal(await connect.run(), 201, 'a connect failure of a POST is retried');
  t.same(connect.skipped, []);

  const keyed = harness([503, 201], { exchange: fakeExchange({ method: 'POST', idempotent: true }) });
  t.equal(await keyed.run(), 201, 'a POST with an Idempotency-Key (idempotent) is retried');
});

t.test('a streamed request body is never retried, not even after a connect failure', async (t) => {
  for (const answer of [503, failure('connect-failure')]) {
    const h = harness([answer, 200], { exchange: fakeExchange({ body: { kind: 'stream', stream: Readable.from([]), reason: 'too-large' } }) });
    t.equal(await h.run(), answer instanceof ProxyError ? 'connect-failure' : 503);
    t.equal(h.upstream.calls, 1);
    t.same(h.skipped, ['body-too-large']);
    t.equal(h.exchange.trace.retrySkipped, 'body-too-large');
  }
});

t.test('a spent budget stops retries; every request counts towards it, retries withdraw from it', async (t) => {
  let now = 0;
  const budgetClock = new Clock(() => now);
  const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 0, windowMs: 10_000 }, budgetClock);
  const first = harness([503, 503, 200], { budget });
  t.equal(await first.run(), 503, 'one request allows half a retry: none');
  t.same(first.skipped, ['budget']);
  t.equal(first.exchange.trace.retrySkipped, 'budget');
  t.same(first.retried, []);

  const second = harness([503, 200], { budget });
  t.equal(await second.run(), 200, 'two requests allow one retry');
  t.same(second.retried, ['503']);
  const third = harness([503, 200], { budget });
  t.equal(await third.run(), 503, 'three requests allow 1.5: the second retry is refused');
  t.same(third.skipped, ['budget']);
  now = 20_000;
  t.notOk(budget.tryWithdraw(), 'a fresh window has seen no request');
});

t.test('backoff waits before each retry, growing to its cap; none after the last attempt', async (t) => {
  const h = harness(503, { policy: { attempts: 5, backoff: { baseMs: 10, maxMs: 25, jitter: 'none' } } });
  t.equal(await h.run(), 503);
  t.same(h.sleeps, [10, 20, 25, 25]);
});

t.test('Retry-After on 429 and 503 is honoured when longer than the backoff; other statuses\' is ignored', async (t) => {
  const statuses = new Set([429, 500, 503]);
  const asked = harness([{ status: 429, headers: { 'retry-after': '2' } }, { status: 503, headers: { 'retry-after': '1' } }, 200], { policy: { on: { ...POLICY.on, statuses } } });
  t.equal(await asked.run(), 200);
  t.same(asked.sleeps, [2000, 1000]);
  const shorter = harness([{ status: 503, headers: { 'retry-after': '0' } }, 200]);
  t.equal(await shorter.run(), 200);
  t.same(shorter.sleeps, [10], 'never sooner than the backoff');
  const other = harness([{ status: 500, headers: { 'retry-after': '3' } }, 200], { policy: { on: { ...POLICY.on, statuses } } });
  t.equal(await other.run(), 200);
  t.same(other.sleeps, [10], 'a 500\'s Retry-After is not read');
});

t.test('a retry whose wait would pass the deadline is skipped, and the answer forwarded at once', async (t) => {
  const withDeadline = (ms: number) => {
    const scope = new RequestScope();
    scope.armDeadline(clock.time(), ms, 'the route deadline passed');
    t.teardown(() => scope.end());
    return fakeExchange({ scope });
  };
  const far = harness([{ status: 503, headers: { 'retry-after': '5' } }, 200], { exchange: withDeadline(4000) });
  t.equal(await far.run(), 503, 'Retry-After: 5 does not fit in 4 s');
  t.same(far.skipped, ['deadline']);
  t.equal(far.exchange.trace.retrySkipped, 'deadline');
  t.same(far.sleeps, [], 'no wait was started');

  const fits = harness([{ status: 503, headers: { 'retry-after': '1' } }, 200], { exchange: withDeadline(4000) });
  t.equal(await fits.run(), 200, 'Retry-After: 1 fits in 4 s');
  t.same(fits.sleeps, [1000]);

  const backoff = harness([failure('timeout'), 200], { exchange: withDeadline(4000), policy: { backoff: { baseMs: 5000, maxMs: 5000, jitter: 'none' } } });
  t.equal(await backoff.run(), 'timeout', 'a backoff past the deadline: the failure is thrown');
  t.same(backoff.skipped, ['deadline']);
});

t.test('a request stopped during an attempt or its backoff is not tried again', async (t) => {
  const stoppedInAttempt = harness((_attempt, exchange) => {
    (exchange.scope as RequestScope).abort(clientGone());
    return 503;
  });
  t.equal(await stoppedInAttempt.run(), 503, 'the answer in hand is returned to a caller that will drop it');
  t.equal(stoppedInAttempt.upstream.calls, 1);
  t.same(stoppedInAttempt.retried, []);
  t.same(stoppedInAttempt.skipped, [], 'not counted as a skipped retry');

  // A real backoff, long enough that only the abort can end it.
  const upstream = fakeUpstream(503);
  const exchange = fakeExchange();
  const send = retryLayer({ ...POLICY, backoff: { baseMs: 60_000, maxMs: 60_000, jitter: 'none' } }, new RetryBudget(POLICY.budget), {
    retried: () => queueMicrotask(() => exchange.scope.abort(clientGone())),
    skipped: () => t.fail('no skip expected'),
  })(upstream.send);
  t.equal(await settle(send(exchange)), 'client-gone', 'the backoff ends with the abort');
  t.equal(upstream.calls, 1, 'nothing more is sent');
  t.equal(upstream.responses[0]!.body.discarded, 1, 'the answer being retried was already freed');
});

t.test('each attempt goes through the next layer with the same exchange', async (t) => {
  const h = harness([failure('connect-failure'), 503, 200]);
  t.equal(await h.run(), 200);
  t.ok(h.upstream.sent.every((e) => e === h.exchange));
});

/** A trailers-only gRPC answer: HTTP 200 with the status in its head. */
const grpcAnswer = (code: number, headers: Record<string, string> = {}) => ({ status: 200, headers: { 'content-type': 'application/grpc', 'grpc-status': String(code), ...headers } });
const GRPC_CALL = () => fakeExchange({ method: 'POST', idempotent: false });
const GRPC_ON = { ...POLICY.on, grpcCodes: new Set([14, 8]) };

t.test('a gRPC status named in retry.on is retried for a gRPC call (a POST) by its name, within the budget', async (t) => {
  const h = harness([grpcAnswer(14), grpcAnswer(8), grpcAnswer(0)], { policy: { on: GRPC_ON }, exchange: GRPC_CALL() });
  t.equal(await h.run(), 200);
  t.equal(h.upstream.calls, 3);
  t.same(h.retried, ['unavailable', 'resource-exhausted'], 'the reason is the code name');
  t.same(h.upstream.responses.map((r) => r.body.discarded), [1, 1, 0]);
  t.same(h.skipped, []);

  const spent = harness([grpcAnswer(14), grpcAnswer(0)], {
    policy: { on: GRPC_ON },
    exchange: GRPC_CALL(),
    budget: new RetryBudget({ ratio: 0, minPerSecond: 0, windowMs: 10_000 }),
  });
  t.equal(await spent.run(), 200, 'forwarded as it came');
  t.equal(spent.upstream.responses[0]!.grpcStatus, 14);
  t.same(spent.skipped, ['budget'], 'the budget still bounds them');

  const streamed = harness([grpcAnswer(14), grpcAnswer(0)], {
    policy: { on: GRPC_ON },
    exchange: fakeExchange({ method: 'POST', idempotent: false, body: { kind: 'stream', stream: Readable.from([]), reason: 'too-large' } }),
  });
  await streamed.run();
  t.same(streamed.skipped, ['body-too-large'], 'a request stream that was not kept cannot be sent again');
});

t.test('a gRPC status retry.on does not name is forwarded; statuses see its HTTP equivalent, under the HTTP idempotency rule', async (t) => {
  const unnamed = harness([grpcAnswer(13), grpcAnswer(0)], { policy: { on: GRPC_ON }, exchange: GRPC_CALL() });
  t.equal(await unnamed.run(), 200);
  t.equal(unnamed.upstream.calls, 1, 'internal (500) is neither named nor a listed status');
  t.same(unnamed.skipped, []);

  const byStatus = harness([grpcAnswer(14), grpcAnswer(0)], { exchange: GRPC_CALL() });
  t.equal(await byStatus.run(), 200);
  t.equal(byStatus.upstream.calls, 1, 'unavailable counts as 503, which retry.on lists: but a POST is not sent twice for an HTTP status');
  t.same(byStatus.skipped, ['not-idempotent']);

  const idempotent = harness([grpcAnswer(14), grpcAnswer(0)], { exchange: fakeExchange({ method: 'POST', idempotent: true }) });
  t.equal(await idempotent.run(), 200);
  t.same(idempotent.retried, ['503'], 'with an Idempotency-Key it is retried as a 503');

  const ok = harness([grpcAnswer(0), 503], { policy: { on: GRPC_ON }, exchange: GRPC_CALL() });
  t.equal(await ok.run(), 200);
  t.equal(ok.upstream.calls, 1, 'OK is the answer');
});

t.test("a gRPC call failing before any answer is judged by the status its caller would be told: a named one is the route's opt-in", async (t) => {
  const grpcCall = () => fakeExchange({ method: 'POST', idempotent: false, grpc: true });
  const reset = harness([failure('reset'), grpcAnswer(0)], { policy: { on: { ...GRPC_ON, reset: false } }, exchange: grpcCall() });
  t.equal(await reset.run(), 200);
  t.same(reset.retried, ['unavailable'], 'a reset is UNAVAILABLE to its caller, which retry.on names: retried although a POST, and without `reset` listed');

  const timeout = harness([failure('timeout'), grpcAnswer(0)], { policy: { on: GRPC_ON }, exchange: grpcCall() });
  t.equal(await timeout.run(), 'timeout');
  t.same(timeout.skipped, ['not-idempotent'], 'a per-try timeout is DEADLINE_EXCEEDED, which retry.on does not name: the POST is not sent twice');

  const unnamed = harness([failure('reset'), grpcAnswer(0)], { exchange: grpcCall() });
  t.equal(await unnamed.run(), 'reset');
  t.same(unnamed.skipped, ['not-idempotent'], 'no gRPC code named: the HTTP idempotency rule');

  const never = harness([failure('tls-error'), grpcAnswer(0)], { policy: { on: GRPC_ON }, exchange: grpcCall() });
  t.equal(await never.run(), 'tls-error');
  t.equal(never.upstream.calls, 1, 'a failure the outcome table never retries stays unretried, whatever its status');

  const http = harness([failure('reset'), 200], { policy: { on: GRPC_ON }, exchange: fakeExchange({ method: 'POST', idempotent: false }) });
  t.equal(await http.run(), 'reset');
  t.same(http.skipped, ['not-idempotent'], 'an HTTP POST is not a gRPC call');
});

t.test("gRPC's grpc-retry-pushback-ms is honoured like Retry-After, a negative one as no retry; a gRPC answer's Retry-After is not read", async (t) => {
  const asked = harness([grpcAnswer(14, { 'grpc-retry-pushback-ms': '700' }), grpcAnswer(0)], { policy: { on: GRPC_ON }, exchange: GRPC_CALL() });
  t.equal(await asked.run(), 200);
  t.same(asked.sleeps, [700]);
  const shorter = harness([grpcAnswer(14, { 'grpc-retry-pushback-ms': '1' }), grpcAnswer(0)], { policy: { on: GRPC_ON }, exchange: GRPC_CALL() });
  await shorter.run();
  t.same(shorter.sleeps, [10], 'never sooner than the backoff');
  for (const value of ['-1', 'soon', '']) {
    const refused = harness([grpcAnswer(14, { 'grpc-retry-pushback-ms': value }), grpcAnswer(0)], { policy: { on: GRPC_ON }, exchange: GRPC_CALL() });
    t.equal(await refused.run(), 200, 'the answer forwarded');
    t.equal(refused.upstream.responses[0]!.grpcStatus, 14);
    t.equal(refused.upstream.calls, 1, `pushback ${JSON.stringify(value)}: the server asked for no retry`);
    t.same(refused.skipped, []);
  }
  const retryAfter = harness([grpcAnswer(14, { 'retry-after': '3' }), grpcAnswer(0)], { policy: { on: GRPC_ON }, exchange: GRPC_CALL() });
  await retryAfter.run();
  t.same(retryAfter.sleeps, [10]);
});
