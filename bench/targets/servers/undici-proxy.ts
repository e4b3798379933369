// The floor for a Node proxy: node:http in front of an undici Pool, no policies.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { once } from 'node:events';
import { Pool } from 'undici';
import { announceListening, readFlag } from './server-cli.js';

// Connection-scoped headers must not be forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

function endToEnd(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  }
  return kept;
}

const pool = new Pool(readFlag('upstream'), { connections: 64 });
const server = createServer((req, res) => {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool
    .request({ path: req.url ?? '/', method: req.method as 'GET', headers: endToEnd(req.headers), body: hasBody ? req : undefined })
    .then(({ statusCode, headers, body }) => {
      res.writeHead(statusCode, endToEnd(headers));
      // pipe(), not pipeline(): pipeline's per-call bookkeeping measured ~35 us per request here, which would make
      // this floor look slower than it is.
      body.on('error', () => res.destroy()).pipe(res);
      res.on('close', () => body.destroy());
    })
    .catch(() => {
      if (res.headersSent) res.destroy();
      else res.writeHead(502).end();
    });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1');
await once(server, 'listening');
announceListening(server.address());
