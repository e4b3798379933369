import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { RequestRecord } from './types.js';

/** prom-client names these gauges *_total, which promtool rejects as counters-that-are-not: keep the output lint-clean. */
const GAUGES_NAMED_LIKE_COUNTERS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

type Outcome = 'ok' | 'error' | 'fast_fail';

function outcomeOf(record: RequestRecord): Outcome {
  if (record.fastFail) return 'fast_fail';
  return record.ok ? 'ok' : 'error';
}

function statusClassOf(status: number): string {
  return status === 0 ? 'none' : `${Math.floor(status / 100)}xx`;
}

/** The service's own registry (never the global one): request outcomes and latency from the scheduled send time. */
export class ClientMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'demo_client_requests_total',
    help: 'Requests the demo client completed, by outcome (ok, error, fast_fail) and status class (2xx..5xx, none)',
    labelNames: ['outcome', 'status_class'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'demo_client_request_duration_seconds',
    help: 'Request latency from the scheduled send time to completion (coordinated-omission safe)',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    for (const name of GAUGES_NAMED_LIKE_COUNTERS) this.registry.removeSingleMetric(name);
  }

  observe(record: RequestRecord): void {
    const outcome = outcomeOf(record);
    this.requests.inc({ outcome, status_class: statusClassOf(record.status) });
    this.latency.observe({ outcome }, record.latencyMs / 1000);
  }
}
