// What each arm runs with, derived from the experiment's one sidecar policy: the client settings (the app arm's
// resilience, or the plain client's request timeout), the sidecar policy for arms that have one, and the notes on
// where the arms are not equivalent beyond where resilience lives.
import { stringify } from 'yaml';
import { appServiceConfig, type ServiceConfig } from '../../demo-client/grpc/service-config.js';
import type { ClientSettings } from '../runner/arm-runner.js';
import type { ArmSpec, Experiment } from './experiment.js';
import { policyForArm } from './experiment-file.js';
import { appPolicyFrom, resolvePolicy, type ResolvedPolicy } from './policy.js';
import type { ArmSettings } from '../results.js';

export interface ArmSetup {
  client: ClientSettings;
  settings: ArmSettings;
  /** File name (relative to the run folder) -> content. */
  files: Map<string, string>;
}

const SIDECAR_GRACE_MS = 1000;

export const usesApp = (arm: ArmSpec): boolean => arm.base === 'app' || arm.base === 'app+proxy';
export const usesSidecar = (arm: ArmSpec): boolean => arm.base === 'proxy' || arm.base === 'app+proxy';

/** The plain client's request timeout: the experiment's clientTimeout, or the sidecar route's overall timeout. */
export function clientTimeoutMs(experiment: Experiment, resolved: ResolvedPolicy): number {
  return experiment.load.clientTimeoutMs ?? resolved.route.timeoutMs;
}

export function armSetup(experiment: Experiment, arm: ArmSpec): ArmSetup {
  const policy = policyForArm(experiment, arm.name);
  const resolved = resolvePolicy(policy, experiment.topology);
  // Behind a sidecar the plain client waits a second longer than the route, so the sidecar's own answer (504,
  // fallback) arrives first; the sidecar still ends the call at the route timeout.
  const timeoutMs = clientTimeoutMs(experiment, resolved) + (usesSidecar(arm) ? SIDECAR_GRACE_MS : 0);
  const appPolicy = usesApp(arm) ? appPolicyFrom(resolved) : undefined;
  const safe = arm.name.replace(/[^a-z0-9-]/gi, '_');
  const files = new Map<string, string>();
  const clientFile = `arms/${safe}.client.json`;
  const grpc = experiment.protocol === 'grpc';
  // A gRPC app arm runs grpc-js's own resilience: the service config it is given is what it runs with.
  const serviceConfig = grpc && appPolicy ? appServiceConfig(appPolicy, serviceOf(experiment)) : undefined;
  const clientSettings = appPolicy ? { mode: 'app', appPolicy, ...(serviceConfig ? { serviceConfig } : {}) } : { mode: 'plain', requestTimeoutMs: timeoutMs };
  files.set(clientFile, `${JSON.stringify(clientSettings, null, 2)}\n`);
  let sidecar: string | undefined;
  if (usesSidecar(arm)) {
    const sidecarFile = `arms/${safe}.sidecar-policy.yaml`;
    files.set(sidecarFile, `# The route and upstream policy of every route of this arm's Breakwater (endpoints are filled in per run).\n${stringify(policy)}`);
    sidecar = describeSidecar(resolved);
  }
  return {
    client: appPolicy ? { appPolicy, requestTimeoutMs: timeoutMs } : { requestTimeoutMs: timeoutMs },
    settings: {
      client: appPolicy
        ? (serviceConfig ? describeGrpcApp(serviceConfig) : describeApp(appPolicy))
        : grpc ? `plain grpc-js client, ${seconds(timeoutMs)} deadline, no retries` : `plain HTTP client, ${seconds(timeoutMs)} request timeout, no retries`,
      ...(sidecar ? { sidecar } : {}),
      files: [...files.keys()],
      breaker: (appPolicy !== undefined || sidecar !== undefined) && resolved.route.circuitBreaker !== undefined,
    },
    files,
  };
}

function describeApp(policy: NonNullable<ReturnType<typeof appPolicyFrom>>): string {
  const { retry } = policy;
  const budget = retry.budget ? `, retry budget ${retry.budget.ratio} (+${retry.budget.minPerSecond}/s)` : '';
  const breaker = policy.breaker.volumeThreshold === Number.MAX_SAFE_INTEGER ? 'no breaker' : 'opossum breaker';
  return `app resilience: ${seconds(policy.deadlineMs ?? policy.timeoutMs)} deadline, ${retry.attempts} attempts of ${seconds(policy.timeoutMs)}, ` +
    `backoff ${retry.baseMs}-${retry.maxMs} ms ${retry.jitter} jitter, Retry-After honoured${budget}, ${breaker}`;
}

/** The service named by the first load stream's path (`/package.Service/Method`). */
function serviceOf(experiment: Experiment): string {
  return experiment.load.streams[0]!.path.split('/')[1]!;
}

function describeGrpcApp(config: ServiceConfig): string {
  const { retryPolicy: retry, timeout } = config.methodConfig[0]!;
  const retries = retry
    ? `${retry.maxAttempts} attempts on ${retry.retryableStatusCodes.join(', ')}, backoff ${parseFloat(retry.initialBackoff) * 1000}-${parseFloat(retry.maxBackoff) * 1000} ms`
    : 'no retries';
  return `grpc-js service config: round_robin over every replica, ${retries}, ${parseFloat(timeout)} s deadline`;
}

function describeSidecar({ route, upstream }: ResolvedPolicy): string {
  const parts = [`${seconds(route.timeoutMs)} route timeout`, `${route.retry.attempts} attempts`];
  if (route.retry.perTryTimeoutMs !== undefined) parts[1] += ` of ${seconds(route.retry.perTryTimeoutMs)}`;
  if (route.retry.attempts > 1) parts.push(`retry budget ${route.retry.budget.ratio} (+${route.retry.budget.minPerSecond}/s)`);
  if (route.circuitBreaker) parts.push('breaker');
  if (route.maxConcurrent !== undefined) parts.push(`bulkhead ${route.maxConcurrent}`);
  if (upstream.healthCheck) parts.push('health checks');
  parts.push('outlier ejection');
  return `Breakwater: ${parts.join(', ')}`;
}

const seconds = (ms: number): string => `${ms / 1000} s`;

/** Differences between the arms other than where resilience lives, one sentence each. */
export function notEquivalentNotes(experiment: Experiment): string[] {
  const notes: string[] = [];
  const sidecarArms = experiment.arms.filter(usesSidecar);
  const directArms = experiment.arms.filter((arm) => !usesSidecar(arm));
  if (sidecarArms.length === 0) return notes;
  const { route, upstream } = resolvePolicy(policyForArm(experiment, sidecarArms[0]!.name), experiment.topology);
  const appArms = experiment.arms.filter((arm) => arm.base === 'app');
  if (experiment.protocol === 'grpc' && appArms.length > 0) {
    notes.push(
      `gRPC app arm: grpc-js balances round_robin over every replica address itself (as with a headless Service) and ` +
        `retries on the route's gRPC status codes; it has no per-attempt timeout (a call to a frozen replica waits for the deadline), ` +
        `no retry budget and no breaker.`,
    );
  }
  const serviceArms = directArms.filter((arm) => !(experiment.protocol === 'grpc' && arm.base === 'app'));
  if (serviceArms.length > 0) {
    notes.push(
      `Endpoint choice: ${serviceArms.map((a) => a.name).join(', ')} call the Service address (balanced per connection; an ` +
        `endpoint leaves it only when the Service drops it: after failed readiness probes, or for a lost node once the ` +
        `node is declared lost); the sidecar is given every pod address and ejects ` +
        `endpoints itself (outlier detection${upstream.healthCheck ? ', active health checks' : ''}), as an app could only with a client-side load balancer.`,
    );
  }
  if (appArms.length > 0) {
    if (route.maxConcurrent !== undefined) notes.push(`Bulkhead: the app arm has none; the sidecar caps the route at ${route.maxConcurrent} requests in flight.`);
    if (route.fallback) notes.push(`Fallback: the sidecar answers an open breaker with its fallback (status ${route.fallback.status}); the app arm fails the call.`);
    if (route.circuitBreaker && route.circuitBreaker.halfOpenRequests !== 1) {
      notes.push(`Half-open probes: opossum lets one call through; the sidecar lets ${route.circuitBreaker.halfOpenRequests}.`);
    }
  }
  return notes;
}
