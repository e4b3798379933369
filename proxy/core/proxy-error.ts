/** The failures Breakwater answers itself, each of one outcome kind (see outcome.ts). */
import { GRPC_STATUS_OF_KIND } from './grpc.js';
import { OUTCOMES, type ErrorKind } from './outcome.js';

/** A failure Breakwater maps to its own response; `status` follows the cause, never a generic 500. */
export class ProxyError extends Error {
  readonly kind: ErrorKind;
  readonly status: number;
  /** Extra response headers (Retry-After, x-breakwater-*). */
  readonly headers: Record<string, string>;
  /** The gRPC status a gRPC caller is told, where it is not the one for `kind` (GRPC_STATUS_OF_KIND). */
  readonly grpcStatus: number | undefined;
  constructor(kind: ErrorKind, message: string, headers: Record<string, string> = {}, options?: { cause?: unknown; grpcStatus?: number }) {
    // An expected outcome (a deadline, an open circuit, a full bulkhead) is answered and counted, never debugged from
    // a stack, and capturing one per rejection would be much of what the fast-fail path allocates.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, options);
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'ProxyError';
    this.kind = kind;
    this.headers = headers;
    this.status = OUTCOMES[kind].client as number;
    this.grpcStatus = options?.grpcStatus;
  }
}

/** The client closed its connection: whatever is in flight for it stops. */
export function clientGone(): ProxyError {
  return new ProxyError('client-gone', 'the client closed the connection');
}

/** The gRPC status a gRPC caller is answered with for `error`: its own, else the one for its kind. */
export function grpcStatusOfError(error: ProxyError): number {
  return error.grpcStatus ?? GRPC_STATUS_OF_KIND[error.kind];
}

/**
 * The gRPC status a gRPC call's failure gives its caller, unless the outcome table holds the failure neutral (the
 * client left, a local rejection): `failOn` and `retry.on` judge the failure by that status too, so `unavailable`
 * there covers a reset the caller would be told is UNAVAILABLE, as a gRPC client's own retry policy does.
 */
export function grpcStatusOfFailure(exchange: { readonly grpc?: boolean }, error: ProxyError): number | undefined {
  return exchange.grpc && OUTCOMES[error.kind].breaker !== 'neutral' ? grpcStatusOfError(error) : undefined;
}
