import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import t from 'tap';
import type { Dispatcher } from 'undici';
import type { BodySink } from '../../../proxy/core/exchange.js';
import { ResponseRelay } from '../../../proxy/upstream/response-relay.js';

/** Plays undici's side of the handler contract by hand, so each callback order can be driven exactly. */
function fakeDispatcher() {
  const calls = { aborted: [] as Error[], resumed: 0 };
  // The test calls the handler's callbacks itself, in the order under test.
  const dispatcher = { dispatch: () => true } as unknown as Dispatcher;
  return Object.assign(calls, { dispatcher });
}

/** A client response stand-in that records writes and can refuse more (backpressure). */
class RecordingSink extends EventEmitter implements BodySink {
  chunks: string[] = [];
  ended = false;
  destroyed: Error | undefined;
  full = false;
  write(chunk: Buffer): boolean {
    this.chunks.push(chunk.toString());
    return !this.full;
  }
  trailers: Record<string, unknown> | undefined;
  end(): void {
    this.ended = true;
  }
  addTrailers(trailers: Record<string, unknown>): void {
    this.trailers = trailers;
  }
  destroy(err?: Error): void {
    this.destroyed = err;
  }
}

const rawHeaders = [Buffer.from('Content-Type'), Buffer.from('text/plain'), Buffer.from('Set-Cookie'), Buffer.from('a=1'), Buffer.from('Set-Cookie'), Buffer.from('b=2')];

async function started(relay: ResponseRelay, fake: ReturnType<typeof fakeDispatcher>, status = 200) {
  const pending = relay.send(fake.dispatcher, { method: 'GET', path: '/' });
  relay.onConnect((err) => fake.aborted.push(err!));
  relay.onHeaders(status, rawHeaders, () => fake.resumed++);
  return pending;
}

t.test('resolves at the headers, lower-cased and with repeated fields kept', async (t) => {
  const fake = fakeDispatcher();
  const relay = new ResponseRelay();
  const response = await started(relay, fake);
  t.equal(response.status, 200);
  t.same(response.headers, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
  t.equal(response.body, relay);
});

t.test('a body that arrived before anyone took it is relayed in order, then ended', async (t) => {
  const fake = fakeDispatcher();
  const relay = new ResponseRelay();
  await started(relay, fake);
  t.equal(relay.onData(Buffer.from('one ')), true);
  relay.onData(Buffer.from('two'));
  relay.onComplete(null);
  const sink = new RecordingSink();
  relay.pipeTo(sink, () => t.fail('no failure expected'));
  t.same(sink.chunks, ['one ', 'two']);
  t.equal(sink.ended, true);
});

t.test("the sink's backpressure pauses the upstream until it drains", async (t) => {
  const fake = fakeDispatcher();
  const relay = new ResponseRelay();
  await started(relay, fake);
  const sink = new RecordingSink();
  relay.pipeTo(sink, () => t.fail('no failure expected'));
  sink.full = true;
  t.equal(relay.onData(Buffer.from('a')), false, 'undici is told to pause');
  t.equal(fake.resumed, 0);
  t.equal(relay.onData(Buffer.alloc(0)), false, 'an empty piece while paused keeps it paused');
  sink.full = false;
  sink.emit('drain');
  t.equal(fake.resumed, 1, 'resumed once the sink drained');
  sink.emit('drain');
  t.equal(fake.resumed, 1, 'a drain while flowing does not resume twice');
  // undici's parser calls back with an empty body piece when resumed: nothing to write (each write is a syscall).
  t.equal(relay.onData(Buffer.alloc(0)), true);
  t.same(sink.chunks, ['a'], 'the empty piece is not written');
  relay.onComplete(null);
  t.equal(sink.ended, true);
});

t.test('holds at most 64 KiB before anyone takes the body, then pauses', async (t) => {
  const fake = fakeDispatcher();
  const relay = new ResponseRelay();
  await started(relay, fake);
  t.equal(relay.onData(Buffer.alloc(32 * 1024)), true);
  t.equal(relay.onData(Buffer.alloc(32 * 1024)), false);
  relay.pipeTo(new RecordingSink(), () => t.fail('no failure expected'));
  t.equal(fake.resumed, 1, 'taking the body resumes the upstream');
});

t.test('a discarded body is drained to keep the connection, or cut when too large', async (t) => {
  const fake = fakeDispatcher();
  const small = new ResponseRelay();
  await started(small, fake);
  small.discard();
  small.onData(Buffer.alloc(1024));
  small.onComplete(null);
  t.same(fake.aborted, [], 'a small body is read to its end');

  const large = new ResponseRelay();
  await started(large, fake);
  large.discard();
  large.onData(Buffer.alloc(100 * 1024));
  large.onData(Buffer.alloc(100 * 1024));
  t.equal(fake.aborted.length, 1, 'cut past the drain limit');
  large.onError(fake.aborted[0]!);
});

t.test('an abort before the connection is made cuts it as soon as it is', async (t) => {
  const fake = fakeDispatcher();
  const relay = new ResponseRelay();
  const pending = relay.send(fake.dispatcher, { method: 'GET', path: '/' });
  const reason = new Error('deadline');
  relay.abort(reason);
  relay.onConnect((err) => fake.aborted.push(err!));
  t.same(fake.aborted, [reason]);
  relay.onError(reason);
  await t.rejects(pending, reason);
});

t.test('trailers reach the sink before its end, HTTP/1.1 raw or HTTP/2 as an object, and a gRPC status in them is the outcome passive health hears', async (t) => {
  const fake = fakeDispatcher();
  for (const given of [[Buffer.from('grpc-status'), Buffer.from('14')], { 'grpc-status': '14' }]) {
    const relay = new ResponseRelay();
    await started(relay, fake);
    const sink = new RecordingSink();
    relay.pipeTo(sink, () => t.fail('no failure'));
    const heard: string[] = [];
    relay.reportBodyTo({ report: (_: unknown, outcome: string) => heard.push(outcome) } as never, {} as never);
    relay.onComplete(given as never);
    t.same(sink.trailers, { 'grpc-status': '14' });
    t.equal(sink.ended, true);
    t.same(heard, ['upstream-error'], 'UNAVAILABLE in the trailers is an endpoint failure');
  }
});

t.test('a failure mid-body, or a cut (deadline, client gone), is reported once with its reason, for the listener to end the client response as its protocol needs', async (t) => {
  const fake = fakeDispatcher();
  const relay = new ResponseRelay();
  await started(relay, fake);
  const sink = new RecordingSink();
  const failures: Error[] = [];
  relay.pipeTo(sink, (err) => failures.push(err));
  const reset = new Error('socket closed');
  relay.onError(reset);
  t.same(failures, [reset]);
  t.equal(sink.ended, false, 'never a clean end');

  const cut = new ResponseRelay();
  await started(cut, fake);
  const sink2 = new RecordingSink();
  const cuts: Error[] = [];
  cut.pipeTo(sink2, (err) => cuts.push(err));
  const gone = new Error('deadline');
  cut.abort(gone);
  cut.onError(gone);
  t.same(cuts, [gone], 'reported once, with the reason of the cut, not the error it caused');
  t.equal(sink2.ended, false, 'never a clean end');
  cut.abort(new Error('again'));
  t.equal(fake.aborted.filter((e) => e === gone).length, 1, 'aborted once');
});

t.test('1xx informational responses are skipped; the final response resolves', async (t) => {
  const fake = fakeDispatcher();
  const relay = new ResponseRelay();
  const pending = relay.send(fake.dispatcher, { method: 'GET', path: '/' });
  relay.onConnect(() => {});
  t.equal(relay.onHeaders(103, [], () => {}), true);
  relay.onHeaders(204, [], () => {});
  t.equal((await pending).status, 204);
});

t.test('1xx responses go to the informational sink, headers parsed, while the attempt is live', async (t) => {
  const fake = fakeDispatcher();
  const received: Array<[number, Record<string, unknown>]> = [];
  const relay = new ResponseRelay({ informational: (status, headers) => received.push([status, headers]) });
  const pending = relay.send(fake.dispatcher, { method: 'GET', path: '/' });
  relay.onConnect(() => {});
  relay.onHeaders(103, [Buffer.from('Link'), Buffer.from('</a.css>; rel=preload')], () => {});
  relay.onHeaders(200, [], () => {});
  t.equal((await pending).status, 200);
  t.same(received, [[103, { link: '</a.css>; rel=preload' }]]);

  const aborted = new ResponseRelay({ informational: () => t.fail('nothing is passed on for an aborted attempt') });
  aborted.send(fake.dispatcher, { method: 'GET', path: '/' }).catch(() => {});
  aborted.abort(new Error('deadline'));
  aborted.onHeaders(103, [Buffer.from('Link'), Buffer.from('</b.css>')], () => {});
});

t.test('an abort before the head fails the attempt at once, even while it waits for a connection', async (t) => {
  const fake = fakeDispatcher();
  const relay = new ResponseRelay();
  const pending = relay.send(fake.dispatcher, { method: 'GET', path: '/' });
  const deadline = new Error('deadline');
  relay.abort(deadline); // no onConnect yet: the request still sits in the pool's queue
  await t.rejects(pending, deadline);
  relay.onConnect((err) => fake.aborted.push(err!));
  t.same(fake.aborted, [deadline], 'and it is cut as soon as it would have been sent');
});

t.test('a 304 with the Content-Length its 200 would have is complete, not a length mismatch', async (t) => {
  const fake = fakeDispatcher();
  const relay = new ResponseRelay();
  const response = await started(relay, fake, 304);
  const sink = new RecordingSink();
  relay.pipeTo(sink, () => t.fail('not a failure'));
  relay.onError(Object.assign(new Error('Response body length mismatch'), { code: 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' }));
  t.equal(response.status, 304);
  t.equal(sink.ended, true);
});

t.test('a 101 to an upgrade resolves with the upstream connection, which a discard or an abort closes', async (t) => {
  for (const drop of ['discard', 'abort'] as const) {
    const fake = fakeDispatcher();
    const relay = new ResponseRelay();
    const pending = relay.send(fake.dispatcher, { method: 'GET', path: '/', upgrade: 'websocket' });
    relay.onConnect((err) => fake.aborted.push(err!));
    const socket = new PassThrough();
    relay.onUpgrade(101, [Buffer.from('Upgrade'), Buffer.from('websocket')], socket);
    const response = await pending;
    t.equal(response.status, 101);
    t.same(response.headers, { upgrade: 'websocket' });
    t.equal(response.upgraded, socket, 'the connection is handed over');
    if (drop === 'discard') relay.discard();
    else relay.abort(new Error('client gone'));
    t.ok(socket.destroyed, `${drop} closes it`);
    t.same(fake.aborted, [], 'the finished HTTP exchange is not aborted');
  }
});

t.test('a 101 that arrives after the attempt was aborted closes its connection at once', async (t) => {
  const fake = fakeDispatcher();
  const relay = new ResponseRelay();
  const pending = relay.send(fake.dispatcher, { method: 'GET', path: '/', upgrade: 'websocket' });
  relay.onConnect((err) => fake.aborted.push(err!));
  relay.abort(new Error('deadline'));
  await t.rejects(pending, { message: 'deadline' });
  const socket = new PassThrough();
  relay.onUpgrade(101, [], socket);
  t.ok(socket.destroyed);
});
