import t, { type Test } from 'tap';
import { failureConditions } from '../../../proxy/config/conditions.js';
import type { BreakerPolicy, FallbackPolicy } from '../../../proxy/config/policy.js';
import { circuitBreakerLayer, RouteBreaker, type BreakerState } from '../../../proxy/policies/circuit-breaker.js';
import { ProxyError } from '../../../proxy/core/proxy-error.js';
import { fakeExchange, fakeUpstream, settle } from '../../helpers/fake-send.js';

const POLICY: BreakerPolicy = {
  errorThresholdPercentage: 50,
  volumeThreshold: 4,
  windowMs: 10_000,
  resetTimeoutMs: 100,
  halfOpenRequests: 1,
  failOn: failureConditions(['5xx', 'timeout', 'connect-failure']),
};

const exchange = () => fakeExchange();

function breaker(t: Test, policy: Partial<BreakerPolicy> = {}) {
  const transitions: string[] = [];
  let shortCircuited = 0;
  const b = new RouteBreaker('r', { ...POLICY, ...policy }, {
    transition: (from: BreakerState, to: BreakerState) => transitions.push(`${from}->${to}`),
    shortCircuited: () => shortCircuited++,
  });
  t.teardown(() => b.shutdown());
  return { b, transitions, shortCircuited: () => shortCircuited };
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

t.test('opens when failures exceed the threshold over the volume; then short-circuits', async (t) => {
  const { b, transitions, shortCircuited } = breaker(t);
  const up = fakeUpstream();
  up.script = 503;
  for (let i = 0; i < 3; i++) t.equal(await settle(b.call(exchange(), up.send)), 503, 'failures are forwarded');
  t.equal(b.state, 'closed', 'below volumeThreshold');
  await b.call(exchange(), up.send);
  t.equal(b.state, 'open');
  t.same(transitions, ['closed->open']);

  const calls = up.calls;
  try {
    await b.call(exchange(), up.send);
    t.fail('an open breaker must not call upstream');
  } catch (err) {
    t.equal((err as ProxyError).kind, 'circuit-open');
    t.equal((err as ProxyError).headers['x-breakwater-circuit'], 'open');
    t.equal((err as ProxyError).headers['retry-after'], '1', 'Retry-After rounds up to whole seconds');
  }
  t.equal(up.calls, calls);
  t.equal(shortCircuited(), 1);
  t.ok(b.msUntilProbe() > 0 && b.msUntilProbe() <= 100);
});

t.test('4xx and local rejections are not failures unless listed', async (t) => {
  const { b } = breaker(t);
  const up = fakeUpstream();
  up.script = 404;
  for (let i = 0; i < 10; i++) await b.call(exchange(), up.send);
  up.script = new ProxyError('bulkhead-rejected', 'full');
  for (let i = 0; i < 10; i++) await settle(b.call(exchange(), up.send));
  t.equal(b.state, 'closed');

  const listed = breaker(t, { failOn: failureConditions(['4xx']) });
  const up4 = fakeUpstream();
  up4.script = 429;
  for (let i = 0; i < 4; i++) await listed.b.call(exchange(), up4.send);
  t.equal(listed.b.state, 'open', 'failOn: [4xx] counts them');
});

t.test('consecutiveFailures opens before the volume threshold', async (t) => {
  const { b } = breaker(t, { volumeThreshold: 1000, consecutiveFailures: 3 });
  const up = fakeUpstream();
  up.script = new ProxyError('connect-failure', 'refused');
  for (let i = 0; i < 2; i++) await settle(b.call(exchange(), up.send));
  t.equal(b.state, 'closed');
  await settle(b.call(exchange(), up.send));
  t.equal(b.state, 'open');
});

t.test('half-open lets halfOpenRequests probes through; success closes, failure reopens', async (t) => {
  const { b, transitions } = breaker(t, { volumeThreshold: 1, halfOpenRequests: 2 });
  const up = fakeUpstream();
  up.script = 500;
  await b.call(exchange(), up.send);
  t.equal(b.state, 'open');
  await until('half-open', () => b.state === 'half_open');

  await b.call(exchange(), up.send);
  t.equal(b.state, 'open', 'a failed probe reopens');
  await until('half-open again', () => b.state === 'half_open');

  // The probes stay in flight until all three calls are made.
  let answer!: () => void;
  const answered = new Promise<void>((resolve) => (answer = resolve));
  up.script = async () => (await answered, 200);
  const calls = up.calls;
  const pending = [1, 2, 3].map(() => settle(b.call(exchange(), up.send)));
  answer();
  const results = await Promise.all(pending);
  t.same(results.sort(), [200, 200, 'circuit-open'], 'two probes pass, the third is short-circuited');
  t.equal(up.calls, calls + 2);
  t.equal(b.state, 'closed');
  t.same(transitions, ['closed->open', 'open->half_open', 'half_open->open', 'open->half_open', 'half_open->closed']);
  t.equal(b.snapshot().window.failures, 0, 'the closed period starts with an empty window');
});

t.test('a half-open breaker shut down by a reload sends no probe and changes state no more', async (t) => {
  const { b, transitions } = breaker(t, { volumeThreshold: 1 });
  const up = fakeUpstream();
  up.script = 500;
  await b.call(exchange(), up.send);
  await until('half-open', () => b.state === 'half_open');
  b.shutdown();
  up.script = 200;
  const calls = up.calls;
  await t.rejects(b.call(exchange(), up.send), { code: 'ESHUTDOWN' });
  t.equal(up.calls, calls, 'no probe reached the upstream');
  t.same(transitions, ['closed->open', 'open->half_open'], 'no transition after shutdown (its gauge stays forgotten)');
});

t.test('a breaker never called reports a closed, empty window; its window counts from the first call', async (t) => {
  const { b } = breaker(t);
  t.same(b.snapshot(), {
    route: 'r', state: 'closed', msUntilProbe: 0, consecutiveFailures: 0,
    window: { calls: 0, failures: 0, successes: 0, shortCircuited: 0 },
  });
  // The saving for a policy's unused routes: reading a breaker (GET /breakers) must not build its window.
  t.equal(Reflect.get(b, 'circuit'), undefined, 'snapshot() left the rolling window unbuilt');
  const up = fakeUpstream();
  t.equal(await settle(b.call(exchange(), up.send)), 200);
  up.script = 503;
  t.equal(await settle(b.call(exchange(), up.send)), 503);
  t.same(b.snapshot().window, { calls: 2, failures: 1, successes: 1, shortCircuited: 0 });
});

t.test('a call after shutdown is refused without reaching the upstream, whether or not the breaker was used', async (t) => {
  for (const used of [false, true]) {
    const { b } = breaker(t);
    const up = fakeUpstream();
    if (used) await b.call(exchange(), up.send);
    const calls = up.calls;
    b.shutdown();
    await t.rejects(b.call(exchange(), up.send), { code: 'ESHUTDOWN' }, `used before shutdown: ${used}`);
    t.equal(up.calls, calls, 'the upstream was not called');
  }
});

t.test('the layer answers an open circuit with the fallback', async (t) => {
  const { b } = breaker(t, { volumeThreshold: 1 });
  const up = fakeUpstream();
  up.script = 500;
  const fallback: FallbackPolicy = { status: 503, headers: { 'x-fallback': '1' }, body: Buffer.from('{"fallback":true}') };
  const send = circuitBreakerLayer(b, fallback)(up.send);
  t.equal((await send(exchange())).status, 500);
  const ex = exchange();
  const res = await send(ex);
  t.equal(res.status, 503);
  t.equal(res.headers['x-fallback'], '1');
  t.equal(res.headers['x-breakwater-circuit'], 'open');
  t.equal(String(res.body), '{"fallback":true}');
  t.equal(ex.trace.local, 'circuit-open');
});

t.test('a client leaving is neutral: it neither breaks the failure streak nor dilutes the error percentage', async (t) => {
  const { b } = breaker(t, { consecutiveFailures: 5, volumeThreshold: 1000 });
  const up = fakeUpstream();
  const fail = async (n: number) => {
    up.script = 503;
    for (let i = 0; i < n; i++) t.equal(await settle(b.call(exchange(), up.send)), 503);
  };
  await fail(4);
  up.script = new ProxyError('client-gone', 'the client closed the connection');
  t.equal(await settle(b.call(exchange(), up.send)), 'client-gone');
  t.equal(b.snapshot().consecutiveFailures, 4, 'the streak survives the abort');
  t.equal(b.snapshot().window.calls, 4, 'the abort is not in the window');
  await fail(1);
  t.equal(b.state, 'open', 'five failures in a row, with an abort in the middle, open the breaker');
});

t.test('a deadline counts only when timeout is in failOn, and is never a success', async (t) => {
  const { b } = breaker(t, { failOn: failureConditions(['5xx']), consecutiveFailures: 2, volumeThreshold: 1000 });
  const up = fakeUpstream();
  up.script = 503;
  t.equal(await settle(b.call(exchange(), up.send)), 503);
  up.script = new ProxyError('deadline', 'the route deadline passed');
  t.equal(await settle(b.call(exchange(), up.send)), 'deadline');
  t.equal(b.snapshot().consecutiveFailures, 1, 'neutral: the streak is kept, not reset');
  up.script = 503;
  t.equal(await settle(b.call(exchange(), up.send)), 503);
  t.equal(b.state, 'open');
});

t.test('the error percentage must exceed the threshold, over at least volumeThreshold calls', async (t) => {
  const { b } = breaker(t, { errorThresholdPercentage: 50, volumeThreshold: 4 });
  const up = fakeUpstream([200, 200, 503, 503, 503]);
  for (let i = 0; i < 4; i++) await b.call(exchange(), up.send);
  t.equal(b.state, 'closed', '2 failures of 4 is 50%: not above the threshold');
  await b.call(exchange(), up.send);
  t.equal(b.state, 'open', '3 of 5 is 60%');
});

t.test('a success ends the run of consecutive failures', async (t) => {
  const { b } = breaker(t, { volumeThreshold: 1000, consecutiveFailures: 3 });
  const up = fakeUpstream([503, 503, 200, 503, 503]);
  for (let i = 0; i < 5; i++) await b.call(exchange(), up.send);
  t.equal(b.state, 'closed');
  t.equal(b.snapshot().consecutiveFailures, 2);
  await b.call(exchange(), up.send);
  t.equal(b.state, 'open', 'the third failure in a row');
});

t.test('an open breaker\'s Retry-After is the whole seconds until it lets a probe through', async (t) => {
  const { b } = breaker(t, { volumeThreshold: 1, resetTimeoutMs: 4500 });
  const up = fakeUpstream(500);
  await b.call(exchange(), up.send);
  t.equal(b.state, 'open');
  t.ok(b.msUntilProbe() > 4000 && b.msUntilProbe() <= 4500);
  t.equal(b.snapshot().msUntilProbe, Math.round(b.msUntilProbe()));
  const err = await b.call(exchange(), up.send).then(
    () => undefined,
    (e: unknown) => e as ProxyError,
  );
  t.equal(err?.kind, 'circuit-open');
  t.equal(err?.status, 503);
  t.equal(err?.headers['retry-after'], '5');
  t.equal(up.calls, 1);
});

t.test('half-open: a probe failing with an error reopens; a neutral one decides nothing, the next probe does', async (t) => {
  const { b, transitions } = breaker(t, { volumeThreshold: 1 });
  const up = fakeUpstream(500);
  await b.call(exchange(), up.send);
  await until('half-open', () => b.state === 'half_open');
  up.script = new ProxyError('client-gone', 'the client closed the connection');
  t.equal(await settle(b.call(exchange(), up.send)), 'client-gone');
  t.equal(b.state, 'half_open', 'a client leaving says nothing about the upstream');
  up.script = new ProxyError('connect-failure', 'refused');
  t.equal(await settle(b.call(exchange(), up.send)), 'connect-failure');
  t.equal(b.state, 'open', 'the probe\'s permit was returned, and the next probe reopened the breaker');
  await until('half-open again', () => b.state === 'half_open');
  up.script = 204;
  t.equal(await settle(b.call(exchange(), up.send)), 204);
  t.same(transitions, ['closed->open', 'open->half_open', 'half_open->open', 'open->half_open', 'half_open->closed']);
});

t.test('the layer: without a fallback an open circuit is a 503 error; with one, other errors pass through as they are', async (t) => {
  const { b } = breaker(t, { volumeThreshold: 1 });
  const up = fakeUpstream(500);
  const bare = circuitBreakerLayer(b, undefined)(up.send);
  t.equal(await settle(bare(exchange())), 500);
  const ex = exchange();
  t.equal(await settle(bare(ex)), 'circuit-open');
  t.equal(ex.trace.local, undefined, 'the listener answers it, not the layer');

  const other = breaker(t);
  const refused = new ProxyError('connect-failure', 'refused');
  const withFallback = circuitBreakerLayer(other.b, { status: 200, headers: {}, body: Buffer.from('cached') })(fakeUpstream(refused).send);
  await t.rejects(withFallback(exchange()), refused, 'a real failure is not hidden behind the fallback');
});

/** A trailers-only gRPC answer: HTTP 200 with the status in its head. */
const grpcAnswer = (code: number) => ({ status: 200, headers: { 'content-type': 'application/grpc', 'grpc-status': String(code) } });

t.test('gRPC answers count by the status failOn names, or by their HTTP equivalent (unavailable under 5xx)', async (t) => {
  const named = breaker(t, { failOn: failureConditions(['resource-exhausted']), volumeThreshold: 1000, consecutiveFailures: 3 });
  const up = fakeUpstream(grpcAnswer(8));
  for (let i = 0; i < 3; i++) t.equal(await settle(named.b.call(exchange(), up.send)), 200, 'forwarded as it came');
  t.equal(named.b.state, 'open', 'resource-exhausted named: three in a row open it');

  const byClass = breaker(t, { volumeThreshold: 1000, consecutiveFailures: 3 });
  const unavailable = fakeUpstream(grpcAnswer(14));
  for (let i = 0; i < 3; i++) await settle(byClass.b.call(exchange(), unavailable.send));
  t.equal(byClass.b.state, 'open', 'the default failOn [5xx]: unavailable counts as 503');

  const clientErrors = breaker(t, { volumeThreshold: 1000, consecutiveFailures: 3 });
  const notFound = fakeUpstream([grpcAnswer(5), grpcAnswer(3), grpcAnswer(0), grpcAnswer(8)]);
  for (let i = 0; i < 6; i++) await settle(clientErrors.b.call(exchange(), notFound.send));
  t.equal(clientErrors.b.state, 'closed', 'not-found, invalid-argument, ok and resource-exhausted (429) are no 5xx');
  t.equal(clientErrors.b.snapshot().window.failures, 0);
});

t.test('a half-open probe answered with a gRPC status failOn counts reopens the breaker', async (t) => {
  const { b } = breaker(t, { failOn: failureConditions(['unavailable']), volumeThreshold: 1 });
  const up = fakeUpstream(grpcAnswer(14));
  await b.call(exchange(), up.send);
  t.equal(b.state, 'open');
  await until('half-open', () => b.state === 'half_open');
  await b.call(exchange(), up.send);
  t.equal(b.state, 'open', 'the probe failed');
  await until('half-open again', () => b.state === 'half_open');
  up.script = grpcAnswer(0);
  await b.call(exchange(), up.send);
  t.equal(b.state, 'closed', 'an OK probe closes it');
});

t.test('a gRPC call failing before any answer counts by the status its caller is told, where failOn names it', async (t) => {
  const grpcCall = () => fakeExchange({ method: 'POST', idempotent: false, grpc: true });
  const reset = fakeUpstream(new ProxyError('reset', 'scripted reset'));
  const named = breaker(t, { failOn: failureConditions(['unavailable']), volumeThreshold: 1000, consecutiveFailures: 3 });
  for (let i = 0; i < 3; i++) t.equal(await settle(named.b.call(grpcCall(), reset.send)), 'reset', 'the failure passes through');
  t.equal(named.b.state, 'open', 'a reset is UNAVAILABLE to a gRPC caller, which failOn names: three in a row open it');

  const http = breaker(t, { failOn: failureConditions(['unavailable']), volumeThreshold: 1000, consecutiveFailures: 3 });
  for (let i = 0; i < 3; i++) await settle(http.b.call(exchange(), reset.send));
  t.equal(http.b.state, 'closed', 'an HTTP request has no gRPC status to be judged by');

  const neutral = breaker(t, { failOn: failureConditions(['cancelled']), volumeThreshold: 1000, consecutiveFailures: 1 });
  await settle(neutral.b.call(grpcCall(), fakeUpstream(new ProxyError('client-gone', 'scripted')).send));
  t.equal(neutral.b.state, 'closed', 'a client leaving stays neutral, though its caller would be told CANCELLED');
  t.equal(neutral.b.snapshot().window.failures, 0);
});
