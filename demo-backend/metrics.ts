import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Default gauges named *_total, which promtool rejects as gauges; dropped so /metrics lints clean. */
const GAUGES_NAMED_LIKE_COUNTERS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export interface BackendMetrics {
  registry: Registry;
  /** `route` is the fixed route template (or "unmatched"), so the label stays bounded. */
  observeResponse(route: string, status: number, seconds: number): void;
  orderPlaced(duplicate: boolean): void;
}

export function createMetrics(readInFlight: () => number): BackendMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of GAUGES_NAMED_LIKE_COUNTERS) registry.removeSingleMetric(name);

  const requests = new Counter({
    name: 'demo_backend_requests_total',
    help: 'Responses sent, by route template and status class.',
    labelNames: ['route', 'status_class'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'demo_backend_request_duration_seconds',
    help: 'Time from request arrival to response, including injected delays.',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const orders = new Counter({
    name: 'demo_backend_orders_total',
    help: 'Order writes, by result: created, or duplicate (deduplicated by Idempotency-Key).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'demo_backend_in_flight',
    help: 'Requests to /api/* received and not yet closed.',
    registers: [registry],
    collect() {
      this.set(readInFlight());
    },
  });

  return {
    registry,
    observeResponse(route, status, seconds) {
      requests.inc({ route, status_class: `${Math.floor(status / 100)}xx` });
      duration.observe({ route }, seconds);
    },
    orderPlaced(duplicate) {
      orders.inc({ result: duplicate ? 'duplicate' : 'created' });
    },
  };
}
