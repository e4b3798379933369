import type { Logger } from 'pino';
import type { UpstreamPolicy } from '../config/policy.js';
import { clock } from '../runtime/clock.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Endpoint } from './endpoint.js';

/**
 * Passive health (Envoy's outlier detection): an endpoint with N consecutive connect failures or 5xx is ejected for
 * baseEjectionTime × times ejected, never more than maxEjectionPercent of the endpoints and never the last one.
 */
export class OutlierDetector {
  constructor(
    private readonly upstream: string,
    private readonly policy: UpstreamPolicy['outlierDetection'],
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  success(endpoint: Endpoint): void {
    endpoint.consecutiveFailures = 0;
  }

  failure(endpoint: Endpoint, endpoints: readonly Endpoint[]): void {
    endpoint.consecutiveFailures++;
    const now = clock.time();
    if (endpoint.consecutiveFailures < this.policy.consecutiveFailures || endpoint.ejectedUntil > now) return;
    const ejected = endpoints.filter((e) => e.ejectedUntil > now).length;
    const limit = Math.min(endpoints.length - 1, Math.floor((endpoints.length * this.policy.maxEjectionPercent) / 100));
    if (ejected >= limit) return;
    endpoint.ejections++;
    const duration = this.policy.baseEjectionTimeMs * endpoint.ejections;
    endpoint.ejectedUntil = now + duration;
    endpoint.consecutiveFailures = 0;
    this.metrics.endpointEjections.inc({ upstream: this.upstream, endpoint: endpoint.address });
    this.log.warn({ upstream: this.upstream, endpoint: endpoint.address, ejectedForMs: duration }, 'endpoint ejected');
    clock.at(endpoint.ejectedUntil, () => {
      if (endpoint.ejectedUntil > clock.time()) return; // ejected again since
      this.log.info({ upstream: this.upstream, endpoint: endpoint.address }, 'endpoint back from ejection');
    });
  }
}
