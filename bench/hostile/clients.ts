// The hostile soak's misbehaving clients, on raw sockets to 127.0.0.1: slowloris (a request head that never ends),
// stalled bodies (most of a 65000-byte body, then nothing) and clients that abandon a request at a random stage.
// Each runs a fixed number of workers; a worker opens one connection at a time, records how it ended, and opens the
// next after a pause, until the deadline or its connection cap. At the deadline every open socket is destroyed and
// counted as held: the proxy never closed it.
import { connect, type Socket } from 'node:net';
import { QUEUED_PREFIX } from './policy.js';
import type { AttackerFigures } from '../report/results.js';

type AbortStage = 'head' | 'upload' | 'waiting' | 'response-body';
const ABORT_STAGES: readonly AbortStage[] = ['head', 'upload', 'waiting', 'response-body'];

/** What a script did with its connection, beyond what the socket saw. */
interface ScriptRun {
  /** The stage at which the script closed the connection itself; undefined while it has not. */
  abandonedAt(): AbortStage | undefined;
  stop(): void;
}

const neverAbandons = (): undefined => undefined;

/** Writes to a fresh connection and may end it; `onStatus` listeners run once a status line arrived. */
type Script = (socket: Socket, onStatus: (listener: () => void) => void) => ScriptRun;

export interface AttackerSpec {
  workers: number;
  /** Pause between one connection's end and the worker's next. */
  reconnectMs: number;
  script: Script;
}

const CONNECTIONS_PER_WORKER_CAP = 100_000;
const HEAD_HOST = 'Host: 127.0.0.1\r\n';
const STALLED_CONTENT_LENGTH = 65_000;
const STALLED_SENT_BYTES = 60_000;
const SLOWLORIS_DRIP_MS = 3000;
/** Header lines a slowloris connection adds at most: the head stays far below any header size limit. */
const SLOWLORIS_MAX_DRIPS = 400;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})/;

const randomBetween = (min: number, max: number): number => min + Math.random() * (max - min);

/** A request head begun and, every few seconds, one more header line: never the blank line that ends it. */
export const slowloris: Script = (socket) => {
  socket.write(`GET /slow HTTP/1.1\r\n${HEAD_HOST}`);
  let drips = 0;
  const timer = setInterval(() => {
    if (++drips > SLOWLORIS_MAX_DRIPS) clearInterval(timer);
    else socket.write(`X-Drip-${drips}: 1\r\n`);
  }, SLOWLORIS_DRIP_MS);
  return { abandonedAt: neverAbandons, stop: () => clearInterval(timer) };
};

/** An idempotent upload (so the proxy keeps it for replay) of which most arrives, then nothing. */
export const stalledBody: Script = (socket) => {
  socket.write(
    `POST /upload HTTP/1.1\r\n${HEAD_HOST}Content-Type: application/octet-stream\r\nIdempotency-Key: stalled\r\n` +
      `Content-Length: ${STALLED_CONTENT_LENGTH}\r\n\r\n`,
  );
  socket.write(Buffer.alloc(STALLED_SENT_BYTES, 's'));
  return { abandonedAt: neverAbandons, stop: () => undefined };
};

/** One request abandoned at a random stage, by a close or (half of the time) a reset. */
export const abortingClient: Script = (socket, onStatus) => {
  const stage = ABORT_STAGES[Math.floor(Math.random() * ABORT_STAGES.length)]!;
  let abandoned = false;
  const abandon = (): void => {
    abandoned = true;
    if (Math.random() < 0.5) socket.resetAndDestroy();
    else socket.destroy();
  };
  let timer: NodeJS.Timeout | undefined;
  const abandonAfter = (minMs: number, maxMs: number): void => {
    timer = setTimeout(abandon, randomBetween(minMs, maxMs));
  };
  switch (stage) {
    case 'head':
      socket.write('GET /slow?ms=500 HTTP/1.1\r\nHo');
      abandonAfter(10, 200);
      break;
    case 'upload':
      socket.write(`POST /upload HTTP/1.1\r\n${HEAD_HOST}Content-Length: ${STALLED_CONTENT_LENGTH}\r\n\r\n`);
      socket.write(Buffer.alloc(Math.floor(randomBetween(1000, 40_000)), 'u'));
      abandonAfter(10, 200);
      break;
    case 'waiting':
      // To the narrow pool: abandoned while held there or while waiting in its queue.
      socket.write(`GET ${QUEUED_PREFIX}/slow?ms=800 HTTP/1.1\r\n${HEAD_HOST}\r\n`);
      abandonAfter(50, 500);
      break;
    case 'response-body':
      socket.write(`GET /trickle?chunks=50&ms=50 HTTP/1.1\r\n${HEAD_HOST}\r\n`);
      onStatus(() => abandonAfter(0, 200));
      break;
  }
  return { abandonedAt: () => (abandoned ? stage : undefined), stop: () => clearTimeout(timer) };
};

function emptyFigures(): AttackerFigures {
  return { connections: 0, connectFailed: 0, answered: {}, closedWithoutAnswer: 0, reset: 0, abandoned: {}, heldToEnd: 0, longestOpenS: 0 };
}

const increment = (counts: Record<string, number>, key: string): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/**
 * Runs `spec` against 127.0.0.1:`port` until `deadline` (ms since the epoch); resolves once every connection has ended.
 * The workers' first connections are spread over `rampMs`, so that hundreds of them do not arrive in one burst.
 */
export async function runAttacker(port: number, spec: AttackerSpec, deadline: number, rampMs: number): Promise<AttackerFigures> {
  const figures = emptyFigures();
  const open = new Set<Socket>();
  let stopping = false;
  const stopAt = setTimeout(() => {
    stopping = true;
    for (const socket of open) socket.destroy();
  }, Math.max(0, deadline - Date.now()));

  const oneConnection = (): Promise<void> =>
    new Promise((resolve) => {
      const openedAt = Date.now();
      const socket = connect(port, '127.0.0.1');
      open.add(socket);
      let connected = false;
      let status: string | undefined;
      let errorCode: string | undefined;
      let peerEnded = false;
      let run: ScriptRun | undefined;
      const statusListeners: Array<() => void> = [];
      let head = '';
      socket.on('data', (chunk: Buffer) => {
        if (status !== undefined || head.length > 64) return;
        head += chunk.toString('latin1', 0, 64);
        const match = STATUS_LINE.exec(head);
        if (match) {
          status = match[1]!;
          for (const listener of statusListeners) listener();
        }
      });
      socket.on('end', () => (peerEnded = true));
      socket.on('error', (error: NodeJS.ErrnoException) => (errorCode = error.code ?? error.message));
      socket.once('connect', () => {
        connected = true;
        figures.connections++;
        run = spec.script(socket, (listener) => statusListeners.push(listener));
      });
      socket.once('close', () => {
        open.delete(socket);
        run?.stop();
        if (!connected) figures.connectFailed++;
        else {
          if (status !== undefined) increment(figures.answered, status);
          const abandonedAt = run?.abandonedAt();
          if (abandonedAt !== undefined) increment(figures.abandoned, abandonedAt);
          else {
            // How long the proxy let it stay: until it closed it, or (held) until the run ended.
            figures.longestOpenS = Math.max(figures.longestOpenS, (Date.now() - openedAt) / 1000);
            if (stopping && !peerEnded && errorCode === undefined) figures.heldToEnd++;
            else if (status === undefined && errorCode !== undefined) figures.reset++;
            else if (status === undefined) figures.closedWithoutAnswer++;
          }
        }
        resolve();
      });
    });

  const worker = async (index: number): Promise<void> => {
    await new Promise((resolve) => setTimeout(resolve, (index * rampMs) / spec.workers));
    for (let count = 0; count < CONNECTIONS_PER_WORKER_CAP && !stopping; count++) {
      await oneConnection();
      const pauseMs = Math.min(spec.reconnectMs, deadline - Date.now());
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };
  await Promise.all(Array.from({ length: spec.workers }, (_, index) => worker(index)));
  clearTimeout(stopAt);
  return figures;
}
