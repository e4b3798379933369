import type { AccessLog, RouteAccessLog } from '../telemetry/access-log.js';
import type { CounterCell } from '../telemetry/hot-counter.js';
import type { Metrics } from '../telemetry/metrics.js';

/** A listener's requests that no route took (plain and upgrade alike): one counter series and access log, made on first use. */
export class UnroutedRequests {
  private count: CounterCell | undefined;
  private log: RouteAccessLog | undefined;

  constructor(
    private readonly listener: string,
    private readonly metrics: Metrics,
    private readonly accessLog: AccessLog,
  ) {}

  /** The detail a 404 for it gives. */
  detail(method: string, path: string): string {
    return `no route of listener "${this.listener}" matches ${method} ${path}`;
  }

  record(method: string, path: string, requestId: string): void {
    (this.count ??= this.metrics.requests.cell({ listener: this.listener, route: '', upstream: '', status_class: '4xx', outcome: 'no-route' })).inc();
    if (this.accessLog.enabled) (this.log ??= this.accessLog.for({ listener: this.listener })).write({ method, path, status: 404, outcome: 'no-route', requestId });
  }
}
