/**
 * gRPC through a real Breakwater, with real @grpc/grpc-js clients and servers: the four call shapes, retries of
 * UNAVAILABLE onto the other replica and none after a response message, grpc-timeout as the deadline, Breakwater's
 * own answers as gRPC statuses, metadata and trailers intact, HTTP/1.1 beside h2c on one listener, and h2 (TLS)
 * upstreams.
 */
import t from 'tap';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, createServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { startBreakwater, type RunningBreakwater } from '../helpers/breakwater.js';
import { callUnary, demoClient, grpc, startDemoServer, type DemoClient, type EchoReply } from '../helpers/grpc-peers.js';
import { makeCertificates } from '../helpers/tls-fixture.js';
import { startBackend } from '../helpers/demo-backend.js';
import { waitFor, within } from '../helpers/wait-for.js';

const SERVICE = 'breakwater.demo.Demo';
const { status: Status } = grpc;

function unavailable(): grpc.ServiceError {
  return Object.assign(new Error('replica says no'), { code: Status.UNAVAILABLE, details: 'replica says no', metadata: new grpc.Metadata() });
}

/** Collects a server stream's messages and its final status. */
function collect(call: grpc.ClientReadableStream<EchoReply>): Promise<{ messages: EchoReply[]; status: grpc.StatusObject }> {
  const messages: EchoReply[] = [];
  call.on('data', (m: EchoReply) => messages.push(m));
  call.on('error', () => undefined); // the status below carries it
  return new Promise((resolve) => call.on('status', (status: grpc.StatusObject) => resolve({ messages, status })));
}

function metricValue(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

t.test('gRPC through Breakwater over h2c', async (t) => {
  let failFirst = 0;
  const replicaA = await startDemoServer('a', {
    unary: (call, callback) => {
      if (call.request.message === 'fail-on-a' || failFirst-- > 0) return callback(unavailable());
      if (call.request.message === 'hang') return; // never answers: the deadline must
      const trailers = new grpc.Metadata();
      trailers.set('x-trailer', `seen ${call.metadata.get('x-custom')[0] ?? 'nothing'}`);
      call.sendMetadata(Object.assign(new grpc.Metadata(), { internalRepr: new Map([['x-header', ['from-a']]]) }));
      callback(null, { message: call.request.message ?? '', replica: 'a', sequence: 0 }, trailers);
    },
    serverStream: (call) => {
      if (call.request.message === 'one-then-fail') {
        call.write({ message: 'first', replica: 'a', sequence: 0 });
        setImmediate(() => call.emit('error', unavailable()));
        return;
      }
      for (let i = 0; i < call.request.count; i++) call.write({ message: call.request.message, replica: 'a', sequence: i });
      call.end();
    },
  });
  const replicaB = await startDemoServer('b', {
    unary: (call, callback) => {
      if (call.request.message === 'hang') return;
      callback(null, { message: call.request.message ?? '', replica: 'b', sequence: 0 });
    },
  });
  const http1Backend = await startBackend({});
  const silent = createServer(() => undefined);
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  const bw = await startBreakwater({
    listeners: [
      {
        name: 'egress',
        address: '127.0.0.1:0',
        http2: { maxConcurrentStreams: 7, maxHeaderListSize: '8KiB', initialWindowSize: '64KiB' },
        routes: [
          {
            name: 'demo-unary',
            match: { grpc: { service: SERVICE, method: 'Unary' } },
            upstream: 'demo',
            timeout: '2s',
            retry: { attempts: 3, on: ['unavailable'], backoff: { base: '5ms', max: '20ms' } },
          },
          { name: 'demo-short', match: { grpc: { service: SERVICE, method: 'ServerStream' } }, upstream: 'demo-a', timeout: '2s', retry: { attempts: 3, on: ['unavailable'] } },
          { name: 'demo', match: { grpc: { service: SERVICE } }, upstream: 'demo', timeout: '2s' },
          { name: 'silent', match: { grpc: { service: 'breakwater.test.Silent' } }, upstream: 'silent', timeout: '1s' },
          { name: 'plain', match: { pathPrefix: '/api' }, upstream: 'http1' },
        ],
      },
    ],
    upstreams: [
      { name: 'demo', protocol: 'h2c', endpoints: [replicaA.address, replicaB.address], loadBalancing: 'round-robin', outlierDetection: { consecutiveFailures: 1000 } },
      { name: 'demo-a', protocol: 'h2c', endpoints: [replicaA.address] },
      { name: 'http1', endpoints: [http1Backend.address] },
      { name: 'silent', protocol: 'h2c', endpoints: [`127.0.0.1:${(silent.address() as AddressInfo).port}`] },
    ],
  });
  const client = demoClient(bw.url);
  t.teardown(async () => {
    client.close();
    await bw.stop();
    await Promise.all([replicaA.close(), replicaB.close(), http1Backend.stop()]);
    silent.close();
  });

  await t.test('unary: metadata both ways, the reply, and trailers intact', async (t) => {
    const metadata = new grpc.Metadata();
    metadata.set('x-custom', 'hello');
    let result;
    // Round robin: call until replica a, whose handler echoes the metadata into a trailer, has answered.
    for (let i = 0; i < 4; i++) {
      result = await callUnary(client, { message: 'ping' }, { metadata });
      if (result.reply?.replica === 'a') break;
    }
    t.equal(result!.error, null);
    t.equal(result!.reply?.message, 'ping');
    t.same(result!.headers?.get('x-header'), ['from-a'], 'response metadata relayed');
    t.same(result!.trailers?.get('x-trailer'), ['seen hello'], 'request metadata reached the server, and its trailer came back');
    t.same(result!.headers?.get('x-breakwater-attempts'), ['1']);
  });

  await t.test('server streaming: every message, in order, and the OK status', async (t) => {
    const call = (client.ServerStream as (r: object) => grpc.ClientReadableStream<EchoReply>)({ message: 'tick', count: 5, intervalMs: 0 });
    const { messages, status } = await collect(call);
    t.equal(status.code, Status.OK);
    t.same(messages.map((m) => m.sequence), [0, 1, 2, 3, 4]);
  });

  await t.test('client streaming: every request message reaches the server', async (t) => {
    const reply = await new Promise<EchoReply>((resolve, reject) => {
      const call = (client.ClientStream as (cb: (e: Error | null, r: EchoReply) => void) => grpc.ClientWritableStream<object>)((err, r) => (err ? reject(err) : resolve(r)));
      for (const message of ['a', 'b', 'c']) call.write({ message });
      call.end();
    });
    t.equal(reply.message, 'a,b,c');
    t.equal(reply.sequence, 3);
  });

  await t.test('bidi streaming: each reply arrives before the next request is sent', async (t) => {
    const call = (client.Bidi as () => grpc.ClientDuplexStream<object, EchoReply>)();
    const replies: string[] = [];
    for (const message of ['one', 'two', 'three']) {
      call.write({ message });
      const [reply] = (await once(call, 'data')) as [EchoReply];
      replies.push(reply.message);
    }
    call.end();
    const [status] = (await once(call, 'status')) as [grpc.StatusObject];
    t.same(replies, ['one', 'two', 'three'], 'a proxy that waited for the request stream to end would deadlock here');
    t.equal(status.code, Status.OK);
  });

  await t.test('UNAVAILABLE is retried onto the other replica', async (t) => {
    const before = replicaA.calls.length + replicaB.calls.length;
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await callUnary(client, { message: 'fail-on-a' }));
    for (const r of results) {
      t.equal(r.error, null, 'every call succeeds');
      t.equal(r.reply?.replica, 'b');
    }
    const retried = results.filter((r) => r.headers?.get('x-breakwater-attempts')[0] === '2');
    t.ok(retried.length >= 1, 'calls that went to a first were retried on b');
    t.equal(replicaA.calls.length + replicaB.calls.length - before, 4 + retried.length, 'one extra attempt per retried call');
  });

  await t.test('no retry once a response message has been sent', async (t) => {
    const before = replicaA.calls.length;
    const call = (client.ServerStream as (r: object) => grpc.ClientReadableStream<EchoReply>)({ message: 'one-then-fail', count: 0, intervalMs: 0 });
    const { messages, status } = await collect(call);
    t.same(messages.map((m) => m.message), ['first']);
    t.equal(status.code, Status.UNAVAILABLE, "the upstream's status reaches the client");
    t.equal(replicaA.calls.length - before, 1, 'the call went upstream once');
  });

  await t.test("the client's grpc-timeout is the deadline where sooner, and each attempt carries the time left", async (t) => {
    const before = replicaA.calls.length + replicaB.calls.length;
    const startedAt = Date.now();
    const r = await callUnary(client, { message: 'hang' }, { deadlineMs: 400 });
    t.equal(r.error?.code, Status.DEADLINE_EXCEEDED);
    const seen = [...replicaA.calls, ...replicaB.calls].slice(before);
    t.equal(seen.length, 1);
    const upstreamDeadline = Number(seen[0]!.deadline) - startedAt;
    t.ok(upstreamDeadline > 0 && upstreamDeadline <= 450, `the upstream was given at most the client's 400 ms (${upstreamDeadline} ms)`);
  });

  await t.test('the route timeout, when sooner, ends the call with DEADLINE_EXCEEDED from Breakwater', async (t) => {
    // An upstream that ignores grpc-timeout (a raw HTTP/2 server that never answers): only Breakwater's deadline ends it.
    const startedAt = Date.now();
    const r = await new Promise<{ error: grpc.ServiceError | null; trailers?: grpc.Metadata }>((resolve) => {
      let error: grpc.ServiceError | null = null;
      const call = client.makeUnaryRequest('/breakwater.test.Silent/Call', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err) => (error = err));
      call.on('status', (status: grpc.StatusObject) => resolve({ error, trailers: status.metadata }));
    });
    const took = Date.now() - startedAt;
    t.equal(r.error?.code, Status.DEADLINE_EXCEEDED, `status: ${r.error?.code} ${r.error?.details}`);
    t.match(r.error?.details, /route timeout of route "silent"/, 'Breakwater says which deadline passed');
    t.ok(took >= 900 && took < 5000, `ended at the route's 1 s, not the client's 10 s (${took} ms)`);
    t.same(r.trailers?.get('x-breakwater-attempts'), ['1'], 'with its x-breakwater headers');
  });

  await t.test('HTTP/1.1 and h2c clients share the listener', async (t) => {
    const [http1, grpcCall] = await Promise.all([request(`${bw.url}/api/data`), callUnary(client, { message: 'both' })]);
    t.equal(http1.statusCode, 200);
    await http1.body.dump();
    t.equal(grpcCall.error, null);
    const text = await bw.metrics();
    t.ok(metricValue(text, 'breakwater_listener_connections_total', { listener: 'egress', protocol: 'http1' }) >= 1);
    t.ok(metricValue(text, 'breakwater_listener_connections_total', { listener: 'egress', protocol: 'h2c' }) >= 1);
  });

  await t.test("the listener's HTTP/2 settings bound each client connection", async (t) => {
    const session = connect(bw.url);
    t.teardown(() => session.close());
    const [settings] = (await within(once(session, 'remoteSettings'), 5000, 'the server SETTINGS frame')) as [Record<string, number>];
    t.equal(settings.maxConcurrentStreams, 7);
    t.equal(settings.maxHeaderListSize, 8192);
    t.equal(settings.initialWindowSize, 65536);
    t.equal(settings.enablePush, false);
  });

  await t.test('an HTTP/1.1 request offering Upgrade: h2c is served as HTTP/1.1 (as curl --http2 sends it)', async (t) => {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(`${bw.url}/api/data`, { headers: { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA' } }, resolve);
      req.on('error', reject);
      req.end();
    });
    t.equal(res.statusCode, 200);
    t.equal(res.headers['x-breakwater-route'] ?? 'plain', 'plain');
    res.resume();
    await once(res, 'end');
  });

  await t.test('requests are counted by grpc_status', async (t) => {
    const text = await bw.metrics();
    t.ok(metricValue(text, 'breakwater_requests_total', { route: 'demo-unary', grpc_status: '0', status_class: '2xx' }) >= 1, 'OK calls');
    t.ok(metricValue(text, 'breakwater_requests_total', { route: 'silent', grpc_status: '4', status_class: '5xx', outcome: 'deadline' }) >= 1, 'DEADLINE_EXCEEDED calls, counted as 504s');
    t.ok(metricValue(text, 'breakwater_requests_total', { route: 'demo-short', grpc_status: '14', outcome: 'upstream-error' }) >= 1, 'an UNAVAILABLE in trailers is the outcome');
    const logged = await bw.waitForLog((l) => l.msg === 'request' && l.route === 'demo-short' && l.grpcStatus === 14);
    t.equal(logged.outcome, 'upstream-error', 'and the access log says so');
  });
});

t.test("Breakwater's own answers to gRPC callers are gRPC statuses", async (t) => {
  const replica = await startDemoServer('slow', { unary: (_call, callback) => setTimeout(() => callback(null, { message: 'late', replica: 'slow', sequence: 0 }), 300) });
  const bw: RunningBreakwater = await startBreakwater({
    listeners: [
      {
        name: 'egress',
        address: '127.0.0.1:0',
        routes: [
          { name: 'down', match: { grpc: { method: 'ServerStream' } }, upstream: 'nowhere', timeout: '2s', circuitBreaker: { volumeThreshold: 2, errorThresholdPercentage: 50, failOn: ['connect-failure', 'unavailable'], resetTimeout: '30s' } },
          { name: 'narrow', match: { grpc: { service: SERVICE } }, upstream: 'slow', timeout: '2s', maxConcurrent: 1 },
        ],
      },
    ],
    upstreams: [
      { name: 'nowhere', protocol: 'h2c', endpoints: ['127.0.0.1:1'] },
      { name: 'slow', protocol: 'h2c', endpoints: [replica.address] },
    ],
  });
  const client = demoClient(bw.url);
  t.teardown(async () => {
    client.close();
    await bw.stop();
    await replica.close();
  });

  await t.test('a connect failure is UNAVAILABLE, then the open breaker answers UNAVAILABLE at once', async (t) => {
    const stream = () => collect((client.ServerStream as (r: object) => grpc.ClientReadableStream<EchoReply>)({ message: 'x', count: 1, intervalMs: 0 }));
    const first = await stream();
    t.equal(first.status.code, Status.UNAVAILABLE);
    t.match(first.status.details, /could not connect/);
    await stream();
    const open = await stream();
    t.equal(open.status.code, Status.UNAVAILABLE);
    t.match(open.status.details, /circuit/i, 'the open breaker says so');
  });

  await t.test('a full bulkhead is RESOURCE_EXHAUSTED', async (t) => {
    const [a, b] = await Promise.all([callUnary(client, { message: '1' }), callUnary(client, { message: '2' })]);
    const codes = [a.error?.code ?? Status.OK, b.error?.code ?? Status.OK].sort();
    t.same(codes, [Status.OK, Status.RESOURCE_EXHAUSTED]);
  });
});

t.test('an h2 upstream: gRPC over TLS, verified against its CA', async (t) => {
  const certs = makeCertificates(['grpc.test']);
  t.teardown(() => certs.remove());
  const replica = await startDemoServer('tls', {}, grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(certs.key), cert_chain: Buffer.from(certs.cert) }]));
  const bw = await startBreakwater({
    listeners: [{ name: 'egress', address: '127.0.0.1:0', routes: [{ name: 'demo', match: { grpc: { service: SERVICE } }, upstream: 'secure' }] }],
    upstreams: [{ name: 'secure', protocol: 'h2', endpoints: [replica.address], tls: { caFile: certs.caFile, serverName: 'grpc.test' } }],
  });
  const client: DemoClient = demoClient(bw.url);
  t.teardown(async () => {
    client.close();
    await bw.stop();
    await replica.close();
  });
  const r = await callUnary(client, { message: 'over tls' });
  t.equal(r.error, null);
  t.equal(r.reply?.replica, 'tls');
});

t.test('drain lets gRPC streams finish within drain.timeout, then ends the rest with UNAVAILABLE', async (t) => {
  const replica = await startDemoServer('streamer', {
    serverStream: (call) => {
      // Writes every interval until the caller goes: only the drain can end the endless one.
      let sequence = 0;
      const tick = setInterval(() => {
        call.write({ message: call.request.message, replica: 'streamer', sequence: sequence++ });
        if (sequence === call.request.count) {
          clearInterval(tick);
          call.end();
        }
      }, call.request.intervalMs);
      call.on('cancelled', () => clearInterval(tick));
    },
  });
  const bw = await startBreakwater({
    drain: { delay: '0s', timeout: '1500ms' },
    listeners: [{ name: 'egress', address: '127.0.0.1:0', routes: [{ name: 'demo', match: { grpc: { service: SERVICE } }, upstream: 'demo', timeout: '60s' }] }],
    upstreams: [{ name: 'demo', protocol: 'h2c', endpoints: [replica.address] }],
  });
  const client = demoClient(bw.url);
  t.teardown(async () => {
    client.close();
    await replica.close();
  });
  const stream = (count: number) => collect((client.ServerStream as (r: object) => grpc.ClientReadableStream<EchoReply>)({ message: 's', count, intervalMs: 50 }));
  const short = stream(10); // about 500 ms: finishes within the drain
  const endless = stream(1_000_000);
  await waitFor(() => replica.calls.length === 2, 5000, 'both calls to reach the replica');
  const startedAt = Date.now();
  const exited = bw.stop('SIGTERM');
  const [finished, cut] = await Promise.all([short, endless]);
  const cutAfter = Date.now() - startedAt;
  t.equal(finished.status.code, Status.OK, `a call that ends within drain.timeout ends normally (${finished.status.details})`);
  t.equal(finished.messages.length, 10);
  t.equal(cut.status.code, Status.UNAVAILABLE, 'the call still open at drain.timeout gets a status its client can act on');
  t.match(cut.status.details, /shutting down/, `status: ${cut.status.code} ${cut.status.details}`);
  t.ok(cut.messages.length > 0, 'it had been streaming until then');
  t.ok(cutAfter >= 1400 && cutAfter < 5000, `cut at drain.timeout (${cutAfter} ms after SIGTERM)`);
  t.equal((await exited).code, 0);
});
