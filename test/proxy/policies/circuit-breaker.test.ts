import t, { type Test } from 'tap';
import type { BreakerPolicy, FallbackPolicy } from '../../../proxy/config/policy.js';
import { circuitBreakerLayer, RouteBreaker, type BreakerState } from '../../../proxy/policies/circuit-breaker.js';
import type { Exchange, Send, UpstreamResponse } from '../../../proxy/core/exchange.js';
import { ProxyError } from '../../../proxy/core/proxy-error.js';
import { RequestScope } from '../../../proxy/core/request-scope.js';

const POLICY: BreakerPolicy = {
  errorThresholdPercentage: 50,
  volumeThreshold: 4,
  windowMs: 10_000,
  resetTimeoutMs: 100,
  halfOpenRequests: 1,
  failOn: ['5xx', 'timeout', 'connect-failure'],
};

function exchange(): Exchange {
  return {
    method: 'GET', path: '/', headers: {}, body: { kind: 'none' }, idempotent: true, scope: new RequestScope(),
    trace: { attempts: 0, endpoints: [] },
  };
}

/** An upstream whose next answers the test sets; counts calls. */
function upstream() {
  const state = { calls: 0, status: 200, error: undefined as ProxyError | undefined, delayMs: 0 };
  const send: Send = async () => {
    state.calls++;
    if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
    if (state.error) throw state.error;
    return { status: state.status, headers: {}, body: Buffer.alloc(0) } satisfies UpstreamResponse;
  };
  return { state, send };
}

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

async function settle(p: Promise<UpstreamResponse>): Promise<number | string> {
  try {
    return (await p).status;
  } catch (err) {
    return (err as ProxyError).kind;
  }
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
  const up = upstream();
  up.state.status = 503;
  for (let i = 0; i < 3; i++) t.equal(await settle(b.call(exchange(), up.send)), 503, 'failures are forwarded');
  t.equal(b.state, 'closed', 'below volumeThreshold');
  await b.call(exchange(), up.send);
  t.equal(b.state, 'open');
  t.same(transitions, ['closed->open']);

  const calls = up.state.calls;
  try {
    await b.call(exchange(), up.send);
    t.fail('an open breaker must not call upstream');
  } catch (err) {
    t.equal((err as ProxyError).kind, 'circuit-open');
    t.equal((err as ProxyError).headers['x-breakwater-circuit'], 'open');
    t.equal((err as ProxyError).headers['retry-after'], '1', 'Retry-After rounds up to whole seconds');
  }
  t.equal(up.state.calls, calls);
  t.equal(shortCircuited(), 1);
  t.ok(b.msUntilProbe() > 0 && b.msUntilProbe() <= 100);
});

t.test('4xx and local rejections are not failures unless listed', async (t) => {
  const { b } = breaker(t);
  const up = upstream();
  up.state.status = 404;
  for (let i = 0; i < 10; i++) await b.call(exchange(), up.send);
  up.state.error = new ProxyError('bulkhead-rejected', 'full');
  for (let i = 0; i < 10; i++) await settle(b.call(exchange(), up.send));
  t.equal(b.state, 'closed');

  const listed = breaker(t, { failOn: ['4xx'] });
  const up4 = upstream();
  up4.state.status = 429;
  for (let i = 0; i < 4; i++) await listed.b.call(exchange(), up4.send);
  t.equal(listed.b.state, 'open', 'failOn: [4xx] counts them');
});

t.test('consecutiveFailures opens before the volume threshold', async (t) => {
  const { b } = breaker(t, { volumeThreshold: 1000, consecutiveFailures: 3 });
  const up = upstream();
  up.state.error = new ProxyError('connect-failure', 'refused');
  for (let i = 0; i < 2; i++) await settle(b.call(exchange(), up.send));
  t.equal(b.state, 'closed');
  await settle(b.call(exchange(), up.send));
  t.equal(b.state, 'open');
});

t.test('half-open lets halfOpenRequests probes through; success closes, failure reopens', async (t) => {
  const { b, transitions } = breaker(t, { volumeThreshold: 1, halfOpenRequests: 2 });
  const up = upstream();
  up.state.status = 500;
  await b.call(exchange(), up.send);
  t.equal(b.state, 'open');
  await until('half-open', () => b.state === 'half_open');

  await b.call(exchange(), up.send);
  t.equal(b.state, 'open', 'a failed probe reopens');
  await until('half-open again', () => b.state === 'half_open');

  up.state.status = 200;
  up.state.delayMs = 30;
  const calls = up.state.calls;
  const results = await Promise.all([1, 2, 3].map(() => settle(b.call(exchange(), up.send))));
  t.same(results.sort(), [200, 200, 'circuit-open'], 'two probes pass, the third is short-circuited');
  t.equal(up.state.calls, calls + 2);
  t.equal(b.state, 'closed');
  t.same(transitions, ['closed->open', 'open->half_open', 'half_open->open', 'open->half_open', 'half_open->closed']);
  t.equal(b.snapshot().window.failures, 0, 'the closed period starts with an empty window');
});

t.test('a half-open breaker shut down by a reload sends no probe and changes state no more', async (t) => {
  const { b, transitions } = breaker(t, { volumeThreshold: 1 });
  const up = upstream();
  up.state.status = 500;
  await b.call(exchange(), up.send);
  await until('half-open', () => b.state === 'half_open');
  b.shutdown();
  up.state.status = 200;
  const calls = up.state.calls;
  await t.rejects(b.call(exchange(), up.send), { code: 'ESHUTDOWN' });
  t.equal(up.state.calls, calls, 'no probe reached the upstream');
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
  const up = upstream();
  t.equal(await settle(b.call(exchange(), up.send)), 200);
  up.state.status = 503;
  t.equal(await settle(b.call(exchange(), up.send)), 503);
  t.same(b.snapshot().window, { calls: 2, failures: 1, successes: 1, shortCircuited: 0 });
});

t.test('a call after shutdown is refused without reaching the upstream, whether or not the breaker was used', async (t) => {
  for (const used of [false, true]) {
    const { b } = breaker(t);
    const up = upstream();
    if (used) await b.call(exchange(), up.send);
    const calls = up.state.calls;
    b.shutdown();
    await t.rejects(b.call(exchange(), up.send), { code: 'ESHUTDOWN' }, `used before shutdown: ${used}`);
    t.equal(up.state.calls, calls, 'the upstream was not called');
  }
});

t.test('the layer answers an open circuit with the fallback', async (t) => {
  const { b } = breaker(t, { volumeThreshold: 1 });
  const up = upstream();
  up.state.status = 500;
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
  const up = upstream();
  const fail = async (n: number) => {
    up.state.status = 503;
    up.state.error = undefined;
    for (let i = 0; i < n; i++) t.equal(await settle(b.call(exchange(), up.send)), 503);
  };
  await fail(4);
  up.state.error = new ProxyError('client-gone', 'the client closed the connection');
  t.equal(await settle(b.call(exchange(), up.send)), 'client-gone');
  t.equal(b.snapshot().consecutiveFailures, 4, 'the streak survives the abort');
  t.equal(b.snapshot().window.calls, 4, 'the abort is not in the window');
  await fail(1);
  t.equal(b.state, 'open', 'five failures in a row, with an abort in the middle, open the breaker');
});

t.test('a deadline counts only when timeout is in failOn, and is never a success', async (t) => {
  const { b } = breaker(t, { failOn: ['5xx'], consecutiveFailures: 2, volumeThreshold: 1000 });
  const up = upstream();
  up.state.status = 503;
  t.equal(await settle(b.call(exchange(), up.send)), 503);
  up.state.error = new ProxyError('deadline', 'the route deadline passed');
  t.equal(await settle(b.call(exchange(), up.send)), 'deadline');
  t.equal(b.snapshot().consecutiveFailures, 1, 'neutral: the streak is kept, not reset');
  up.state.error = undefined;
  t.equal(await settle(b.call(exchange(), up.send)), 503);
  t.equal(b.state, 'open');
});
