import { Pool } from 'undici';
import { parseEndpoint } from '../config/formats.js';
import type { UpstreamPolicy } from '../config/policy.js';
import { endpointConnector } from './connector.js';

/** One upstream address with its own keep-alive pool and health state. */
export class Endpoint {
  readonly pool: Pool;
  /** Attempts in flight (least-request balancing). */
  inflight = 0;
  /** Passive health: failures in a row, ejection until (clock time), times ejected so far. */
  consecutiveFailures = 0;
  ejectedUntil = 0;
  ejections = 0;
  /** The multiplier of baseEjectionTime: up one per ejection, down one per decay interval back in service. */
  ejectionLevel = 0;
  /** Active health: false while the health check says it is down. */
  checkHealthy = true;

  constructor(
    /** "host:port" as configured or discovered; the metric label. */
    readonly address: string,
    policy: UpstreamPolicy,
  ) {
    const target = parseEndpoint(address);
    if (!target) throw new Error(`upstream "${policy.name}": ${address} is not host:port`);
    // The scheme is the upstream's, not the endpoint's: a tls block covers endpoints written without https://. The
    // origin's authority is what undici sends as Host; the connector connects to the endpoint's address whatever it is.
    const origin = `${policy.tls ? 'https' : 'http'}://${policy.host ?? target.authority}`;
    // HTTP/2: each connection multiplexes up to maxStreamsPerConnection requests; the bulkhead still counts requests.
    const streams = policy.pool.maxStreamsPerConnection;
    const h2 = policy.protocol === 'http1' ? {} : { allowH2: true, maxConcurrentStreams: streams, pipelining: streams };
    this.pool = new Pool(origin, {
      ...h2,
      connections: policy.pool.maxConnections,
      keepAliveTimeout: policy.idleTimeoutMs,
      // Breakwater's own clock enforces per-try and total deadlines; undici's would only race them.
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: endpointConnector(target, policy),
    });
  }

  available(now: number): boolean {
    return this.checkHealthy && this.ejectedUntil <= now;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
