/**
 * The vocabulary every layer shares: an Exchange (one client request on its way upstream), the upstream's answer,
 * and `Send`, the "send this request" function each resilience policy wraps (linkerd2-proxy's layered stack,
 * cockatiel's policies, undici's interceptors).
 */
import type { Duplex, Readable } from 'node:stream';
import type { Outcome } from './outcome.js';
import type { Scope } from './request-scope.js';
import type { StreamReplay } from './stream-replay.js';

export type { ErrorKind, Outcome } from './outcome.js';

export type Headers = Record<string, string | string[] | undefined>;

export type RequestBody =
  | { kind: 'none' }
  /**
   * Small enough to keep: a retry can send it again. Kept as the chunks that arrived, not joined: for a 64 KiB POST
   * the copy, and the collections its extra memory drove, were a quarter to a third of the proxy's CPU per request.
   */
  | { kind: 'buffered'; chunks: readonly Buffer[] }
  /** Not kept: streamed once, never retried; too large for `maxReplayBody`, or past the process-wide replay memory. */
  | { kind: 'stream'; stream: Readable; reason: UnreplayableReason }
  /** A gRPC call's messages: sent upstream as they arrive, kept for a retry while they fit (StreamReplay). */
  | { kind: 'streaming'; replay: StreamReplay };

/** Whether another attempt can send the body again. */
export function replayable(body: RequestBody): boolean {
  return body.kind === 'stream' ? false : body.kind === 'streaming' ? body.replay.replayable : true;
}

export type UnreplayableReason = 'too-large' | 'memory';

/** Why a retry the policy asked for did not happen; written to the access log and counted. */
export type RetrySkipReason = 'not-idempotent' | 'budget' | 'deadline' | 'body-too-large';

export interface Exchange {
  readonly method: string;
  /** Path and query, as sent upstream. */
  readonly path: string;
  /** Outgoing headers: hop-by-hop ones removed, x-forwarded-* and x-request-id set. */
  readonly headers: Headers;
  readonly body: RequestBody;
  /** Safe to send twice: an idempotent method, or an Idempotency-Key header. */
  readonly idempotent: boolean;
  /** A gRPC call: each attempt carries the time left in its own grpc-timeout, and failures are answered in gRPC. */
  readonly grpc?: boolean;
  /** Its lifetime: the deadline, aborts (client gone, deadline) and the release of everything it holds. */
  readonly scope: Scope;
  readonly trace: ExchangeTrace;
  /** Takes the upstream's interim (1xx) responses, ahead of the final one; without it they are dropped. */
  readonly informational?: InformationalSink;
  /** An HTTP/1.1 Upgrade handshake: the protocol asked for (such as websocket), sent upstream with Connection: upgrade. */
  readonly upgrade?: string;
}

/** Where interim responses go; the client's response is one, so passing it on allocates nothing per request. */
export interface InformationalSink {
  informational(status: number, headers: Headers): void;
}

export interface ExchangeTrace {
  attempts: number;
  /** Endpoints tried, in order. */
  endpoints: string[];
  retrySkipped?: RetrySkipReason;
  /** Set when Breakwater answered itself instead of the upstream. */
  local?: Outcome;
  /** A fault the route injected on purpose, so it is never mistaken for a real failure. */
  injected?: 'delay' | 'abort';
}

/** Where a response body goes; the client's ServerResponse is one. */
export interface BodySink {
  write(chunk: Buffer): boolean;
  end(): void;
  /** Trailers to send with the end of the body (gRPC's status travels in them). */
  addTrailers(trailers: Headers): void;
  destroy(err?: Error): void;
  on(event: 'drain', listener: () => void): unknown;
}

/** A response body arriving from upstream, taken exactly once: relayed, discarded or aborted. */
export interface ResponseBody {
  /**
   * Relays the body into `sink` under its backpressure, then its trailers, then ends it; on a failure, `failed` alone
   * is told, and ends the sink as its protocol needs (a reset, or gRPC trailers with a status).
   */
  pipeTo(sink: BodySink, failed: (err: Error) => void): void;
  /** The upstream's trailers, once the body has ended with some. */
  readonly trailers?: Headers;
  /** Nobody wants it: read and dropped so the connection can be reused (cut when too large). */
  discard(): void;
  /** Cuts it and its connection at once (the client left). */
  abort(reason: Error): void;
}

export interface UpstreamResponse {
  status: number;
  headers: Headers;
  /** The upstream's body, or a buffer Breakwater produced itself (fallbacks, injected faults). */
  body: ResponseBody | Buffer;
  /**
   * A gRPC response's status when its head already carries it (a trailers-only response): the one point where a
   * gRPC failure can still be retried, since nothing has reached the client yet. Undefined otherwise.
   */
  grpcStatus?: number;
  /**
   * After a 101 to an upgrade handshake: the upstream connection, now the tunnel's far end (bytes the upstream sent
   * after its head are unread in it). Whoever forwards the response takes it; discarding or aborting the body closes it.
   */
  upgraded?: Duplex;
}

export type Send = (exchange: Exchange) => Promise<UpstreamResponse>;

/** A resilience policy: wraps "send this request" in one concern. */
export type Layer = (next: Send) => Send;

/** Frees an upstream response the caller will not forward, so its connection goes back to the pool. */
export function discard(response: UpstreamResponse): void {
  if (!Buffer.isBuffer(response.body)) response.body.discard();
}

export function compose(layers: Layer[], send: Send): Send {
  return layers.reduceRight((next, layer) => layer(next), send);
}
