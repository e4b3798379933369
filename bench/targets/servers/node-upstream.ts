// Minimal upstream used when nginx is not installed, and for the behaviours nginx cannot fake:
//   GET /big          1 MiB response (body streaming)
//   GET /slow?ms=N    answers after N ms (holds bulkhead slots)
//   GET /flaky        503 and 200 in turn (one failed attempt, then success)
//   GET /lopsided?slow=HOST&ms=N   answers after N ms when it arrived at address HOST, at once elsewhere (one slow
//                     endpoint of several)
//   GET /trickle?chunks=N&ms=M   N chunks of 1 KiB, one every M ms (a response body that takes its time)
//   anything else     200 "ok", request body read and dropped
// Only the path's last segment counts ("/queued/slow" is "/slow"), so a proxy route's prefix may come before it.
// With --hosts a,b,c it listens on the same port on several loopback addresses (many endpoints).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { announceListening, readFlag } from './server-cli.js';

const BIG_BODY = Buffer.alloc(1024 * 1024, 'b');
const MAX_SLOW_MS = 60_000;
const TRICKLE_CHUNK = Buffer.alloc(1024, 't');
const MAX_TRICKLE_CHUNKS = 1000;
let flakyCalls = 0;

function respond(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://upstream');
  const resource = url.pathname.slice(url.pathname.lastIndexOf('/'));
  if (resource === '/big') {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG_BODY.length });
    res.end(BIG_BODY);
  } else if (resource === '/slow') {
    const delayMs = Math.min(MAX_SLOW_MS, Number(url.searchParams.get('ms') ?? '1000'));
    const timer = setTimeout(() => res.end('slow\n'), delayMs);
    res.on('close', () => clearTimeout(timer));
  } else if (resource === '/trickle') {
    trickle(res, Math.max(1, Math.min(MAX_TRICKLE_CHUNKS, Number(url.searchParams.get('chunks') ?? '10'))), Math.min(MAX_SLOW_MS, Number(url.searchParams.get('ms') ?? '100')));
  } else if (resource === '/lopsided') {
    const delayMs = req.socket.localAddress === url.searchParams.get('slow') ? Math.min(MAX_SLOW_MS, Number(url.searchParams.get('ms') ?? '100')) : 0;
    const timer = setTimeout(() => res.end('lopsided\n'), delayMs);
    res.on('close', () => clearTimeout(timer));
  } else if (resource === '/flaky') {
    res.statusCode = flakyCalls++ % 2 === 0 ? 503 : 200;
    res.end('flaky\n');
  } else {
    res.end('ok\n');
  }
}

function trickle(res: ServerResponse, chunks: number, intervalMs: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': chunks * TRICKLE_CHUNK.length });
  let sent = 0;
  const timer = setInterval(() => {
    res.write(TRICKLE_CHUNK);
    if (++sent >= chunks) {
      clearInterval(timer);
      res.end();
    }
  }, intervalMs);
  res.on('close', () => clearInterval(timer));
}

async function listen(host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => respond(req, res));
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}

const [firstHost, ...otherHosts] = readFlag('hosts', '127.0.0.1').split(',');
const first = await listen(firstHost, Number(readFlag('port', '0')));
const address = first.address();
if (address === null || typeof address === 'string') throw new Error('expected a TCP listener');
for (const host of otherHosts) await listen(host, address.port);
announceListening(address);
