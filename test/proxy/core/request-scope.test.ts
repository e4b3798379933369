import t from 'tap';
import { clock } from '../../../proxy/core/clock.js';
import { clientGone, ProxyError } from '../../../proxy/core/proxy-error.js';
import { RequestScope, type AbortListener } from '../../../proxy/core/request-scope.js';
import { within } from '../../helpers/wait-for.js';

/** Resolves with the reason the scope is stopped for; `within` keeps the loop alive (the clock's interval is unref'd). */
function aborted(scope: RequestScope, ms = 2000): Promise<ProxyError> {
  return within(new Promise<ProxyError>((resolve) => scope.onAbort({ abort: resolve })), ms, 'abort of the request');
}

/** Resolves once the shared clock has passed `at`: a timer due before it has had its turn by then. */
function clockPassed(at: number): Promise<void> {
  return within(new Promise<void>((resolve) => clock.at(at, resolve)), 2000, 'the shared clock to pass a later time');
}

t.test('the deadline aborts the request with a deadline error, once, when it passes and not before', async (t) => {
  const scope = new RequestScope();
  t.teardown(() => scope.end());
  const start = clock.time();
  scope.armDeadline(start, 30, 'the route deadline (30ms) passed');
  t.equal(scope.deadline, start + 30);
  const told: ProxyError[] = [];
  scope.onAbort({ abort: (reason) => told.push(reason) });
  const reason = await aborted(scope);
  t.ok(clock.time() >= start + 30, 'not early');
  t.equal(reason.kind, 'deadline');
  t.equal(reason.status, 504);
  t.equal(reason.message, 'the route deadline (30ms) passed');
  t.equal(scope.reason, reason);
  t.throws(() => scope.throwIfAborted(), reason);
  scope.abort(clientGone());
  t.equal(scope.reason, reason, 'the first reason stands');
  t.equal(told.length, 1, 'each listener is told once');
});

t.test('the deadline counts from the time given, such as the arrival of the request head', async (t) => {
  const scope = new RequestScope();
  t.teardown(() => scope.end());
  scope.armDeadline(clock.time() - 1000, 500, 'already late');
  t.equal((await aborted(scope)).kind, 'deadline', 'a deadline already past aborts on the next tick');
});

t.test('ending the request cancels its deadline', async (t) => {
  const scope = new RequestScope();
  const start = clock.time();
  scope.armDeadline(start, 10, 'late');
  scope.end();
  await clockPassed(start + 40);
  t.equal(scope.reason, undefined, 'no abort after the end');
});

t.test('a listener added after the abort is told at once; one removed is not told', async (t) => {
  const scope = new RequestScope();
  const removed: AbortListener = { abort: () => t.fail('a removed listener was told') };
  scope.onAbort(removed);
  scope.offAbort(removed);
  scope.offAbort(removed); // removing twice is harmless
  scope.abort(clientGone());
  let late: ProxyError | undefined;
  scope.onAbort({ abort: (reason) => (late = reason) });
  t.equal(late?.kind, 'client-gone');
});

t.test('what the request holds is released exactly once, when it ends, however often end() is called', async (t) => {
  const scope = new RequestScope();
  const released: string[] = [];
  for (const name of ['slot', 'permit', 'buffer']) scope.hold(() => released.push(name));
  scope.abort(clientGone());
  t.same(released, [], 'an abort stops waiters; the release is the end\'s');
  scope.end();
  scope.end();
  t.same(released, ['slot', 'permit', 'buffer']);
  t.ok(scope.isEnded);
});

t.test('something taken after the request ended is released at once, and the taker told to stop', async (t) => {
  const gone = new RequestScope();
  const reason = clientGone();
  gone.abort(reason);
  gone.end();
  let released = 0;
  t.throws(() => gone.hold(() => released++), reason, 'told the reason the request was stopped');
  t.equal(released, 1);

  const endedQuietly = new RequestScope();
  endedQuietly.end();
  t.throws(() => endedQuietly.hold(() => released++), new ProxyError('client-gone', 'the request ended while it waited'));
  t.equal(released, 2);
});

t.test('sleep waits, or ends with the reason as soon as the request is stopped', async (t) => {
  const scope = new RequestScope();
  const started = performance.now();
  await within(scope.sleep(20), 2000, 'a 20 ms sleep');
  t.ok(performance.now() - started >= 19, 'waited');

  const stopping = scope.sleep(60_000);
  const reason = clientGone();
  scope.abort(reason);
  await t.rejects(within(stopping, 2000, 'the sleep to end with the abort'), reason);
  await t.rejects(scope.sleep(1), reason, 'a stopped request sleeps no more');
});

t.test('a deadline passing during a sleep ends it with the deadline error', async (t) => {
  const scope = new RequestScope();
  t.teardown(() => scope.end());
  scope.armDeadline(clock.time(), 20, 'deadline during backoff');
  await t.rejects(within(scope.sleep(60_000), 2000, 'the deadline to end the sleep'), new ProxyError('deadline', 'deadline during backoff'));
});
