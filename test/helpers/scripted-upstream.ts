/**
 * A loopback upstream the test scripts request by request: each request (its body read in full) is recorded and
 * handed to the handler for its path, which answers, holds, trickles or cuts as the test needs. Tests wait for
 * arrivals and for the proxy to close a request's connection, instead of sleeping.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Arrival {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  res: ServerResponse;
  /** Settles when the proxy closes this request's connection (or the response finishes). */
  closed: Promise<void>;
}

export type Script = (arrival: Arrival) => void;

export interface ScriptedUpstream {
  address: string;
  arrivals: Arrival[];
  /** Sets how requests to paths starting with `prefix` are answered; unscripted paths get 200 "ok". */
  on(prefix: string, script: Script): void;
  /** The nth (0-based) arrival whose path starts with `prefix`, waiting for it at most `timeoutMs`. */
  arrival(prefix: string, n?: number, timeoutMs?: number): Promise<Arrival>;
  count(prefix: string): number;
  close(): Promise<void>;
}

export async function startScriptedUpstream(): Promise<ScriptedUpstream> {
  const scripts: Array<[string, Script]> = [];
  const arrivals: Arrival[] = [];
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
      const arrival: Arrival = { method: req.method!, path: req.url!, headers: req.headers, body: Buffer.concat(chunks), res, closed };
      arrivals.push(arrival);
      for (const w of waiters) w();
      const script = scripts.find(([prefix]) => arrival.path.startsWith(prefix))?.[1];
      if (script) script(arrival);
      else res.end('ok');
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const matching = (prefix: string) => arrivals.filter((a) => a.path.startsWith(prefix));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    on(prefix, script) {
      scripts.unshift([prefix, script]);
    },
    count: (prefix) => matching(prefix).length,
    arrival(prefix, n = 0, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = matching(prefix)[n];
          if (found) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no request #${n + 1} to ${prefix} reached the upstream within ${timeoutMs} ms (saw ${matching(prefix).length})`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
