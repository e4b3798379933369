/**
 * One classification of what became of a request or an attempt. Retries, the circuit breaker, outlier detection,
 * metrics and the access log all read this table, so a failure is never a success to one of them and a failure to
 * another; the outcome table in docs/outcomes.md is rendered from it (test/proxy/core/outcome.test.ts keeps the two equal).
 */
import { httpEquivalent } from './grpc.js';

/** What became of a request, one bounded label value. */
export type Outcome =
  | 'ok'
  | 'upstream-error'
  | 'connect-failure'
  | 'reset'
  | 'protocol-error'
  | 'tls-error'
  | 'local-resources'
  | 'timeout'
  | 'deadline'
  | 'circuit-open'
  | 'bulkhead-rejected'
  | 'no-endpoint'
  | 'fault-abort'
  | 'no-route'
  | 'upgrade-refused'
  | 'client-gone'
  | 'cancelled'
  | 'internal-error';

/** The outcomes Breakwater answers itself (a ProxyError), as opposed to forwarding an upstream status. */
export type ErrorKind = Exclude<Outcome, 'ok' | 'upstream-error' | 'fault-abort' | 'no-route' | 'upgrade-refused' | 'internal-error'>;

/** The retry condition (`retry.on`) an outcome matches, or `never`: retrying cannot help, or may repeat an effect. */
export type RetryCondition = 'connect-failure' | 'reset' | 'timeout' | 'status' | 'never';
/** The breaker's `failOn` kind an outcome counts under, or `neutral`: it says nothing about the upstream. */
export type BreakerKind = 'status' | 'connect-failure' | 'reset' | 'timeout' | 'neutral';

export interface OutcomeRule {
  retriedOn: RetryCondition;
  breaker: BreakerKind;
  /** Whether the endpoint's passive health (outlier detection) hears of it: true a failure, false a success, null not at all. */
  endpointFailure: boolean | null;
  /** What the client is told: an HTTP status Breakwater answers with, or the upstream's own. */
  client: number | 'upstream';
  /** One line for docs/outcomes.md. */
  meaning: string;
}

export const OUTCOMES: Readonly<Record<Outcome, OutcomeRule>> = {
  ok: { retriedOn: 'status', breaker: 'status', endpointFailure: false, client: 'upstream', meaning: 'the upstream answered below 500 (a gRPC status: its HTTP equivalent below 500) and its body arrived whole' },
  'upstream-error': { retriedOn: 'status', breaker: 'status', endpointFailure: true, client: 'upstream', meaning: 'the upstream answered 5xx, or a gRPC status equivalent to one (unknown, deadline-exceeded, unimplemented, internal, unavailable, data-loss)' },
  'connect-failure': { retriedOn: 'connect-failure', breaker: 'connect-failure', endpointFailure: true, client: 503, meaning: 'no connection (refused, unreachable, connect timeout): nothing was sent, so any method may be retried' },
  reset: { retriedOn: 'reset', breaker: 'reset', endpointFailure: true, client: 502, meaning: 'the connection failed mid-exchange; after the response head the client sees the response cut off' },
  'protocol-error': { retriedOn: 'never', breaker: 'reset', endpointFailure: true, client: 502, meaning: 'the upstream broke HTTP (a head over 16 KiB, a malformed status line, header or chunk): deterministic, not retried' },
  'tls-error': { retriedOn: 'never', breaker: 'connect-failure', endpointFailure: true, client: 502, meaning: 'TLS verification or handshake failed: deterministic, not retried, never downgraded to plaintext' },
  'local-resources': { retriedOn: 'never', breaker: 'neutral', endpointFailure: null, client: 503, meaning: 'Breakwater itself ran out of file descriptors or memory: says nothing about the upstream' },
  timeout: { retriedOn: 'timeout', breaker: 'timeout', endpointFailure: true, client: 504, meaning: 'no response head within `perTryTimeout`' },
  deadline: { retriedOn: 'never', breaker: 'timeout', endpointFailure: true, client: 504, meaning: 'the route `timeout` passed (queueing, attempts, backoff or the response body); a body still streaming is cut off' },
  'circuit-open': { retriedOn: 'never', breaker: 'neutral', endpointFailure: null, client: 503, meaning: 'the breaker is open: answered at once with the fallback or 503 and Retry-After' },
  'bulkhead-rejected': { retriedOn: 'never', breaker: 'neutral', endpointFailure: null, client: 503, meaning: 'a route or upstream bulkhead was full' },
  'no-endpoint': { retriedOn: 'never', breaker: 'connect-failure', endpointFailure: null, client: 503, meaning: 'the upstream has no endpoints (DNS not resolved yet, or empty)' },
  'fault-abort': { retriedOn: 'never', breaker: 'neutral', endpointFailure: null, client: 'upstream', meaning: 'an abort injected by `fault.abort`, with its configured status' },
  'no-route': { retriedOn: 'never', breaker: 'neutral', endpointFailure: null, client: 404, meaning: 'no route of the listener matched' },
  'upgrade-refused': { retriedOn: 'never', breaker: 'neutral', endpointFailure: null, client: 400, meaning: "an HTTP/1.1 Upgrade to a protocol the route's `upgrade` does not list" },
  'client-gone': { retriedOn: 'never', breaker: 'neutral', endpointFailure: null, client: 499, meaning: 'the client left: whatever was in flight stops, slots are released, nothing more is sent upstream' },
  cancelled: { retriedOn: 'never', breaker: 'neutral', endpointFailure: null, client: 499, meaning: 'an attempt Breakwater cut itself: a hedged attempt that another one beat (an attempt result, never a request outcome)' },
  'internal-error': { retriedOn: 'never', breaker: 'neutral', endpointFailure: null, client: 500, meaning: 'Breakwater failed while serving the request, a fault of its own (logged as an unexpected error): this request alone fails' },
};

const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'ECONNABORTED']);
const LOCAL_RESOURCES = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM']);
const PROTOCOL_ERRORS = new Set([
  'UND_ERR_HEADERS_OVERFLOW',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_EXCEEDED_MAX_SIZE',
  'UND_ERR_INVALID_ARG',
]);

/** Maps an undici (or socket) error to what happened on the wire. */
export function classifyError(err: unknown): ErrorKind {
  const code = (err as { code?: string }).code ?? '';
  if (CONNECT_FAILURES.has(code)) return 'connect-failure';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
  if (LOCAL_RESOURCES.has(code)) return 'local-resources';
  if (code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || TLS_VERIFY_CODES.has(code)) return 'tls-error';
  if (PROTOCOL_ERRORS.has(code) || code.startsWith('HPE_') || (err as { name?: string }).name === 'HTTPParserError') return 'protocol-error';
  return 'reset'; // ECONNRESET, UND_ERR_SOCKET, EPIPE: the connection failed mid-exchange
}

/** OpenSSL's verification failures, as Node's tls reports them in `err.code`. */
const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH',
  'EPROTO',
]);

/**
 * The HTTP status a response counts as wherever a rule speaks of statuses (`5xx` and status codes in retry.on and
 * failOn, the status_class label, ok or upstream-error, endpoint health): a gRPC status's HTTP equivalent when the
 * response carries one (UNAVAILABLE counts as 503, though the response is a 200), else its own status.
 */
export function countedStatus(status: number, grpcStatus: number | undefined): number {
  return grpcStatus === undefined ? status : httpEquivalent(grpcStatus);
}

/** The outcome of a forwarded response by its status, or its gRPC status where it has one (see countedStatus). */
export function outcomeOfResponse(status: number, grpcStatus: number | undefined): Outcome {
  return outcomeOfStatus(countedStatus(status, grpcStatus));
}

/** The outcome of an HTTP status alone; a response's goes through outcomeOfResponse. */
export function outcomeOfStatus(status: number): Outcome {
  return status >= 500 ? 'upstream-error' : 'ok';
}
