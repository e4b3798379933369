/**
 * ListenerLimiter on an in-process node:http server, for what the proxy's own handler cannot be made to do on cue:
 * answer before the body is in, or stop reading a body.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import type { ListenerLimits } from '../../../proxy/config/policy.js';
import { ListenerLimiter, serverOptions } from '../../../proxy/server/listener-limits.js';
import { CounterCell } from '../../../proxy/telemetry/hot-counter.js';
import type { ListenerRejectReason } from '../../../proxy/telemetry/metrics.js';
import { openConnection } from '../../helpers/raw-http.js';
import { within } from '../../helpers/wait-for.js';

const LIMITS: ListenerLimits = { headersTimeoutMs: 2000, requestBodyTimeoutMs: 200, idleTimeoutMs: 5000, maxConnections: 100, maxHeaderSizeBytes: 16 * 1024 };

interface Limited {
  server: Server;
  limiter: ListenerLimiter;
  url: string;
  rejected: Map<ListenerRejectReason, CounterCell>;
}

async function limitedServer(t: Test, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Limited> {
  const rejected = new Map<ListenerRejectReason, CounterCell>();
  const cell = (reason: ListenerRejectReason) => rejected.get(reason) ?? rejected.set(reason, new CounterCell({ reason }, 'breakwater_listener_rejected_total')).get(reason)!;
  const server = createServer(serverOptions(LIMITS), (req, res) => {
    if (limiter.admit(req, res)) handler(req, res);
  });
  const limiter = new ListenerLimiter(server, server, 'unit', LIMITS, cell, pino({ level: 'silent' }));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { server, limiter, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, rejected };
}

t.test('a body that stalls after the response has begun: the connection is closed, nothing is appended', async (t) => {
  const { url, rejected } = await limitedServer(t, (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('started');
  });
  const conn = await openConnection(url);
  conn.socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
  const { data } = await within(conn.closed, 5000, 'close of the stalled connection');
  const text = data.toString('latin1');
  t.match(text, /^HTTP\/1\.1 200 OK/);
  t.notMatch(text, /408/, 'no 408 inside the 200 already under way');
  t.equal(rejected.get('body-timeout')?.value, 1);
});

t.test('a body the server stopped reading is not a client stall: the connection stays', async (t) => {
  let request: IncomingMessage | undefined;
  const { server, url, rejected } = await limitedServer(t, (req, res) => {
    request = req;
    req.pause(); // what the proxy does while a slower upstream takes the body
    req.once('end', () => res.end('whole'));
  });
  const conn = await openConnection(url);
  const body = Buffer.alloc(64 * 1024, 'b');
  conn.socket.write(`POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`);
  conn.socket.write(body);
  await within(once(server, 'timeout'), 5000, 'socket timeout'); // requestBodyTimeout passed with the body unread
  t.notOk(conn.socket.destroyed, 'the connection is still open');
  t.notOk(rejected.get('body-timeout')?.value, 'nothing counted');
  request!.resume();
  const { data } = await within(conn.closed, 5000, 'the answer once the body was read');
  t.match(data.toString('latin1'), /^HTTP\/1\.1 200 OK[\s\S]*whole$/);
});

t.test('apply(): a lower maxHeaderSize holds for connections accepted from then on', async (t) => {
  const { limiter, url, rejected } = await limitedServer(t, (_req, res) => res.end('ok'));
  const head = `GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`;
  const before = await openConnection(url);
  before.socket.write(head);
  t.match((await within(before.closed, 5000, 'the first answer')).data.toString('latin1'), /^HTTP\/1\.1 200/, 'a 5 KB head passes under 16 KiB');
  limiter.apply({ ...LIMITS, maxHeaderSizeBytes: 4096 });
  const after = await openConnection(url);
  after.socket.write(head);
  const text = (await within(after.closed, 5000, 'the 431')).data.toString('latin1');
  t.match(text, /^HTTP\/1\.1 431 Request Header Fields Too Large/);
  t.match(text, /limits\.maxHeaderSize of listener \\"unit\\" \(4 KiB\)/);
  t.equal(rejected.get('header-too-large')?.value, 1);
});
