/** The failures Breakwater answers itself, each of one outcome kind (see outcome.ts). */
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
