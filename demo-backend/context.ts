import type { FaultInjector } from './fault-injector.js';
import type { BackendMetrics } from './metrics.js';
import type { OrderBook } from './orders.js';
import type { RequestStats } from './request-stats.js';

/** The state one backend process shares between its routes. */
export interface BackendContext {
  /** Filled in once the port is bound when the name defaults to backend-<port>. */
  replica: { name: string };
  faults: FaultInjector;
  stats: RequestStats;
  orders: OrderBook;
  metrics: BackendMetrics;
  /** Epoch ms from which /readyz answers 200. */
  readyAt: number;
}
