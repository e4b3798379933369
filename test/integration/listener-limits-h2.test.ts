/**
 * limits.requestBodyTimeout for HTTP/2 requests and gRPC calls: a stream whose body stalls is answered (408, or for a
 * gRPC call a trailers-only status) and reset at about requestBodyTimeout, counted, and what it held is released; its
 * connection and a body that keeps moving are left alone.
 */
import { once } from 'node:events';
import { connect, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import t from 'tap';
import { startBackend } from '../helpers/demo-backend.js';
import { eventually, metricValue, startBreakwater, type RunningBreakwater } from '../helpers/breakwater.js';
import { within } from '../helpers/wait-for.js';

const BODY_TIMEOUT_MS = 300;

const rejectedTotal = async (bw: RunningBreakwater): Promise<number> =>
  metricValue(await bw.metrics(), 'breakwater_listener_rejected_total', { listener: 'egress', reason: 'body-timeout' });

const clientGoneTotal = async (bw: RunningBreakwater): Promise<number> =>
  metricValue(await bw.metrics(), 'breakwater_requests_total', { route: 'api', outcome: 'client-gone' });

/** A POST whose body starts with `first` and is left open; the response head, its body and when the stream closed. */
async function stalledUpload(session: ClientHttp2Session, headers: Record<string, string>, first: Buffer) {
  const stream = session.request({ ':method': 'POST', ':path': '/api/echo', ...headers });
  stream.write(first);
  const body: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => body.push(chunk));
  const [head] = (await within(once(stream, 'response'), 5000, 'answer to the stalled upload')) as [IncomingHttpHeaders];
  await within(once(stream, 'close'), 5000, 'close of the stalled stream');
  return { head, body: Buffer.concat(body).toString(), at: Date.now(), stream };
}

/** A gRPC message frame: not compressed, 4-byte length, the bytes. */
const grpcFrame = (message: Buffer) => Buffer.concat([Buffer.from([0]), Buffer.from(Uint32Array.of(message.length).buffer).reverse(), message]);

t.test('limits.requestBodyTimeout holds for HTTP/2 streams and gRPC calls', async (t) => {
  const backend = await startBackend({ name: 'orders' });
  t.teardown(() => backend.stop());
  const bw = await startBreakwater({
    listeners: [
      {
        name: 'egress',
        address: '127.0.0.1:0',
        limits: { requestBodyTimeout: `${BODY_TIMEOUT_MS}ms` },
        routes: [{ name: 'api', match: { pathPrefix: '/api' }, upstream: 'orders', timeout: '20s' }],
      },
    ],
    upstreams: [{ name: 'orders', endpoints: [backend.address] }],
  });
  t.teardown(() => bw.stop());
  const session = connect(bw.url);
  t.teardown(() => session.close());
  const backendRequests = async () => (await backend.stats()).requests.total;

  t.test('a stalled HTTP/2 body is answered 408 and its stream reset; the connection serves on', async (t) => {
    const [rejected, gone, seen] = [await rejectedTotal(bw), await clientGoneTotal(bw), await backendRequests()];
    const started = Date.now();
    const { head, body, at, stream } = await stalledUpload(session, { 'content-type': 'text/plain' }, Buffer.from('a'));
    t.equal(head[':status'], 408);
    t.match(JSON.parse(body), { error: 'request timeout', detail: `no byte of the request body arrived within limits.requestBodyTimeout of listener "egress" (${BODY_TIMEOUT_MS}ms)` });
    t.ok(at - started >= BODY_TIMEOUT_MS - 50 && at - started < 3000, `answered near requestBodyTimeout, not the route timeout (after ${at - started} ms)`);
    t.equal(stream.rstCode, 0, 'reset with NO_ERROR once the answer was out');
    await eventually('breakwater_listener_rejected_total{reason="body-timeout"} to count it', async () => ((await rejectedTotal(bw)) === rejected + 1 ? true : undefined));
    await eventually('the request to end, releasing what it held', async () => ((await clientGoneTotal(bw)) === gone + 1 ? true : undefined));
    t.equal(await backendRequests(), seen, 'the upstream saw nothing');
    t.notOk(session.closed || session.destroyed, 'the connection stays open for its other streams');
  });

  t.test('a stalled gRPC call gets a trailers-only status and is reset', async (t) => {
    const rejected = await rejectedTotal(bw);
    const started = Date.now();
    const { head, at } = await stalledUpload(session, { 'content-type': 'application/grpc', te: 'trailers' }, grpcFrame(Buffer.from('hi')));
    t.equal(head[':status'], 200);
    t.equal(head['grpc-status'], '2', 'UNKNOWN, the gRPC status of HTTP 408 (the listener answers every local HTTP status so)');
    t.match(decodeURIComponent(String(head['grpc-message'])), 'limits.requestBodyTimeout of listener "egress"');
    t.ok(at - started < 3000, `answered near requestBodyTimeout (after ${at - started} ms)`);
    await eventually('breakwater_listener_rejected_total{reason="body-timeout"} to count it', async () => ((await rejectedTotal(bw)) === rejected + 1 ? true : undefined));
  });

  t.test('an HTTP/2 body that keeps moving is not cut, however long it takes in all', async (t) => {
    const rejected = await rejectedTotal(bw);
    const started = Date.now();
    const stream: ClientHttp2Stream = session.request({ ':method': 'POST', ':path': '/api/echo', 'content-type': 'text/plain' });
    let sent = 0;
    const trickle = setInterval(() => {
      stream.write('x');
      if (++sent === 8) {
        clearInterval(trickle);
        stream.end();
      }
    }, BODY_TIMEOUT_MS / 3);
    t.teardown(() => clearInterval(trickle));
    const body: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => body.push(chunk));
    const [head] = (await within(once(stream, 'response'), 5000, 'answer to the trickled upload')) as [IncomingHttpHeaders];
    await within(once(stream, 'end'), 5000, 'end of the answer');
    t.equal(head[':status'], 200);
    t.equal((JSON.parse(Buffer.concat(body).toString()) as { bodyBytes: number }).bodyBytes, 8);
    t.ok(Date.now() - started > 2 * BODY_TIMEOUT_MS, 'the body took longer than requestBodyTimeout in all');
    t.equal(await rejectedTotal(bw), rejected, 'nothing counted');
  });
});
