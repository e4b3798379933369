// The hostile soak's policy, in two variants that reloads alternate between, and the atomic rewrite that reloads it.
// Every variant has the same routes: "delayed" (fault.delay on a share of requests) and "api" (retries, a breaker, a
// route bulkhead) in front of the pooled upstream "backend", and "queued" in front of "narrow", whose pool is small
// enough that requests wait in its queue (and aborting clients leave it). A variant changes the upstreams' endpoints
// and pools and the breaker's settings, so every reload builds new pools and breakers while requests run.
import { renameSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { breakwaterConfig, pooledUpstream, realisticRoute } from '../targets/breakwater.js';

/**
 * Settings the proxy has defaults for, left out so that the run measures the defaults (listeners[].limits, the
 * top-level memory section). To measure other values, set them here: they go into every variant.
 */
const LISTENER_SETTINGS: Record<string, unknown> = {};
const TOP_LEVEL_SETTINGS: Record<string, unknown> = {};

/** Route bulkhead of "api": above what the stalled bodies can hold, so normal traffic keeps slots. */
export const ROUTE_MAX_CONCURRENT = 200;
export const FAULT_DELAY = { percent: 5, duration: '100ms' };
/** Requests under this prefix go to the narrow pool, where they queue. */
export const QUEUED_PREFIX = '/queued';

const VARIANTS = [
  {
    hosts: ['127.0.0.1'],
    pool: { maxConnections: 128, maxConcurrent: 256, maxPending: 256, queueTimeout: '1s' },
    narrowPool: { maxConnections: 2, maxConcurrent: 2, maxPending: 64, queueTimeout: '2s' },
    circuitBreaker: { errorThresholdPercentage: 50, volumeThreshold: 20, window: '10s', resetTimeout: '5s' },
  },
  {
    hosts: ['127.0.0.1', '127.0.0.2'],
    pool: { maxConnections: 96, maxConcurrent: 240, maxPending: 200, queueTimeout: '800ms' },
    narrowPool: { maxConnections: 3, maxConcurrent: 3, maxPending: 48, queueTimeout: '1500ms' },
    circuitBreaker: { errorThresholdPercentage: 60, volumeThreshold: 30, window: '5s', resetTimeout: '3s' },
  },
] as const;

/** Loopback addresses the upstream must listen on for every variant's endpoints. */
export const UPSTREAM_HOSTS = [...new Set(VARIANTS.flatMap((variant) => variant.hosts))];

/** Variant `index` (alternating: 0, 1, 0, ...) for an upstream on `port`. */
export function hostilePolicy(port: number, index: number): object {
  const variant = VARIANTS[index % VARIANTS.length]!;
  const delayed = { ...realisticRoute('delayed', '/delayed', 'backend'), fault: { delay: FAULT_DELAY } };
  const queued = realisticRoute('queued', QUEUED_PREFIX, 'narrow');
  const api = { ...realisticRoute('api', '/', 'backend'), circuitBreaker: variant.circuitBreaker, maxConcurrent: ROUTE_MAX_CONCURRENT };
  const endpoints = variant.hosts.map((host) => `${host}:${port}`);
  const upstreams = [pooledUpstream('backend', endpoints, variant.pool), pooledUpstream('narrow', endpoints, variant.narrowPool)];
  return {
    ...breakwaterConfig([delayed, queued, api], upstreams, LISTENER_SETTINGS),
    ...TOP_LEVEL_SETTINGS,
  };
}

/** Writes beside the file and renames over it, so the proxy's watcher never reads half a policy. */
export function rewritePolicy(file: string, policy: object): void {
  const next = `${file}.next`;
  writeFileSync(next, stringify(policy));
  renameSync(next, file);
}
