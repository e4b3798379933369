import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { streamLoad, validateLoadOptions } from './load.js';
import { ClientMetrics } from './metrics.js';
import { RollingStats } from './rolling-stats.js';
import type { LoadOptions } from './types.js';

const WINDOW_MS = 60_000;
/** The window ring holds a full minute at the configured rate plus headroom, but never more than this. */
const MAX_WINDOW_RECORDS = 1_000_000;

export interface ServiceOptions extends Omit<LoadOptions, 'durationMs' | 'signal' | 'onRecord'> {
  port: number;
  host?: string;
}

export interface RunningService {
  port: number;
  /** Stops the load, lets requests in flight settle, closes the HTTP server. */
  stop(): Promise<void>;
}

/** Steady open-loop load forever, observable on GET /stats, /metrics and /healthz. */
export async function startService(opts: ServiceOptions): Promise<RunningService> {
  const { port, host, ...load } = opts;
  validateLoadOptions({ ...load, durationMs: Infinity });
  const capacity = Math.min(MAX_WINDOW_RECORDS, Math.ceil(opts.rate * (WINDOW_MS / 1000) * 1.5) + 100);
  const stats = new RollingStats(WINDOW_MS, capacity);
  const metrics = new ClientMetrics();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(res, 405, 'text/plain', 'method not allowed\n');
    if (path === '/healthz') return send(res, 200, 'text/plain', 'ok\n');
    if (path === '/stats') return send(res, 200, 'application/json', JSON.stringify(stats.report(performance.now())));
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => send(res, 200, metrics.registry.contentType, text),
        (err: Error) => send(res, 500, 'text/plain', `metrics failed: ${err.message}\n`),
      );
      return;
    }
    send(res, 404, 'text/plain', 'not found: try /stats, /metrics or /healthz\n');
  });
  await listen(server, port, host ?? '0.0.0.0');

  const stopLoad = new AbortController();
  const loadDone = streamLoad({ ...load, durationMs: Infinity, signal: stopLoad.signal }, (record) => {
    stats.add(record, performance.now());
    metrics.observe(record);
  });
  return {
    port: (server.address() as AddressInfo).port,
    async stop() {
      stopLoad.abort();
      await loadDone;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType });
  res.end(body);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
