import t from 'tap';
import { Bulkhead, bulkheadLayer, type BulkheadEvents } from '../../../proxy/policies/bulkhead.js';
import { clientGone, ProxyError } from '../../../proxy/core/proxy-error.js';
import { RequestScope } from '../../../proxy/core/request-scope.js';
import { fakeExchange, fakeUpstream, settle } from '../../helpers/fake-send.js';

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

/** A bulkhead layer over an upstream that answers 200, with the bulkhead and upstream to inspect. */
function layered(limits: { maxConcurrent: number; maxPending: number; queueTimeoutMs?: number }) {
  const { events, rejected } = recorder();
  const bulkhead = new Bulkhead({ queueTimeoutMs: 60_000, ...limits }, events, 'route "r"');
  const upstream = fakeUpstream(200);
  return { bulkhead, upstream, rejected, send: bulkheadLayer(bulkhead)(upstream.send) };
}

t.test('the layer holds the slot until the request ends, not until the upstream answers', async (t) => {
  const { bulkhead, send } = layered({ maxConcurrent: 1, maxPending: 1 });
  const first = fakeExchange();
  t.equal(await settle(send(first)), 200);
  t.equal(bulkhead.active, 1, 'still held while the response body is relayed');
  first.scope.end();
  t.equal(bulkhead.active, 0);
  first.scope.end();
  t.equal(bulkhead.active, 0, 'released once');
});

t.test('the layer queues a request until a slot frees, and turns away what the queue cannot take', async (t) => {
  const { bulkhead, upstream, rejected, send } = layered({ maxConcurrent: 1, maxPending: 1 });
  const holder = fakeExchange();
  await send(holder);
  const waiting = fakeExchange();
  const queued = send(waiting);
  t.equal(bulkhead.queued, 1);
  t.equal(await settle(send(fakeExchange())), 'bulkhead-rejected', 'the queue is full');
  t.same(rejected, ['queue-full']);
  t.equal(upstream.calls, 1, 'neither the queued nor the rejected request reached the upstream');
  holder.scope.end();
  t.equal(await settle(queued), 200, 'the freed slot went to the waiter');
  t.equal(upstream.calls, 2);
  t.equal(bulkhead.active, 1);
  waiting.scope.end();
  t.equal(bulkhead.active, 0);
});

t.test('a failed attempt keeps its slot until the request ends, then frees it once', async (t) => {
  const { bulkhead, upstream, send } = layered({ maxConcurrent: 1, maxPending: 0 });
  upstream.script = new ProxyError('connect-failure', 'refused');
  const failing = fakeExchange();
  t.equal(await settle(send(failing)), 'connect-failure');
  t.equal(bulkhead.active, 1);
  failing.scope.end();
  t.equal(bulkhead.active, 0);
});

t.test('a request aborted while queued is never sent, and ending it releases nothing', async (t) => {
  const { bulkhead, upstream, send } = layered({ maxConcurrent: 1, maxPending: 2 });
  const holder = fakeExchange();
  await send(holder);
  const leaving = fakeExchange();
  const gone = send(leaving);
  const staying = fakeExchange();
  const next = send(staying);
  leaving.scope.abort(clientGone());
  t.equal(await settle(gone), 'client-gone');
  leaving.scope.end();
  t.equal(bulkhead.active, 1, 'the abandoned request held no slot, so its end released none');
  holder.scope.end();
  t.equal(await settle(next), 200);
  t.equal(bulkhead.active, 1, 'the slot passed to the request still waiting');
  staying.scope.end();
  t.equal(bulkhead.active, 0);
  t.equal(bulkhead.queued, 0);
  t.equal(upstream.calls, 2, 'the aborted request was never sent');
});

t.test('a slot granted to a request that already ended goes back at once', async (t) => {
  const { bulkhead, upstream, send } = layered({ maxConcurrent: 1, maxPending: 1 });
  const holder = fakeExchange();
  await send(holder);
  const ended = fakeExchange();
  const pending = send(ended);
  ended.scope.end(); // ended without an abort (nothing told the waiter): the grant must not leak the slot
  holder.scope.end();
  t.equal(await settle(pending), 'client-gone');
  t.equal(bulkhead.active, 0, 'the slot was released straight away');
  t.equal(upstream.calls, 1, 'the ended request was not sent');
});
