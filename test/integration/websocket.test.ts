/**
 * WebSocket tunnels through a real Breakwater, with `ws` clients and servers: echo both ways (text, binary, a message
 * larger than every socket buffer on the way, bytes right behind either head), refusal on a route without `upgrade`,
 * the handshake through the route's stack (retried onto another endpoint, refused when none answers, counted by the
 * breaker, its bulkhead slot released at the 101), an upstream's own refusal forwarded, tunnels bounded per upstream,
 * the idle timeout, a reload that keeps them, the drain closing them with 1001, and the slot freed whichever side
 * leaves mid-stream.
 */
import type { EventEmitter } from 'node:events';
import { connect, type AddressInfo } from 'node:net';
import type { IncomingMessage } from 'node:http';
import t from 'tap';
import * as wsModule from 'ws';
import WebSocket, { WebSocketServer } from 'ws';
import { eventually, metricValue, startBreakwater, type RunningBreakwater } from '../helpers/breakwater.js';
import { closedPort } from '../helpers/closed-port.js';
import { within } from '../helpers/wait-for.js';

/** ws's own framing, which its type declarations leave out. */
const { Sender, Receiver } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: { fin: boolean; mask: boolean; opcode: number; readOnly: boolean; rsv1: boolean }): Buffer[] };
  Receiver: new (options: { isServer: boolean }) => EventEmitter & { write(chunk: Buffer): boolean };
};

const WAIT_MS = 5000;
const LARGE_BYTES = 8 * 1024 * 1024;

interface EchoServer {
  address: string;
  /** Server-side sockets open now. */
  clients: Set<WebSocket>;
  /** Handshakes the server has accepted so far. */
  handshakes(): number;
  /** Close frames the server received, in order. */
  closes: Array<{ code: number; reason: string }>;
  close(): Promise<void>;
}

/**
 * A ws server on a free loopback port that sends every message back as it came (text or binary), greets a path ending
 * in /greet at once (its first frame may share a packet with the 101), and refuses the handshake of a path ending in
 * /forbidden with 403.
 */
async function startEcho(): Promise<EchoServer> {
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (info, accept) => (info.req.url?.endsWith('/forbidden') ? accept(false, 403, 'Forbidden') : accept(true)),
  });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const closes: EchoServer['closes'] = [];
  let handshakes = 0;
  server.on('connection', (socket, req) => {
    handshakes++;
    if (req.url?.endsWith('/greet')) socket.send('welcome');
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    socket.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }));
    socket.on('error', () => undefined);
  });
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    clients: server.clients,
    handshakes: () => handshakes,
    closes,
    close: () =>
      new Promise((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

interface Opened {
  socket: WebSocket;
  /** The 101's headers as the client saw them. */
  headers: IncomingMessage['headers'];
}

/** Opens a websocket through Breakwater; rejects with the status and body when the handshake is answered otherwise. */
function open(url: string): Promise<Opened> {
  const socket = new WebSocket(url);
  socket.on('error', () => undefined);
  const opened = new Promise<Opened>((resolve, reject) => {
    let headers: IncomingMessage['headers'] = {};
    socket.once('upgrade', (res) => (headers = res.headers));
    socket.once('open', () => resolve({ socket, headers }));
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => reject(Object.assign(new Error(`handshake answered ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
    });
    socket.once('close', (code) => reject(new Error(`closed (${code}) before opening`)));
  });
  return within(opened, WAIT_MS, `websocket handshake to ${url}`);
}

function nextMessage(socket: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return within(
    new Promise((resolve) => socket.once('message', (data: Buffer, isBinary) => resolve({ data, isBinary }))),
    WAIT_MS * 2,
    'an echoed message',
  );
}

function closed(socket: WebSocket, ms = WAIT_MS): Promise<{ code: number; reason: string }> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.reject(new Error('already closed'));
  return within(new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))), ms, 'the websocket to close');
}

async function refusal(url: string): Promise<{ status: number; body: { error: string; detail: string } }> {
  const err = (await open(url).then(
    () => t.fail('the handshake was not refused'),
    (e: unknown) => e,
  )) as { status: number; body: string };
  return { status: err.status, body: JSON.parse(err.body) as { error: string; detail: string } };
}

async function tunnelsActive(bw: RunningBreakwater, route: string): Promise<number> {
  return metricValue(await bw.metrics(), 'breakwater_tunnels_active', { route });
}

function gaugeReaches(bw: RunningBreakwater, route: string, value: number): Promise<true> {
  return eventually(`breakwater_tunnels_active{route="${route}"} to read ${value}`, async () => ((await tunnelsActive(bw, route)) === value ? true : undefined));
}

const ws = (bw: RunningBreakwater, path: string) => `${bw.url.replace('http', 'ws')}${path}`;

t.test('websocket tunnels on one Breakwater', async (t) => {
  const echo = await startEcho();
  t.teardown(() => echo.close());
  const bw = await startBreakwater({
    listeners: [
      {
        name: 'main',
        address: '127.0.0.1:0',
        routes: [
          { name: 'ws', match: { pathPrefix: '/ws' }, upstream: 'echo', upgrade: ['websocket'] },
          { name: 'plain', match: { pathPrefix: '/plain' }, upstream: 'echo' },
          { name: 'idle', match: { pathPrefix: '/idle' }, upstream: 'echo', upgrade: ['websocket'], tunnelIdleTimeout: '400ms' },
          { name: 'bounded', match: { pathPrefix: '/bounded' }, upstream: 'bounded', upgrade: ['websocket'] },
          { name: 'capped', match: { pathPrefix: '/capped' }, upstream: 'echo', upgrade: ['websocket'], maxConcurrent: 1 },
        ],
      },
    ],
    upstreams: [
      { name: 'echo', endpoints: [echo.address] },
      { name: 'bounded', endpoints: [echo.address], pool: { maxConnections: 2 } },
    ],
  });
  t.teardown(() => bw.stop('SIGKILL'));

  t.test('echo: text, binary and a large message both ways, then a clean close', async (t) => {
    const { socket, headers } = await open(ws(bw, '/ws/echo'));
    t.equal(headers['x-breakwater-attempts'], '1', 'the 101 carries the attempt count');
    t.equal(await tunnelsActive(bw, 'ws'), 1, 'the tunnel is counted');

    socket.send('hello');
    t.match(await nextMessage(socket), { isBinary: false }, 'text comes back as text');
    const binary = Buffer.from([0, 1, 2, 254, 255]);
    socket.send(binary);
    const back = await nextMessage(socket);
    t.ok(back.isBinary && back.data.equals(binary), 'binary comes back byte for byte');

    const large = Buffer.alloc(LARGE_BYTES);
    for (let i = 0; i < large.length; i += 4096) large.writeUInt32BE(i, i);
    socket.send(large);
    const echoed = await nextMessage(socket);
    t.ok(echoed.data.equals(large), `a ${LARGE_BYTES}-byte message comes back whole, under backpressure both ways`);

    const done = closed(socket);
    socket.close(1000, 'bye');
    t.same(await done, { code: 1000, reason: 'bye' }, 'the close handshake passes through');
    await gaugeReaches(bw, 'ws', 0);
    await eventually('the tunnel to be counted as closed by the client', async () =>
      metricValue(await bw.metrics(), 'breakwater_tunnels_total', { route: 'ws', result: 'client-closed' }) === 1 ? true : undefined,
    );
    const metrics = await bw.metrics();
    t.equal(metricValue(metrics, 'breakwater_requests_total', { route: 'ws', status_class: '1xx', outcome: 'ok' }), 1, 'the handshake is counted as a request');
  });

  t.test('bytes sent right behind either head are relayed: the client does not wait for the 101, the upstream greets at once', async (t) => {
    const socket = connect(Number(new URL(bw.url).port), '127.0.0.1');
    t.teardown(() => socket.destroy());
    const handshake =
      'GET /ws/greet HTTP/1.1\r\nHost: echo\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
    const early = Buffer.concat(Sender.frame(Buffer.from('early'), { fin: true, mask: true, opcode: 1, readOnly: false, rsv1: false }));
    socket.write(Buffer.concat([Buffer.from(handshake), early]));
    const messages: string[] = [];
    const receiver = new Receiver({ isServer: false });
    receiver.on('message', (data: Buffer) => messages.push(data.toString()));
    let head = '';
    let body = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      if (head.endsWith('\r\n\r\n')) return void receiver.write(chunk);
      body = Buffer.concat([body, chunk]);
      const end = body.indexOf('\r\n\r\n');
      if (end === -1) return;
      head = body.subarray(0, end + 4).toString('latin1');
      receiver.write(body.subarray(end + 4));
    });
    await eventually('the greeting and the echo of the early frame', () => (messages.length >= 2 ? true : undefined));
    t.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    t.match(head.toLowerCase(), /\r\nupgrade: websocket\r\n/);
    t.match(head.toLowerCase(), /\r\nsec-websocket-accept: s3pplmbitxaq9kygzzhzrbk\+xoo=\r\n/, "the upstream's accept key reaches the client");
    t.same(messages, ['welcome', 'early'], "the upstream's greeting, then the echo of the frame sent behind the request head");
    socket.destroy();
    await gaugeReaches(bw, 'ws', 0);
  });

  t.test('a route without upgrade refuses the handshake with 400, saying which key to set', async (t) => {
    const before = echo.handshakes();
    const { status, body } = await refusal(ws(bw, '/plain/echo'));
    t.equal(status, 400);
    t.equal(body.error, 'upgrade-refused');
    t.match(body.detail, /route "plain".*"websocket".*upgrade: \[websocket\]/, body.detail);
    t.equal(echo.handshakes(), before, 'the upstream was never contacted');
    const metrics = await bw.metrics();
    t.equal(metricValue(metrics, 'breakwater_requests_total', { route: 'plain', outcome: 'upgrade-refused' }), 1, 'counted as a request refused');
    await bw.waitForLog((l) => l.route === 'plain' && l.outcome === 'upgrade-refused' && l.status === 400);
  });

  t.test('tunnels per upstream are bounded by pool.maxConnections', async (t) => {
    const first = await open(ws(bw, '/bounded/a'));
    const second = await open(ws(bw, '/bounded/b'));
    const before = echo.handshakes();
    const { status, body } = await refusal(ws(bw, '/bounded/c'));
    t.equal(status, 503, 'the third is refused');
    t.equal(body.error, 'bulkhead-rejected');
    t.match(body.detail, /upstream "bounded" has 2 tunnels open.*pool\.maxConnections/, body.detail);
    t.equal(echo.handshakes(), before, 'the refused handshake never reached the upstream');
    t.equal(await tunnelsActive(bw, 'bounded'), 2);

    const done = closed(first.socket);
    first.socket.close();
    await done;
    await gaugeReaches(bw, 'bounded', 1);
    const third = await open(ws(bw, '/bounded/c'));
    t.pass('a closed tunnel frees its slot');
    second.socket.close();
    third.socket.close();
    await gaugeReaches(bw, 'bounded', 0);
  });

  t.test('a tunnel holds no bulkhead slot: the handshake releases it at the 101', async (t) => {
    const first = await open(ws(bw, '/capped/a'));
    const second = await open(ws(bw, '/capped/b'));
    t.pass('two tunnels on a route whose bulkhead admits one request at a time');
    const metrics = await bw.metrics();
    t.equal(metricValue(metrics, 'breakwater_bulkhead_active', { scope: 'route', name: 'capped' }), 0, 'no slot held');
    t.equal(metricValue(metrics, 'breakwater_tunnels_active', { route: 'capped' }), 2);
    first.socket.close();
    second.socket.close();
    await gaugeReaches(bw, 'capped', 0);
  });

  t.test("an upstream's refusal of the handshake is forwarded as it came, and holds no slot", async (t) => {
    for (let i = 0; i < 3; i++) {
      const err = (await open(ws(bw, '/bounded/forbidden')).then(
        () => t.fail('the handshake was not refused'),
        (e: unknown) => e,
      )) as { status: number; body: string };
      t.same({ status: err.status, body: err.body }, { status: 403, body: 'Forbidden' }, `refusal ${i + 1} of 3 on an upstream bounded to 2 tunnels`);
    }
    const { socket } = await open(ws(bw, '/bounded/after'));
    t.pass('the refused handshakes left every slot free');
    socket.close();
    await gaugeReaches(bw, 'bounded', 0);
  });

  t.test('a tunnel with no byte either way for tunnelIdleTimeout is closed with 1001', async (t) => {
    const { socket } = await open(ws(bw, '/idle/x'));
    // Traffic keeps it open past the timeout.
    let lastByte = 0;
    for (let i = 0; i < 6; i++) {
      socket.send(`keep ${i}`);
      await nextMessage(socket);
      lastByte = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    t.equal(socket.readyState, WebSocket.OPEN, 'open while bytes pass');
    const { code, reason } = await closed(socket, WAIT_MS);
    t.equal(code, 1001, 'closed as going away');
    t.equal(reason, 'idle timeout');
    t.ok(Date.now() - lastByte >= 350, `after the idle timeout (${Date.now() - lastByte} ms after the last byte)`);
    await gaugeReaches(bw, 'idle', 0);
    await eventually('the upstream to hear 1001', () => (echo.closes.some((c) => c.code === 1001 && c.reason === 'idle timeout') ? true : undefined));
  });

  t.test('the client or the upstream leaving mid-stream frees the slot', async (t) => {
    const client = await open(ws(bw, '/ws/gone'));
    client.socket.send(Buffer.alloc(LARGE_BYTES));
    client.socket.terminate();
    await gaugeReaches(bw, 'ws', 0);
    t.pass('client gone: released');

    const upstreamSide = await open(ws(bw, '/ws/cut'));
    const done = closed(upstreamSide.socket);
    for (const server of echo.clients) server.terminate();
    t.equal((await done).code, 1006, 'the client sees the connection end without a close frame, as the upstream left it');
    await gaugeReaches(bw, 'ws', 0);
    t.pass('upstream gone: released');
  });

  t.test('a reload keeps the tunnels of routes that remain', async (t) => {
    const { socket } = await open(ws(bw, '/ws/reload'));
    const from = bw.logs.length;
    bw.writePolicy({
      listeners: [{ name: 'main', address: '127.0.0.1:0', routes: [{ name: 'ws', match: { pathPrefix: '/ws' }, upstream: 'echo', upgrade: ['websocket'], timeout: '20s' }] }],
      upstreams: [{ name: 'echo', endpoints: [echo.address] }],
    });
    await bw.waitForLog((l) => l.msg === 'policy reloaded', 10_000, from);
    socket.send('still there');
    t.equal((await nextMessage(socket)).data.toString(), 'still there', 'the tunnel carries on after the reload');
    t.equal(await tunnelsActive(bw, 'ws'), 1);
    socket.close();
    await gaugeReaches(bw, 'ws', 0);
  });
});

t.test('the handshake is retried onto another endpoint on a connect failure, answered 503 when none answers, and counted by the breaker', async (t) => {
  const echo = await startEcho();
  t.teardown(() => echo.close());
  const dead = `127.0.0.1:${await closedPort()}`;
  const bw = await startBreakwater({
    listeners: [
      {
        name: 'main',
        address: '127.0.0.1:0',
        routes: [
          { name: 'pair', match: { pathPrefix: '/pair' }, upstream: 'pair', upgrade: ['websocket'], retry: { attempts: 2 } },
          {
            name: 'down',
            match: { pathPrefix: '/down' },
            upstream: 'down',
            upgrade: ['websocket'],
            retry: { attempts: 2 },
            circuitBreaker: { consecutiveFailures: 1, resetTimeout: '1m' },
          },
        ],
      },
    ],
    upstreams: [
      { name: 'pair', endpoints: [dead, echo.address] },
      { name: 'down', endpoints: [dead] },
    ],
  });
  t.teardown(() => bw.stop('SIGKILL'));

  const attempts: string[] = [];
  for (let i = 0; i < 2; i++) {
    const { socket, headers } = await open(ws(bw, `/pair/${i}`));
    attempts.push(String(headers['x-breakwater-attempts']));
    socket.send(`via ${i}`);
    t.equal((await nextMessage(socket)).data.toString(), `via ${i}`);
    socket.close();
  }
  t.ok(attempts.includes('2'), `round robin sent one handshake to the dead endpoint first, and it was retried (attempts ${attempts.join(', ')})`);

  const { status, body } = await refusal(ws(bw, '/down/x'));
  t.equal(status, 503);
  t.equal(body.error, 'connect-failure');
  const opened = await refusal(ws(bw, '/down/y'));
  t.same([opened.status, opened.body.error], [503, 'circuit-open'], "the failed handshake opened the route's breaker");
  await gaugeReaches(bw, 'pair', 0);
  t.equal(await tunnelsActive(bw, 'down'), 0, 'a failed handshake holds no tunnel');
});

t.test("a tunnel outlives the listener's head and keep-alive timeouts, which are for HTTP", async (t) => {
  const echo = await startEcho();
  t.teardown(() => echo.close());
  const LIMIT_MS = 300;
  const bw = await startBreakwater({
    listeners: [
      {
        name: 'main',
        address: '127.0.0.1:0',
        limits: { headersTimeout: `${LIMIT_MS}ms`, idleTimeout: `${LIMIT_MS}ms`, requestBodyTimeout: `${LIMIT_MS}ms` },
        routes: [{ name: 'ws', upstream: 'echo', upgrade: ['websocket'] }],
      },
    ],
    upstreams: [{ name: 'echo', endpoints: [echo.address], idleTimeout: `${LIMIT_MS}ms` }],
  });
  t.teardown(() => bw.stop('SIGKILL'));
  const { socket } = await open(ws(bw, '/quiet'));
  let closedEarly = false;
  socket.once('close', () => (closedEarly = true));
  // Silence for several times every timeout of the listener and the upstream pool: the tunnel's own is 10m.
  await new Promise((resolve) => setTimeout(resolve, LIMIT_MS * 5));
  t.notOk(closedEarly, 'still open');
  socket.send('after the quiet');
  t.equal((await nextMessage(socket)).data.toString(), 'after the quiet');
  socket.close();
  await gaugeReaches(bw, 'ws', 0);
});

t.test('drain closes tunnels with 1001 after drain.timeout, and the proxy exits', async (t) => {
  const echo = await startEcho();
  t.teardown(() => echo.close());
  const DRAIN_TIMEOUT_MS = 1000;
  const bw = await startBreakwater({
    listeners: [{ name: 'main', address: '127.0.0.1:0', routes: [{ name: 'ws', upstream: 'echo', upgrade: ['websocket'] }] }],
    upstreams: [{ name: 'echo', endpoints: [echo.address] }],
    drain: { delay: '0s', timeout: `${DRAIN_TIMEOUT_MS}ms` },
  });
  t.teardown(() => bw.stop('SIGKILL'));
  const { socket } = await open(ws(bw, '/live'));
  socket.send('before');
  await nextMessage(socket);

  const done = closed(socket, DRAIN_TIMEOUT_MS + WAIT_MS);
  const signalled = Date.now();
  bw.child.kill('SIGTERM');
  socket.send('during');
  t.equal((await nextMessage(socket)).data.toString(), 'during', 'the tunnel carries on while the drain waits');
  t.same(await done, { code: 1001, reason: 'going away' }, 'the client hears going away');
  const closedAfter = Date.now() - signalled;
  t.ok(closedAfter >= DRAIN_TIMEOUT_MS - 100, `the tunnel had drain.timeout (${closedAfter} ms)`);
  await eventually('the upstream to hear going away', () => (echo.closes.some((c) => c.code === 1001 && c.reason === 'going away') ? true : undefined));
  const exit = await within(bw.exited, DRAIN_TIMEOUT_MS + WAIT_MS, 'Breakwater to exit');
  t.equal(exit.code, 0, 'exit code 0');
  t.ok(Date.now() - signalled < DRAIN_TIMEOUT_MS + 2500, `exited ${Date.now() - signalled} ms after SIGTERM`);
});
