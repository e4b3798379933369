// One policy, two homes: the Breakwater policy file for the proxy arms, and the AppPolicy the demo client applies in
// the app arms. Both come from Breakwater's own reading of the policy (parsePolicy), defaults included, so the
// comparison is about where resilience lives, not how much of it there is, and the experiment files are checked by
// the same validator the sidecar runs.
import { stringify } from 'yaml';
import type { AppPolicy } from '../../demo-client/load.js';
import { parsePolicy } from '../../proxy/config/load.js';
import type { RoutePolicy, UpstreamPolicy } from '../../proxy/config/policy.js';
import { PolicyError } from '../../proxy/config/policy-error.js';
import type { SidecarPolicy, Topology } from './experiment.js';

/** The sidecar policy as Breakwater reads it: the first route's settings and the first upstream's. */
export interface ResolvedPolicy {
  route: RoutePolicy;
  upstream: UpstreamPolicy;
}

/** Endpoints used when the real ones are not known yet (validation): any valid address does. */
const PLACEHOLDER_ENDPOINT = '127.0.0.1:9';

/**
 * Validates `policy` with Breakwater's parser, through the file the runner would write. Problems are returned with
 * their path in the experiment file (`policy.retry.attempts: ...`), under `at` (e.g. `policy`, `arms[2].policy(merged)`).
 */
export function policyProblems(policy: SidecarPolicy, topology: Topology, at: string): string[] {
  try {
    parsePolicy(breakwaterConfigYaml(policy, topology, () => [PLACEHOLDER_ENDPOINT]), at);
    return [];
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    return [...new Set(error.problems.map((problem) => experimentPath(problem, at)))];
  }
}

/** `line 9: listeners[0].routes[1].retry.attempts: ...` -> `policy.retry.attempts: ...`. */
function experimentPath(problem: string, at: string): string {
  return problem
    .replace(/^line \d+(:\d+)?: /, '')
    .replace(/^listeners\[0\]\.routes\[\d+\]\.?/, `${at}.`)
    .replace(/^upstreams\[\d+\]\.?/, `${at}.upstream.`)
    .replace(/\.: /, ': ');
}

/** Breakwater's reading of a policy the experiment reader already validated. */
export function resolvePolicy(policy: SidecarPolicy, topology: Topology): ResolvedPolicy {
  const parsed = parsePolicy(breakwaterConfigYaml(policy, topology, () => [PLACEHOLDER_ENDPOINT]), 'sidecar policy');
  return { route: parsed.listeners[0]!.routes[0]!, upstream: parsed.upstreams[0]! };
}

/** The app arm's client settings: the sidecar's route policy, applied by the application itself. */
export function appPolicyFrom({ route }: ResolvedPolicy): AppPolicy {
  const { retry } = route;
  const breaker = route.circuitBreaker;
  return {
    timeoutMs: retry.perTryTimeoutMs ?? route.timeoutMs,
    deadlineMs: route.timeoutMs,
    retry: {
      attempts: retry.attempts,
      baseMs: retry.backoff.baseMs,
      maxMs: retry.backoff.maxMs,
      jitter: retry.backoff.jitter,
      // Arrays, not the parser's sets: the policy travels as JSON to a load agent and into arms/<arm>.client.json.
      on: { ...retry.on, statuses: [...retry.on.statuses], grpcCodes: [...retry.on.grpcCodes] },
      budget: { ...retry.budget },
    },
    breaker: breaker
      ? {
          errorThresholdPercentage: breaker.errorThresholdPercentage,
          volumeThreshold: breaker.volumeThreshold,
          windowMs: breaker.windowMs,
          resetTimeoutMs: breaker.resetTimeoutMs,
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
  const upstreamSettings = (upstream ?? {}) as Record<string, unknown>;
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
    // gRPC replicas speak HTTP/2 without TLS (prior knowledge), as the runner starts them.
    upstreams: topology.backends.map((b) => ({
      name: b.name, endpoints: endpointsOf(b.name), ...(b.protocol === 'grpc' ? { protocol: 'h2c' } : {}), ...upstreamSettings,
    })),
    drain: { delay: '0s', timeout: '2s' },
  };
  return stringify(config, { aliasDuplicateObjects: false }); // plain YAML, no &anchors, for people reading it
}
