import t from 'tap';
import { Bulkhead, type BulkheadEvents } from '../../../proxy/policies/bulkhead.js';
import { clientGone, ProxyError } from '../../../proxy/core/proxy-error.js';
import { RequestScope } from '../../../proxy/core/request-scope.js';

const scope = () => new RequestScope();

function recorder() {
  const rejected: string[] = [];
  const events: BulkheadEvents = { rejected: (r) => rejected.push(r) };
  return { events, rejected };
}

async function rejection(promise: Promise<void> | undefined): Promise<ProxyError> {
  if (!promise) throw new Error('expected the request to wait or be rejected, but it got a slot at once');
  try {
    await promise;
  } catch (err) {
    if (err instanceof ProxyError) return err;
    throw err;
  }
  throw new Error('expected a rejection, but a slot was granted');
}

t.test('grants slots at once up to maxConcurrent, and counts them', async (t) => {
  const { events } = recorder();
  const b = new Bulkhead({ maxConcurrent: 2, maxPending: 0, queueTimeoutMs: 0 }, events, 'test');
  t.equal(b.acquire(scope()), undefined);
  t.equal(b.acquire(scope()), undefined);
  t.equal(b.active, 2);
  b.release();
  t.equal(b.active, 1);
  t.equal(b.queued, 0);
});

t.test('overflow beyond the queue is rejected at once with queue-full', async (t) => {
  const { events, rejected } = recorder();
  const b = new Bulkhead({ maxConcurrent: 1, maxPending: 0, queueTimeoutMs: 1000 }, events, 'route "x"');
  b.acquire(scope());
  const err = await rejection(b.acquire(scope()));
  t.equal(err.kind, 'bulkhead-rejected');
  t.equal(err.status, 503);
  t.equal(err.headers['x-breakwater-bulkhead'], 'rejected');
  t.match(err.message, /route "x" is at capacity \(queue-full\)/);
  t.same(rejected, ['queue-full']);
});

t.test('a waiter gets the released slot, first come first served', async (t) => {
  const b = new Bulkhead({ maxConcurrent: 1, maxPending: 2, queueTimeoutMs: 5000 }, recorder().events, 'test');
  b.acquire(scope());
  const order: string[] = [];
  const first = b.acquire(scope())!.then(() => order.push('first'));
  const second = b.acquire(scope())!.then(() => order.push('second'));
  t.equal(b.queued, 2);
  b.release();
  await first;
  t.same(order, ['first']);
  t.equal(b.active, 1, 'the slot passed straight to the waiter');
  b.release();
  await second;
  t.same(order, ['first', 'second']);
  b.release();
  t.equal(b.active, 0);
  t.equal(b.queued, 0);
});

t.test('a waiter gives up after queueTimeout, or earlier at its deadline', async (t) => {
  // The shared clock's interval is unref'd (the proxy's sockets keep the process alive); here a timer has to.
  const keepAlive = setInterval(() => undefined, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const { events, rejected } = recorder();
  const b = new Bulkhead({ maxConcurrent: 1, maxPending: 5, queueTimeoutMs: 50 }, events, 'test');
  b.acquire(scope());
  const started = performance.now();
  const err = await rejection(b.acquire(scope()));
  t.match(err.message, /queue-timeout/);
  t.ok(performance.now() - started >= 45, 'waited about queueTimeout');
  t.equal(b.queued, 0);

  const deadlineStart = performance.now();
  const withDeadline = scope();
  withDeadline.armDeadline(performance.now(), 10, 'deadline passed');
  const late = await rejection(b.acquire(withDeadline));
  t.equal(late.kind, 'deadline', 'the request deadline bounds the wait');
  t.ok(performance.now() - deadlineStart < 45);
  t.same(rejected, ['queue-timeout']);

  // Timed-out waiters are skipped: the next release frees the slot instead of handing it to nobody.
  b.release();
  t.equal(b.active, 0);
  t.equal(b.acquire(scope()), undefined);
});

t.test('a waiter whose request is aborted leaves the queue: the slot goes to the next, never to nobody', async (t) => {
  const { events } = recorder();
  const b = new Bulkhead({ maxConcurrent: 1, maxPending: 5, queueTimeoutMs: 60_000 }, events, 'test');
  t.equal(b.acquire(scope()), undefined);
  const leaving = scope();
  const gone = rejection(b.acquire(leaving));
  const staying = b.acquire(scope())!;
  t.equal(b.queued, 2);
  leaving.abort(clientGone());
  t.equal((await gone).kind, 'client-gone');
  t.equal(b.queued, 1);
  b.release();
  await staying;
  t.equal(b.active, 1, 'the slot passed to the waiter still there');
  b.release();
  t.equal(b.active, 0);
  t.equal(b.queued, 0);
});
