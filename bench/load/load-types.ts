// What every load generator is asked to do and what it reports back.

export interface ClosedLoopSpec {
  url: string;
  connections: number;
  /** HTTP/2 and gRPC: requests in flight on each connection at once (1 when absent); HTTP/1.1 loads ignore it. */
  streams?: number;
  durationS: number;
  /** POST a body of this many bytes instead of a GET. */
  postBodyBytes?: number;
}

export interface LoadResult {
  generator: 'wrk' | 'node' | 'h2load' | 'grpc-js';
  requests: number;
  durationS: number;
  rps: number;
  p50Us: number;
  p99Us: number;
  /** Responses outside 2xx/3xx; expected in fast-fail scenarios, a red flag elsewhere. */
  non2xx: number;
  socketErrors: number;
}

/** Runs one closed-loop load and resolves when it is over. */
export type ClosedLoopGenerator = (spec: ClosedLoopSpec) => Promise<LoadResult>;
