// One policy, two homes: the Breakwater policy file for the proxy arms, and the AppPolicy the demo client applies in
// the app arms, derived from the SAME numbers so the comparison is about where resilience lives, not how much.
import { stringify } from 'yaml';
import type { AppPolicy } from '../demo-client/load.js';
import { parseDuration } from '../proxy/config/duration.js';
import type { SidecarPolicy, Topology } from './experiment.js';

const ms = (text: string): number => parseDuration(text)!; // validated when the experiment was loaded

export function appPolicyFrom(policy: SidecarPolicy): AppPolicy {
  const retry = policy.retry;
  const breaker = policy.circuitBreaker;
  return {
    timeoutMs: ms(retry?.perTryTimeout ?? policy.timeout),
    retry: retry
      ? { attempts: retry.attempts, baseMs: ms(retry.backoff.base), maxMs: ms(retry.backoff.max), jitter: retry.backoff.jitter }
      : { attempts: 1, baseMs: 0, maxMs: 0, jitter: 'none' },
    breaker: breaker
      ? {
          errorThresholdPercentage: breaker.errorThresholdPercentage,
          volumeThreshold: breaker.volumeThreshold,
          windowMs: ms(breaker.window),
          resetTimeoutMs: ms(breaker.resetTimeout),
          consecutiveFailures: breaker.consecutiveFailures,
        }
      : // No breaker in the policy: one that can never trip.
        { errorThresholdPercentage: 100, volumeThreshold: Number.MAX_SAFE_INTEGER, windowMs: 10_000, resetTimeoutMs: 10_000 },
  };
}

/** Breakwater's policy file: one route and one upstream per backend; ports 0 so the OS picks them. */
export function breakwaterConfigYaml(
  policy: SidecarPolicy,
  topology: Topology,
  endpointsOf: (backend: string) => string[],
): string {
  const { upstream, ...routePolicy } = policy;
  const backends = [...topology.backends].sort((a, b) => b.pathPrefix.length - a.pathPrefix.length);
  const config = {
    admin: { address: '127.0.0.1:0' },
    listeners: [
      {
        name: 'egress',
        address: '127.0.0.1:0',
        routes: backends.map((b) => ({ name: b.name, match: { pathPrefix: b.pathPrefix }, upstream: b.name, ...routePolicy })),
      },
    ],
    upstreams: topology.backends.map((b) => ({ name: b.name, endpoints: endpointsOf(b.name), ...upstream })),
    drain: { delay: '0s', timeout: '2s' },
  };
  return stringify(config, { aliasDuplicateObjects: false }); // plain YAML, no &anchors, for people reading it
}
