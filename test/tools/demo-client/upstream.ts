import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface UpstreamReply {
  status: number;
  delayMs?: number;
  headers?: Record<string, string>;
}

export interface Upstream {
  /** Base URL, e.g. http://127.0.0.1:PORT */
  origin: string;
  /** Requests received so far. */
  readonly requests: number;
  /** Most requests ever open at once: > 1 proves the client did not wait for answers. */
  readonly maxConcurrent: number;
  close(): Promise<void>;
}

/** A loopback HTTP upstream whose reply to the nth request (1-based) the test decides; it counts what it sees. */
export async function startUpstream(reply: (n: number) => UpstreamReply): Promise<Upstream> {
  let requests = 0;
  let open = 0;
  let maxConcurrent = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    requests++;
    open++;
    maxConcurrent = Math.max(maxConcurrent, open);
    const { status, delayMs = 0, headers = {} } = reply(requests);
    req.resume();
    const timer = setTimeout(() => {
      timers.delete(timer);
      open--;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify({ status }));
    }, delayMs);
    timers.add(timer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return requests;
    },
    get maxConcurrent() {
      return maxConcurrent;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
