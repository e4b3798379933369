import t from 'tap';
import type { FaultPolicy } from '../../../proxy/config/policy.js';
import { clientGone } from '../../../proxy/core/proxy-error.js';
import { faultLayer } from '../../../proxy/policies/fault.js';
import { fakeExchange, fakeUpstream, recordSleeps, settle } from '../../helpers/fake-send.js';
import { within } from '../../helpers/wait-for.js';

/** A fault layer whose random draws the test lists, in the order the layer takes them (delay first, then abort). */
function harness(fault: FaultPolicy, draws: number[]) {
  const upstream = fakeUpstream(200);
  const injected: string[] = [];
  const remaining = [...draws];
  const random = () => {
    const draw = remaining.shift();
    if (draw === undefined) throw new Error('the fault layer drew more random numbers than expected');
    return draw;
  };
  const send = faultLayer(fault, (kind) => injected.push(kind), random)(upstream.send);
  const exchange = fakeExchange();
  const sleeps = recordSleeps(exchange.scope);
  return { upstream, injected, exchange, sleeps, remaining, send: () => send(exchange) };
}

const DELAY: FaultPolicy = { delay: { percent: 25, durationMs: 300 } };
const ABORT: FaultPolicy = { abort: { percent: 10, status: 503 } };

t.test('a delay is injected for the share of requests drawn below its percentage, then the request goes on', async (t) => {
  const hit = harness(DELAY, [0.2499]);
  t.equal(await settle(hit.send()), 200);
  t.same(hit.sleeps, [300]);
  t.same(hit.injected, ['delay']);
  t.equal(hit.exchange.trace.injected, 'delay', 'marked so it is not mistaken for a slow upstream');
  t.equal(hit.upstream.calls, 1);

  const miss = harness(DELAY, [0.25]);
  t.equal(await settle(miss.send()), 200);
  t.same(miss.sleeps, []);
  t.same(miss.injected, []);
  t.equal(miss.exchange.trace.injected, undefined);
});

t.test('an abort answers with its status locally, without calling the upstream', async (t) => {
  const hit = harness(ABORT, [0.05]);
  const response = await hit.send();
  t.equal(response.status, 503);
  t.ok(Buffer.isBuffer(response.body));
  const body = response.body as Buffer;
  t.same(JSON.parse(body.toString()), { error: 'fault injected by breakwater', status: 503 });
  t.same(response.headers, { 'content-type': 'application/json', 'content-length': String(body.length), 'x-breakwater-fault': 'abort' });
  t.equal(hit.upstream.calls, 0);
  t.same(hit.injected, ['abort']);
  t.equal(hit.exchange.trace.injected, 'abort');
  t.equal(hit.exchange.trace.local, 'fault-abort');

  const miss = harness(ABORT, [0.1]);
  t.equal(await settle(miss.send()), 200);
  t.equal(miss.upstream.calls, 1);
  t.equal(miss.exchange.trace.local, undefined);
});

t.test('delay and abort are drawn independently; both may hit one request', async (t) => {
  const both = harness({ ...DELAY, ...ABORT }, [0, 0]);
  t.equal(await settle(both.send()), 503);
  t.same(both.sleeps, [300], 'delayed, then aborted');
  t.same(both.injected, ['delay', 'abort']);
  t.equal(both.exchange.trace.injected, 'abort');

  const delayOnly = harness({ ...DELAY, ...ABORT }, [0, 0.99]);
  t.equal(await settle(delayOnly.send()), 200);
  t.same(delayOnly.injected, ['delay']);
  t.same(delayOnly.remaining, [], 'one draw for each fault');
});

t.test('0% never injects and 100% always does', async (t) => {
  const never = harness({ delay: { percent: 0, durationMs: 1 }, abort: { percent: 0, status: 500 } }, [0, 0]);
  t.equal(await settle(never.send()), 200);
  t.same(never.injected, []);
  const always = harness({ abort: { percent: 100, status: 500 } }, [0.999999]);
  t.equal(await settle(always.send()), 500);
});

t.test('a route without faults draws nothing and passes the request on', async (t) => {
  const none = harness({}, []);
  t.equal(await settle(none.send()), 200);
  t.equal(none.upstream.calls, 1);
});

t.test('a client leaving during an injected delay ends the wait: nothing is sent upstream', async (t) => {
  const upstream = fakeUpstream(200);
  const exchange = fakeExchange();
  const send = faultLayer({ delay: { percent: 100, durationMs: 60_000 } }, (kind) => {
    if (kind === 'delay') queueMicrotask(() => exchange.scope.abort(clientGone()));
  })(upstream.send);
  t.equal(await within(settle(send(exchange)), 2000, 'the delay to end with the abort'), 'client-gone');
  t.equal(upstream.calls, 0);
});
