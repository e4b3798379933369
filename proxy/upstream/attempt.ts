/**
 * The innermost Send: one attempt to one endpoint through its undici pool. It enforces the per-try timeout and the
 * deadline on the shared clock (aborting the attempt, not just walking away from it), maps failures to their cause,
 * and feeds passive health.
 */
import { clock } from '../runtime/clock.js';
import type { Dispatcher } from 'undici';
import { ProxyError, type ErrorKind, type Exchange, type Send } from '../policies/exchange.js';
import { ResponseRelay } from './response-relay.js';
import type { Upstream } from './upstream.js';

export interface AttemptEvents {
  /** One attempt ended: a status class such as "2xx", or a failure kind. */
  attempted(result: string): void;
  timedOut(kind: 'per-try' | 'deadline' | 'connect'): void;
}

const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * A certificate the upstream's TLS settings do not accept: Node names OpenSSL's verify errors without their X509_V_ERR_
 * prefix, and its own host name check ERR_TLS_CERT_ALTNAME_INVALID. Like a failed handshake (ERR_SSL_*), no request
 * was sent.
 */
const CERTIFICATE_FAILURES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Maps an undici error to what happened on the wire. */
export function classifyError(err: unknown): ErrorKind {
  const code = (err as { code?: string }).code ?? '';
  if (CONNECT_FAILURES.has(code) || CERTIFICATE_FAILURES.has(code) || code.startsWith('ERR_SSL_')) return 'connect-failure';
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return 'timeout';
  return 'reset'; // ECONNRESET, UND_ERR_SOCKET, EPIPE, a malformed response: the connection failed mid-exchange
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
  if (body.chunks.length <= 1) return body.chunks[0] ?? EMPTY;
  if (exchange.headers['content-length'] === undefined) return Buffer.concat(body.chunks);
  return body.chunks as unknown as Dispatcher.DispatchOptions['body'];
}

export function attemptSend(upstream: Upstream, perTryTimeoutMs: number | undefined, idleTimeoutMs: number, events: AttemptEvents): Send {
  return async (exchange) => {
    const endpoint = upstream.pick(exchange.trace.endpoints);
    if (!endpoint) throw new ProxyError('no-endpoint', `upstream "${upstream.name}" has no endpoints`);
    exchange.trace.attempts++;
    exchange.trace.endpoints.push(endpoint.address);

    const relay = new ResponseRelay();
    const now = clock.time();
    const tryEnd = perTryTimeoutMs === undefined ? exchange.deadline : Math.min(now + perTryTimeoutMs, exchange.deadline);
    const byDeadline = tryEnd >= exchange.deadline;
    const timer =
      tryEnd === Infinity
        ? undefined
        : clock.at(tryEnd, () =>
            relay.abort(
              byDeadline
                ? new ProxyError('deadline', `the route deadline passed after ${exchange.trace.attempts} attempt(s)`)
                : new ProxyError('timeout', `no response from ${endpoint.address} within the per-try timeout`),
            ),
          );
    exchange.abortAttempt = (reason) => relay.abort(reason);
    endpoint.inflight++;
    try {
      const response = await relay.send(endpoint.pool, {
        method: exchange.method,
        path: exchange.path,
        headers: exchange.headers,
        body: requestBody(exchange),
        bodyTimeout: idleTimeoutMs,
      });
      upstream.report(endpoint, response.status < 500);
      events.attempted(`${Math.floor(response.status / 100)}xx`);
      return response;
    } catch (err) {
      const reason = relay.reason;
      const failure =
        reason instanceof ProxyError
          ? reason
          : new ProxyError(classifyError(err), `${endpoint.address}: ${(err as Error).message}`, {}, { cause: err });
      if (failure.kind !== 'client-gone') {
        upstream.report(endpoint, false);
      }
      if (failure.kind === 'timeout') events.timedOut('per-try');
      else if (failure.kind === 'deadline') events.timedOut('deadline');
      else if ((err as { code?: string }).code === 'UND_ERR_CONNECT_TIMEOUT') events.timedOut('connect');
      events.attempted(failure.kind);
      throw failure;
    } finally {
      timer?.cancel();
      endpoint.inflight--;
      exchange.abortAttempt = undefined;
    }
  };
}
