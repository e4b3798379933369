/**
 * undici with Breakwater's connector, against an upstream that writes raw responses: unsolicited 100s are consumed
 * wherever they fall among other 1xx, and the connection stays usable for the next request.
 */
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { Pool } from 'undici';
import type { UpstreamPolicy } from '../../../proxy/config/policy.js';
import { endpointConnector } from '../../../proxy/upstream/connector.js';
import { ResponseRelay } from '../../../proxy/upstream/response-relay.js';

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const HINTS = 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n';
const FINAL = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

t.test('unsolicited 100s are consumed, other 1xx passed on, and the connection is kept', async (t) => {
  const connections = new Set<Socket>();
  const server = createServer((socket) => {
    connections.add(socket);
    // Each request head gets 100, 103, 100, then the final response, in one write.
    socket.on('data', () => socket.write(CONTINUE + HINTS + CONTINUE + FINAL));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const connect = endpointConnector({ scheme: undefined, host: '127.0.0.1', port, authority: `127.0.0.1:${port}` }, { connectTimeoutMs: 2000 } as UpstreamPolicy);
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1, connect });
  t.teardown(async () => {
    await pool.destroy();
    for (const socket of connections) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  for (let i = 0; i < 2; i++) {
    const interim: number[] = [];
    const relay = new ResponseRelay({ informational: (status) => interim.push(status) });
    const response = await relay.send(pool, { method: 'GET', path: '/' });
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      relay.pipeTo({ write: (c) => chunks.push(c) > 0, end: resolve, addTrailers: () => undefined, destroy: reject, on: () => undefined }, reject);
    });
    t.equal(response.status, 200, `request ${i + 1}`);
    t.equal(Buffer.concat(chunks).toString(), 'ok');
    t.same(interim, [103], 'only the 103 reaches the handler');
  }
  t.equal(connections.size, 1, 'both requests on one connection');
});
