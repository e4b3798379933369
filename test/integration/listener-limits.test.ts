/**
 * A listener's limits against clients that hold connections (slowloris heads, stalled bodies, idle keep-alives,
 * connection floods, oversized heads), and the listener's own answers: after every earlier pipelined response, with
 * the limit named, and counted by reason.
 */
import t from 'tap';
import { Client } from 'undici';
import { startBackend, type RunningBackend } from '../helpers/demo-backend.js';
import { eventually, metricValue, startBreakwater, type RunningBreakwater } from '../helpers/breakwater.js';
import { openConnection, rawExchange, type RawConnection } from '../helpers/raw-http.js';
import { within } from '../helpers/wait-for.js';

const LIMITS = { headersTimeout: '300ms', requestBodyTimeout: '300ms', idleTimeout: '500ms', maxHeaderSize: '4KiB' };

function policy(backend: RunningBackend, limits: Record<string, unknown>): Record<string, unknown> {
  return {
    listeners: [{ name: 'egress', address: '127.0.0.1:0', limits, routes: [{ name: 'api', match: { pathPrefix: '/api' }, upstream: 'orders' }] }],
    upstreams: [{ name: 'orders', endpoints: [backend.address] }],
  };
}

const rejectedTotal = async (bw: RunningBreakwater, reason: string): Promise<number> =>
  metricValue(await bw.metrics(), 'breakwater_listener_rejected_total', { listener: 'egress', reason });

/** Waits (bounded) for the counter of `reason` to reach `expected`. */
const rejectedReaches = (bw: RunningBreakwater, reason: string, expected: number): Promise<number> =>
  eventually(`breakwater_listener_rejected_total{reason="${reason}"} to reach ${expected}`, async () => {
    const value = await rejectedTotal(bw, reason);
    return value >= expected ? value : undefined;
  });

interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The bytes after this response: the next response on the connection, if any. */
  rest: Buffer;
}

/** Parses one HTTP/1.1 response off the front of `data` (Content-Length or chunked); throws if it is incomplete. */
function parseResponse(data: Buffer): ParsedResponse {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd === -1) throw new Error(`no complete response head in: ${data.toString('latin1').slice(0, 200)}`);
  const [statusLine, ...lines] = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(statusLine!.split(' ')[1]);
  let at = headEnd + 4;
  if (headers['transfer-encoding'] === 'chunked') {
    const pieces: Buffer[] = [];
    for (;;) {
      const sizeEnd = data.indexOf('\r\n', at);
      if (sizeEnd === -1) throw new Error('chunked body cut short');
      const size = parseInt(data.subarray(at, sizeEnd).toString('latin1'), 16);
      at = sizeEnd + 2;
      if (size === 0) {
        at += 2;
        break;
      }
      if (at + size > data.length) throw new Error('chunked body cut short');
      pieces.push(data.subarray(at, at + size));
      at += size + 2;
    }
    return { status, headers, body: Buffer.concat(pieces), rest: data.subarray(at) };
  }
  const length = Number(headers['content-length'] ?? 0);
  if (at + length > data.length) throw new Error(`body cut short: ${data.length - at} of ${length} bytes`);
  return { status, headers, body: data.subarray(at, at + length), rest: data.subarray(at + length) };
}

const bodyOf = (response: ParsedResponse): { error: string; detail: string } => JSON.parse(response.body.toString()) as { error: string; detail: string };

t.test('listener limits answer, close and count what holds a connection too long or sends too much', async (t) => {
  const backend = await startBackend({ name: 'orders' });
  t.teardown(() => backend.stop());
  const bw = await startBreakwater(policy(backend, LIMITS));
  t.teardown(() => bw.stop());
  const backendRequests = async () => (await backend.stats()).requests.total;

  t.test('slowloris: a head still trickling in at headersTimeout is answered 408 and closed', async (t) => {
    const before = await rejectedTotal(bw, 'headers-timeout');
    const conn = await openConnection(bw.url);
    const started = Date.now();
    conn.socket.write('GET /api/data HTTP/1.1\r\nHost: x\r\n');
    // A header line every 100 ms: the connection is never idle, the head never complete.
    const trickle = setInterval(() => conn.socket.writable && conn.socket.write(`X-Slow-${Date.now()}: 1\r\n`), 100);
    t.teardown(() => clearInterval(trickle));
    const { at, data } = await within(conn.closed, 5000, 'close of the slowloris connection');
    clearInterval(trickle);
    const answer = parseResponse(data);
    t.equal(answer.status, 408);
    t.equal(answer.headers.connection, 'close');
    t.same(bodyOf(answer), { error: 'request timeout', detail: 'the request head did not arrive within limits.headersTimeout of listener "egress" (300ms)' });
    t.ok(at - started >= 250, `not before headersTimeout (closed after ${at - started} ms)`);
    t.ok(at - started < 3000, `near headersTimeout, not Node's 30 s check interval (closed after ${at - started} ms)`);
    await rejectedReaches(bw, 'headers-timeout', before + 1);
  });

  t.test('a connection that never sends a byte is closed at headersTimeout too', async (t) => {
    const conn = await openConnection(bw.url);
    const { data } = await within(conn.closed, 5000, 'close of the silent connection');
    t.equal(parseResponse(data).status, 408);
  });

  t.test('a stalled request body is answered 408 at requestBodyTimeout and never reaches the upstream', async (t) => {
    const before = await rejectedTotal(bw, 'body-timeout');
    const seen = await backendRequests();
    const conn = await openConnection(bw.url);
    const started = Date.now();
    conn.socket.write('POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
    const { at, data } = await within(conn.closed, 5000, 'close of the stalled upload');
    const answer = parseResponse(data);
    t.equal(answer.status, 408);
    t.equal(answer.headers.connection, 'close');
    t.match(bodyOf(answer).detail, 'no byte of the request body arrived within limits.requestBodyTimeout of listener "egress" (300ms)');
    t.ok(at - started >= 250 && at - started < 3000, `closed near requestBodyTimeout (after ${at - started} ms)`);
    await rejectedReaches(bw, 'body-timeout', before + 1);
    t.equal(await backendRequests(), seen, 'the upstream saw nothing');
  });

  t.test('a body that keeps moving is not cut, however long it takes in all', async (t) => {
    const conn = await openConnection(bw.url);
    const started = Date.now();
    conn.socket.write('POST /api/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 8\r\n\r\n');
    let sent = 0;
    const trickle = setInterval(() => {
      conn.socket.write('x');
      if (++sent === 8) clearInterval(trickle);
    }, 100);
    t.teardown(() => clearInterval(trickle));
    const { data } = await within(conn.closed, 5000, 'the answer to the trickled upload');
    const answer = parseResponse(data);
    t.equal(answer.status, 200);
    t.equal((JSON.parse(answer.body.toString()) as { bodyBytes: number }).bodyBytes, 8);
    t.ok(Date.now() - started > 600, 'the body took longer than requestBodyTimeout in all');
  });

  t.test('an idle keep-alive connection is closed after idleTimeout', async (t) => {
    const conn = await openConnection(bw.url);
    conn.socket.write('GET /api/data HTTP/1.1\r\nHost: x\r\n\r\n');
    const data = await conn.waitFor((d) => canParse(d), 5000, 'the response');
    const answered = Date.now();
    t.equal(parseResponse(data).status, 200);
    const { at } = await within(conn.closed, 5000, 'close of the idle keep-alive connection');
    // Node closes a second after the advertised keep-alive timeout, against a race with a client reusing the socket.
    t.ok(at - answered >= 400 && at - answered < 3500, `closed near idleTimeout (after ${at - answered} ms)`);
  });

  t.test('a head over maxHeaderSize is answered 431, naming the limit', async (t) => {
    const before = await rejectedTotal(bw, 'header-too-large');
    const reply = await rawExchange(bw.url, `GET /api/data HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`);
    const answer = parseResponse(Buffer.from(reply, 'latin1'));
    t.equal(answer.status, 431);
    t.equal(answer.headers.connection, 'close');
    t.same(bodyOf(answer), {
      error: 'request header fields too large',
      detail: 'the request head exceeds limits.maxHeaderSize of listener "egress" (4 KiB)',
    });
    await rejectedReaches(bw, 'header-too-large', before + 1);
  });

  t.test('a malformed request after a pipelined one is answered after the whole earlier response', async (t) => {
    const before = await rejectedTotal(bw, 'bad-request');
    const bytes = 1_000_000;
    const conn = await openConnection(bw.url);
    conn.socket.write(`GET /api/blob?bytes=${bytes} HTTP/1.1\r\nHost: x\r\n\r\nGET /api/data HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n`);
    const { data } = await within(conn.closed, 5000, 'close after the pipelined answers');
    const first = parseResponse(data);
    t.equal(first.status, 200);
    t.equal(first.body.length, bytes, 'the 200 body arrived whole');
    const second = parseResponse(first.rest);
    t.equal(second.status, 400, 'then the 400');
    t.equal(bodyOf(second).error, 'bad request');
    t.equal(second.rest.length, 0, 'and nothing after it');
    await rejectedReaches(bw, 'bad-request', before + 1);
  });

  t.test('a head cut off by headersTimeout while a pipelined response is pending is answered after it', async (t) => {
    const conn = await openConnection(bw.url);
    // The upstream answers the first request after headersTimeout has already cut off the second head.
    conn.socket.write('GET /api/slow?ms=800 HTTP/1.1\r\nHost: x\r\n\r\nGET /api/data HTTP/1.1\r\nHost: x\r\n');
    const { data } = await within(conn.closed, 5000, 'close after the pipelined answers');
    const first = parseResponse(data);
    t.equal(first.status, 200, 'the slow response first');
    t.equal((JSON.parse(first.body.toString()) as { sleptMs: number }).sleptMs, 800);
    t.equal(parseResponse(first.rest).status, 408, 'then the 408');
  });

  t.test('two Host headers are answered 400 and nothing reaches the upstream', async (t) => {
    const before = await rejectedTotal(bw, 'bad-request');
    const seen = await backendRequests();
    const reply = await rawExchange(bw.url, 'GET /api/data HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n');
    const answer = parseResponse(Buffer.from(reply, 'latin1'));
    t.equal(answer.status, 400);
    t.equal(answer.headers.connection, 'close');
    t.same(bodyOf(answer), { error: 'bad request', detail: 'the request has more than one Host header' });
    t.equal(await backendRequests(), seen, 'the upstream saw nothing');
    await rejectedReaches(bw, 'bad-request', before + 1);
  });

  t.test('Proxy-Authorization and Proxy-Connection are not forwarded upstream', async (t) => {
    const reply = await rawExchange(
      bw.url,
      'POST /api/echo HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic c2VjcmV0\r\nProxy-Connection: keep-alive\r\nX-Kept: yes\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi',
    );
    const answer = parseResponse(Buffer.from(reply, 'latin1'));
    t.equal(answer.status, 200);
    const seen = (JSON.parse(answer.body.toString()) as { headers: Record<string, string> }).headers;
    t.equal(seen['x-kept'], 'yes', 'other headers pass');
    t.notOk(seen['proxy-authorization'], 'Proxy-Authorization stops at Breakwater');
    t.notOk(seen['proxy-connection'], 'Proxy-Connection stops at Breakwater');
  });
});

t.test('maxConnections keeps descriptors for the clients already connected when a flood holds connections', async (t) => {
  const backend = await startBackend({ name: 'orders' });
  t.teardown(() => backend.stop());
  const maxConnections = 50;
  const opened = 80;
  // Under 100 descriptors, 80 held connections and Breakwater's own ~25 leave none for an upstream connection; 50 do.
  // headersTimeout is far longer than the test: the idle sockets are held off by the cap alone.
  const bw = await startBreakwater(policy(backend, { maxConnections, headersTimeout: '60s' }), { maxOpenFiles: 100 });
  t.teardown(() => bw.stop());

  // The application's own keep-alive connection, open before the flood (as its pool would be). Its first request
  // matches no route, so no upstream connection is open yet when the flood comes.
  const app = new Client(bw.url, { pipelining: 1 });
  t.teardown(() => app.close());
  const first = await app.request({ path: '/unrouted', method: 'GET' });
  await first.body.dump();
  t.equal(first.statusCode, 404);

  const idle: RawConnection[] = await Promise.all(Array.from({ length: opened }, () => openConnection(bw.url)));
  t.teardown(() => idle.forEach((c) => c.socket.destroy()));
  const openedAt = Date.now();
  const dropped = opened - (maxConnections - 1);
  await rejectedReaches(bw, 'max-connections', dropped);
  t.equal(await rejectedTotal(bw, 'max-connections'), dropped, `the ${dropped} connections over the cap were counted`);
  const closed = await eventually(`${dropped} idle connections closed by the proxy`, () => {
    const gone = idle.filter((c) => c.socket.destroyed);
    return gone.length >= dropped ? gone : undefined;
  });
  t.equal(closed.length, dropped, 'exactly the excess was closed');
  t.ok(closed.every((c) => c.received().length === 0), 'closed without an answer');
  t.ok(Date.now() - openedAt < 3000, 'closed at once, not at a timeout');

  const during = await app.request({ path: '/api/data', method: 'GET' });
  await during.body.dump();
  t.equal(during.statusCode, 200, 'the connected client is served, through a new upstream connection, while the flood is held off');

  t.test('a reload raising maxConnections applies at once to new connections', async (t) => {
    const from = bw.logs.length;
    bw.writePolicy(policy(backend, { maxConnections: 100, headersTimeout: '60s' }));
    await bw.waitForLog((l) => l.msg === 'policy reloaded', 10_000, from);
    const conn = await openConnection(bw.url);
    t.teardown(() => conn.socket.destroy());
    conn.socket.write('GET /api/data HTTP/1.1\r\nHost: x\r\n\r\n');
    const data = await conn.waitFor((d) => canParse(d), 5000, 'an answer on a new connection');
    t.equal(parseResponse(data).status, 200, 'a new connection is served without a rebind');
    t.equal(await rejectedTotal(bw, 'max-connections'), dropped, 'and none more was dropped');
  });
});

function canParse(data: Buffer): boolean {
  try {
    parseResponse(data);
    return true;
  } catch {
    return false;
  }
}
