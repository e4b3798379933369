/**
 * The innermost Send: one attempt to one endpoint through its undici pool. It enforces the per-try timeout and the
 * deadline on the shared clock (aborting the attempt, not just walking away from it), maps failures to their cause,
 * and feeds passive health.
 */
import { clock } from '../core/clock.js';
import type { Dispatcher } from 'undici';
import type { ErrorKind, Exchange, Send } from '../core/exchange.js';
import { ProxyError } from '../core/proxy-error.js';
import { classifyError, countedStatus } from '../core/outcome.js';
import { formatGrpcTimeout, grpcStatusOf } from '../core/grpc.js';
import { ResponseRelay } from './response-relay.js';
import type { Upstream } from './upstream.js';

export interface AttemptEvents {
  /** One attempt ended: a status class such as "2xx", or a failure kind. */
  attempted(result: string): void;
  timedOut(kind: 'per-try' | 'deadline' | 'connect'): void;
}

const EMPTY = Buffer.alloc(0);

/**
 * undici writes a buffer in one go and a list of chunks one by one (its dispatch() takes any iterable, as its docs
 * say; its types do not list iterables). It takes a list's length from the Content-Length header, and without one (a
 * chunked upload, or a client that named the header in Connection) would send it chunked: such a body is joined.
 * One difference: undici closes a connection whose list it was still writing when the response ended, where a buffer's
 * would be reused, so an upstream that answers before reading a body the kernel could not take at once costs a new
 * connection.
 */
function requestBody(exchange: Exchange): Dispatcher.DispatchOptions['body'] {
  const body = exchange.body;
  if (body.kind === 'none') return undefined;
  if (body.kind === 'stream') return body.stream;
  if (body.kind === 'streaming') return body.replay.open();
  if (body.chunks.length <= 1) return body.chunks[0] ?? EMPTY;
  if (exchange.headers['content-length'] === undefined) return Buffer.concat(body.chunks);
  return body.chunks as unknown as Dispatcher.DispatchOptions['body'];
}

/**
 * Sends one attempt. The request's scope aborts it (client gone, route deadline) at any stage, queued in the pool
 * included; the per-try timeout is this attempt's own timer, and only when it ends before the deadline.
 */
export function attemptSend(upstream: Upstream, perTryTimeoutMs: number | undefined, events: AttemptEvents): Send {
  return async (exchange) => {
    const scope = exchange.scope;
    scope.throwIfAborted(); // a request whose client has gone is never sent
    const endpoint = upstream.pick(exchange.trace.endpoints);
    if (!endpoint) throw new ProxyError('no-endpoint', `upstream "${upstream.name}" has no endpoints`);
    exchange.trace.attempts++;
    exchange.trace.endpoints.push(endpoint.address);

    const relay = new ResponseRelay(exchange.informational);
    const tryEnd = perTryTimeoutMs === undefined ? Infinity : clock.time() + perTryTimeoutMs;
    const timer =
      tryEnd < scope.deadline
        ? clock.at(tryEnd, () => relay.abort(new ProxyError('timeout', `no response from ${endpoint.address} within the per-try timeout`)))
        : undefined;
    // Kept past the head: an abort then cuts the body being relayed (a no-op once it has ended).
    scope.onAbort(relay);
    endpoint.inflight++;
    try {
      const response = await relay.send(endpoint.pool, {
        method: exchange.method,
        path: exchange.path,
        headers: exchange.grpc ? grpcAttemptHeaders(exchange) : exchange.headers,
        body: requestBody(exchange),
        // The route deadline bounds the body: no idle timer of undici's beside it.
        bodyTimeout: 0,
        upgrade: exchange.upgrade,
      });
      if (exchange.grpc) response.grpcStatus = grpcStatusOf(response.headers);
      const counted = countedStatus(response.status, response.grpcStatus);
      if (counted >= 500) upstream.report(endpoint, 'upstream-error');
      else relay.reportBodyTo(upstream, endpoint);
      events.attempted(`${Math.floor(counted / 100)}xx`);
      return response;
    } catch (err) {
      const reason = relay.reason;
      const failure =
        reason instanceof ProxyError
          ? reason
          : failureOf(classifyError(err), endpoint.address, err);
      upstream.report(endpoint, failure.kind);
      if (failure.kind === 'timeout') events.timedOut('per-try');
      else if (failure.kind === 'deadline') events.timedOut('deadline');
      else if ((err as { code?: string }).code === 'UND_ERR_CONNECT_TIMEOUT') events.timedOut('connect');
      events.attempted(failure.kind);
      scope.offAbort(relay);
      throw failure;
    } finally {
      timer?.cancel();
      endpoint.inflight--;
    }
  };
}

/**
 * A gRPC attempt's own headers: the time left to the deadline as its grpc-timeout (so the server gives up when the
 * caller would), and TE: trailers, which gRPC servers require and which, as a hop-by-hop field, stopped at the listener.
 */
function grpcAttemptHeaders(exchange: Exchange): Exchange['headers'] {
  const headers: Exchange['headers'] = { ...exchange.headers, te: 'trailers' };
  const left = exchange.scope.deadline - clock.time();
  if (Number.isFinite(left)) headers['grpc-timeout'] = formatGrpcTimeout(left);
  return headers;
}

/** What the client is told of an upstream failure: the cause in words and its error code, not the library's message. */
const FAILURE_TEXT: Partial<Record<ErrorKind, string>> = {
  'connect-failure': 'could not connect',
  reset: 'the connection failed mid-exchange',
  'protocol-error': 'the response broke HTTP',
  'tls-error': 'TLS verification or handshake failed',
  'local-resources': 'Breakwater is short of file descriptors or memory',
  timeout: 'no response head in time',
};

function failureOf(kind: ErrorKind, address: string, err: unknown): ProxyError {
  return new ProxyError(kind, `${address}: ${describe(kind, err)}`, {}, { cause: err });
}

function describe(kind: ErrorKind, err: unknown): string {
  const code = (err as { code?: string }).code;
  return `${FAILURE_TEXT[kind] ?? kind}${code ? ` (${code})` : ''}`;
}
