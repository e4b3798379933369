import type { Logger } from 'pino';
import type { UpstreamPolicy } from '../config/policy.js';
import { clock } from '../core/clock.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Endpoint } from './endpoint.js';

type OutlierPolicy = UpstreamPolicy['outlierDetection'];

/**
 * How many endpoints may be ejected at once: maxEjectionPercent of them, rounded down, but at least one whenever the
 * percentage is above 0 (as Envoy does); otherwise 10% of a pool of four would never eject anything.
 */
export function ejectionLimit(endpoints: number, maxEjectionPercent: number): number {
  if (maxEjectionPercent <= 0) return 0;
  return Math.max(1, Math.floor((endpoints * maxEjectionPercent) / 100));
}

/**
 * Passive health (Envoy's outlier detection): an endpoint with N consecutive connect failures or 5xx (a gRPC answer
 * counting as its status's HTTP equivalent, UNAVAILABLE as 503: core/outcome.ts outcomeOfResponse) is ejected for
 * baseEjectionTime × its ejection level, at most maxEjectionTime. Each ejection raises the level by one; each
 * decayInterval the endpoint then spends back in service lowers it by one. At most maxEjectionPercent of the
 * endpoints (and at least one) are out at a time, and never the last available endpoint.
 */
export class OutlierDetector {
  /** The level at which an ejection already lasts maxEjectionTime: higher would only slow the decay. */
  private readonly maxLevel: number;

  constructor(
    private readonly upstream: string,
    private readonly policy: OutlierPolicy,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.maxLevel = Math.max(1, Math.ceil(policy.maxEjectionTimeMs / policy.baseEjectionTimeMs));
  }

  success(endpoint: Endpoint): void {
    endpoint.consecutiveFailures = 0;
  }

  failure(endpoint: Endpoint, endpoints: readonly Endpoint[]): void {
    endpoint.consecutiveFailures++;
    const now = clock.time();
    if (endpoint.consecutiveFailures < this.policy.consecutiveFailures || endpoint.ejectedUntil > now) return;
    if (!this.mayEject(endpoint, endpoints, now)) return;
    // Decay since the last ejection ended: one level per whole interval back in service (0 if never ejected).
    const decayed = Math.floor((now - endpoint.ejectedUntil) / this.policy.decayIntervalMs);
    endpoint.ejectionLevel = Math.min(this.maxLevel, Math.max(0, endpoint.ejectionLevel - decayed) + 1);
    endpoint.ejections++;
    const duration = Math.min(this.policy.maxEjectionTimeMs, this.policy.baseEjectionTimeMs * endpoint.ejectionLevel);
    endpoint.ejectedUntil = now + duration;
    endpoint.consecutiveFailures = 0;
    this.metrics.endpointEjections.inc({ upstream: this.upstream, endpoint: endpoint.address });
    this.log.warn({ upstream: this.upstream, endpoint: endpoint.address, ejectedForMs: duration }, 'endpoint ejected');
    clock.at(endpoint.ejectedUntil, () => {
      if (endpoint.ejectedUntil > clock.time()) return; // ejected again since
      this.log.info({ upstream: this.upstream, endpoint: endpoint.address }, 'endpoint back from ejection');
    });
  }

  private mayEject(endpoint: Endpoint, endpoints: readonly Endpoint[], now: number): boolean {
    let ejected = 0;
    let othersAvailable = 0;
    for (const e of endpoints) {
      if (e.ejectedUntil > now) ejected++;
      else if (e !== endpoint && e.available(now)) othersAvailable++;
    }
    return othersAvailable > 0 && ejected < ejectionLimit(endpoints.length, this.policy.maxEjectionPercent);
  }
}
