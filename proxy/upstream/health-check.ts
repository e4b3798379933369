import type { Logger } from 'pino';
import type { UpstreamPolicy } from '../config/policy.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Endpoint } from './endpoint.js';

type HealthCheckPolicy = NonNullable<UpstreamPolicy['healthCheck']>;

/** Active health: GET `path` on every endpoint each interval; thresholds take endpoints out and put them back. */
export class HealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private readonly streaks = new WeakMap<Endpoint, number>();
  /** Endpoints with a check still running: a black-holed endpoint must not pile up one check per interval. */
  private readonly running = new WeakSet<Endpoint>();

  constructor(
    private readonly upstream: string,
    private readonly policy: HealthCheckPolicy,
    private readonly endpoints: () => readonly Endpoint[],
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.checkAll(), this.policy.intervalMs);
    this.timer.unref();
    void this.checkAll();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async checkAll(): Promise<void> {
    await Promise.all(this.endpoints().map((e) => this.check(e)));
  }

  private async check(endpoint: Endpoint): Promise<void> {
    if (this.running.has(endpoint)) return;
    this.running.add(endpoint);
    let ok = false;
    try {
      const res = await endpoint.pool.request({
        method: 'GET',
        path: this.policy.path,
        headers: { 'user-agent': 'breakwater-health-check' },
        signal: AbortSignal.timeout(this.policy.timeoutMs),
      });
      await res.body.dump();
      ok = res.statusCode >= 200 && res.statusCode < 300;
    } catch {
      ok = false;
    } finally {
      this.running.delete(endpoint);
    }
    this.metrics.healthChecks.inc({ upstream: this.upstream, result: ok ? 'success' : 'failure' });
    // Streak: positive counts successes in a row, negative counts failures in a row.
    const previous = this.streaks.get(endpoint) ?? 0;
    const streak = ok ? Math.max(previous, 0) + 1 : Math.min(previous, 0) - 1;
    this.streaks.set(endpoint, streak);
    if (endpoint.checkHealthy && streak <= -this.policy.unhealthyThreshold) this.mark(endpoint, false);
    else if (!endpoint.checkHealthy && streak >= this.policy.healthyThreshold) this.mark(endpoint, true);
  }

  private mark(endpoint: Endpoint, healthy: boolean): void {
    endpoint.checkHealthy = healthy;
    this.log.warn({ upstream: this.upstream, endpoint: endpoint.address, healthy }, healthy ? 'health check passing' : 'health check failing');
  }
}
