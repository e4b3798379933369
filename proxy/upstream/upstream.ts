/**
 * An upstream: its endpoints (static or discovered through DNS), how to pick one, their health, and the bulkhead that
 * bounds the requests in flight to it. Kept across reloads while its settings are unchanged.
 */
import type { Logger } from 'pino';
import type { UpstreamPolicy } from '../config/policy.js';
import { DnsDiscovery, type DnsDiscoveryOptions } from '../discovery/dns.js';
import { Bulkhead } from '../policies/bulkhead.js';
import { OUTCOMES, type Outcome } from '../core/outcome.js';
import { clock } from '../core/clock.js';
import type { ExportedUpstream, Metrics } from '../telemetry/metrics.js';
import { LeastRequest, RoundRobin, type Balancer } from './balancer.js';
import { Endpoint } from './endpoint.js';
import { HealthChecker } from './health-check.js';
import { OutlierDetector } from './outlier-detection.js';

export interface UpstreamStartOptions {
  /**
   * Reject when DNS gives no endpoint at once (a reload: the running policy keeps serving) rather than keep retrying
   * in the background with /readyz failing (start-up: a pod must not crash-loop through a brief DNS outage).
   */
  requireEndpoints: boolean;
}

export class Upstream implements ExportedUpstream {
  endpoints: Endpoint[] = [];
  readonly bulkhead: Bulkhead;
  private readonly balancer: Balancer;
  private readonly outliers: OutlierDetector;
  private readonly healthChecker: HealthChecker | undefined;
  private discovery: DnsDiscovery | undefined;
  private panicLogged = false;

  constructor(
    readonly policy: UpstreamPolicy,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    /** The DNS resolver; the system's by default. */
    private readonly resolve?: DnsDiscoveryOptions['resolve'],
  ) {
    this.balancer = policy.loadBalancing === 'least-request' ? new LeastRequest() : new RoundRobin();
    this.outliers = new OutlierDetector(policy.name, policy.outlierDetection, metrics, log);
    this.bulkhead = new Bulkhead(
      { maxConcurrent: policy.pool.maxConcurrent, maxPending: policy.pool.maxPending, queueTimeoutMs: policy.pool.queueTimeoutMs },
      metrics.bulkheadEvents('upstream', policy.name),
      `upstream "${policy.name}"`,
    );
    this.setEndpoints(policy.endpoints);
    if (policy.healthCheck) {
      this.healthChecker = new HealthChecker(policy.name, policy.healthCheck, () => this.endpoints, metrics, log);
    }
  }

  get name(): string {
    return this.policy.name;
  }

  /** False until a DNS upstream first has endpoints; meanwhile its requests get 503 no-endpoint. */
  get ready(): boolean {
    return this.endpoints.length > 0;
  }

  /** Resolves DNS once (when configured) and starts health checks; see UpstreamStartOptions for a name not resolved. */
  async start(options: UpstreamStartOptions = { requireEndpoints: true }): Promise<void> {
    const dns = this.policy.dns;
    if (dns) {
      let lastFailure: Error | undefined;
      this.discovery = new DnsDiscovery({
        name: dns.name,
        port: dns.port,
        refreshMs: dns.refreshMs,
        timeoutMs: dns.timeoutMs,
        resolve: this.resolve,
        onError: (err, reason) => {
          lastFailure = err;
          this.metrics.dnsRefreshFailures.inc({ upstream: this.name, reason });
          this.log.warn({ upstream: this.name, reason, err: err.message }, this.ready ? 'DNS refresh failed; keeping the last endpoints' : 'DNS name not resolved; no endpoints yet');
        },
      });
      const first = await this.discovery.start((endpoints) => {
        this.log.info({ upstream: this.name, endpoints }, 'endpoints changed');
        this.setEndpoints(endpoints);
      });
      this.setEndpoints(first);
      if (!this.ready && options.requireEndpoints) {
        this.discovery.stop();
        throw lastFailure ?? new Error(`dns discovery: ${dns.name} gave no endpoints`);
      }
    }
    this.healthChecker?.start();
  }

  /**
   * An endpoint for the next attempt, avoiding those already tried when another is available. When every endpoint
   * is ejected or failing its checks, all of them are tried again (panic mode) rather than failing everything.
   */
  pick(tried: readonly string[]): Endpoint | undefined {
    const now = clock.time();
    const endpoints = this.endpoints;
    const fresh =
      this.balancer.pick(endpoints, 'untried', tried, now) ??
      (tried.length > 0 ? this.balancer.pick(endpoints, 'available', tried, now) : undefined);
    if (fresh) {
      this.panicLogged = false;
      return fresh;
    }
    if (!this.panicLogged && endpoints.length > 0) {
      this.panicLogged = true;
      this.log.warn({ upstream: this.name }, 'no healthy endpoint: panic mode, trying all endpoints');
    }
    return this.balancer.pick(endpoints, 'any', tried, now);
  }

  /** Passive health input from each attempt, as the outcome table says (a client leaving says nothing). */
  report(endpoint: Endpoint, outcome: Outcome): void {
    const failure = OUTCOMES[outcome].endpointFailure;
    if (failure === false) this.outliers.success(endpoint);
    else if (failure === true) this.outliers.failure(endpoint, this.endpoints);
  }

  /** Replaces the endpoint set, keeping the pools (and health) of addresses that stay. */
  setEndpoints(addresses: readonly string[]): void {
    const previous = new Map(this.endpoints.map((e) => [e.address, e]));
    this.endpoints = addresses.map((address) => {
      const kept = previous.get(address);
      previous.delete(address);
      return kept ?? new Endpoint(address, this.policy);
    });
    for (const gone of previous.values()) void gone.close();
  }

  /** Lets requests in flight finish, then closes every connection. */
  async close(): Promise<void> {
    this.discovery?.stop();
    this.healthChecker?.stop();
    await Promise.all(this.endpoints.map((e) => e.close()));
    this.metrics.forgetUpstream(this);
  }

  /** Closes at once, cutting requests still in flight. */
  async destroy(): Promise<void> {
    this.discovery?.stop();
    this.healthChecker?.stop();
    await Promise.all(this.endpoints.map((e) => e.pool.destroy()));
  }
}
