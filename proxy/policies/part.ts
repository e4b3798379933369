/**
 * A policy as one part of a route's stack. From the route's normalized policy a part gives its layer, or none when the
 * route does not use it. What it shares across requests (a breaker, a bulkhead, a retry budget) it takes through
 * `shared`, which carries the previous generation's across a reload while the settings that shape it are unchanged,
 * exports its gauges when its generation starts serving, and disposes of it once no serving generation holds it.
 */
import type { Logger } from 'pino';
import type { RoutePolicy } from '../config/policy.js';
import type { Layer } from '../core/exchange.js';
import type { Metrics } from '../telemetry/metrics.js';

export interface PolicyPart {
  readonly name: string;
  build(route: RouteContext): Layer | undefined;
}

export interface RouteContext {
  readonly policy: RoutePolicy;
  /** The layer of the bulkhead of the route's upstream (`upstream.pool`), which the upstream owns. */
  readonly upstreamBulkhead: Layer;
  readonly metrics: Metrics;
  readonly log: Logger;
  /**
   * The route's state under `key`: the previous generation's while `settings` are equal (normalized, in key order;
   * Sets and Maps by content), else a new one from `create`. Parts asking for one key with equal settings share one
   * state.
   */
  shared<T>(key: string, settings: object, create: () => SharedState<T>): T;
}

export interface SharedState<T> {
  readonly value: T;
  /** Its generation starts serving: export what it shows. */
  activate?(): void;
  /** No serving generation holds it any more. */
  dispose?(): void;
}
