/**
 * Reads a policy file: YAML → schema check (ajv, every problem at once) → cross-reference checks → normalized Policy.
 * Every problem is reported as `path: message` with its line in the file, and nothing is half-accepted.
 */
import { readFile } from 'node:fs/promises';
import type { ErrorObject } from 'ajv';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { parseDuration } from './duration.js';
import { PolicyError } from './policy-error.js';
import { parseSize } from './size.js';
import { CaFiles } from './ca-file.js';
import { parseEndpoint, parseHostPort, parsePercentile } from './formats.js';
import { POLICY_DEFAULTS } from './generated/policy-defaults.js';
import { validatePolicyFile as validateSchema } from './generated/policy-validator.js';
import type { HedgeFile, ListenerHttp2File, ListenerLimitsFile, PolicyFile, RouteFile, UpstreamFile } from './generated/policy-types.js';
import type { Policy, RetryPolicy, RoutePolicy, UpstreamPolicy, BreakerPolicy, FallbackPolicy, ListenerLimits, HedgePolicy, ListenerHttp2 } from './policy.js';
import { failureConditions, retryConditions } from './conditions.js';
import { hasNoContent } from '../core/local-response.js';
import { schemaProblem } from './schema-problem.js';
import { speaksTls, upstreamTls, upstreamTlsProblems } from './upstream-tls.js';
import { documentValue, YamlValueError } from './yaml-value.js';

/** Every default, as the schema states it (generated/policy-defaults.ts): none is written down here. */
const D = POLICY_DEFAULTS;

/** Parses and validates policy text; throws PolicyError listing every problem. */
export function parsePolicy(text: string, source: string): Policy {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new PolicyError(
      source,
      doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return `line ${line}, column ${col}: invalid YAML: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  const raw = policyValue(doc, lines, source);
  const locate = (path: (string | number)[]) => lineOf(doc, lines, path);
  const valid = validateSchema(raw);
  const problems = valid ? [] : schemaProblems(validateSchema.errors ?? [], locate);
  const caFiles = new CaFiles();
  // Cross-references are checked even when the shape is wrong, so one run lists every problem; a shape too broken
  // to walk has already been reported above.
  try {
    for (const { path, message } of crossReferenceProblems(raw as PolicyFile, caFiles)) problems.push(`${locate(path)}${formatPath(path)}: ${message}`);
  } catch (err) {
    if (valid) throw err;
  }
  if (problems.length > 0 || !valid) throw new PolicyError(source, problems);
  return normalize(raw, source, caFiles);
}

/** The document's value, or a PolicyError naming the line of an alias that cannot be used (see yaml-value.ts). */
function policyValue(doc: Document.Parsed, lines: LineCounter, source: string): unknown {
  try {
    return documentValue(doc, lines);
  } catch (err) {
    if (err instanceof YamlValueError) throw new PolicyError(source, [err.message]);
    throw err;
  }
}

export async function loadPolicyFile(file: string): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new PolicyError(file, [`cannot read the policy file: ${(err as Error).message}`]);
  }
  return parsePolicy(text, file);
}

export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out || '(top level)';
}

function lineOf(doc: Document, lines: LineCounter, path: (string | number)[]): string {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) {
      const { line } = lines.linePos(node.range[0]);
      return `line ${line}: `;
    }
  }
  return '';
}

function schemaProblems(errors: ErrorObject[], locate: (path: (string | number)[]) => string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  // A union (anyOf) failing reports each branch; the branch errors say little, so keep the union's own message.
  const unionPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  for (const error of errors) {
    if (unionPaths.has(error.instancePath) && error.keyword !== 'anyOf') continue;
    // A key breaking propertyNames also reports the inner rule, without saying which key: its propertyNames error does.
    if (error.schemaPath.includes('/propertyNames/')) continue;
    const { path, message } = schemaProblem(error);
    const line = `${locate(path)}${formatPath(path)}: ${message}`;
    if (!seen.has(line)) {
      seen.add(line);
      out.push(line);
    }
  }
  // ajv reports unknown keys of an object before its known keys' problems: in file order they read top-down.
  const lineNumber = (problem: string) => Number(/^line (\d+)/.exec(problem)?.[1] ?? 0);
  return out.sort((a, b) => lineNumber(a) - lineNumber(b));
}

interface Problem {
  path: (string | number)[];
  message: string;
}

function crossReferenceProblems(file: PolicyFile, caFiles: CaFiles): Problem[] {
  const problems: Problem[] = [];
  const upstreams = new Set<string>();
  file.upstreams.forEach((u, i) => {
    if (upstreams.has(u.name)) problems.push({ path: ['upstreams', i, 'name'], message: `duplicate upstream name "${u.name}"` });
    upstreams.add(u.name);
    if ((u.endpoints === undefined) === (u.dns === undefined)) {
      problems.push({ path: ['upstreams', i], message: 'needs exactly one of endpoints or dns' });
    }
    const firstOf = new Map<string, number>();
    u.endpoints?.forEach((endpoint, j) => {
      const authority = parseEndpoint(endpoint)?.authority;
      if (authority === undefined) return;
      const first = firstOf.get(authority);
      if (first === undefined) firstOf.set(authority, j);
      else problems.push({ path: ['upstreams', i, 'endpoints', j], message: `the same endpoint as endpoints[${first}]: list each once` });
    });
    problems.push(...upstreamTlsProblems(u, ['upstreams', i], caFiles));
    problems.push(...protocolProblems(u, ['upstreams', i]));
    const od = u.outlierDetection;
    if (od?.maxEjectionTime !== undefined && parseDuration(od.maxEjectionTime)! < ms(od.baseEjectionTime, D.upstreams.outlierDetection.baseEjectionTimeMs)) {
      problems.push({ path: ['upstreams', i, 'outlierDetection', 'maxEjectionTime'], message: `must not be shorter than baseEjectionTime (default ${D.upstreams.outlierDetection.baseEjectionTimeMs / 1000}s)` });
    }
  });
  // A wildcard address takes its port on every address (on Linux `::` takes IPv4's too), whichever is claimed first.
  const claimed: Array<{ host: string; port: number; owner: string }> = [];
  const claim = (text: string, owner: string, path: (string | number)[]) => {
    const hp = parseHostPort(text);
    if (!hp || hp.port === 0) return;
    const other = claimed.find((c) => c.port === hp.port && (c.host === hp.host || WILDCARD_HOSTS.has(c.host) || WILDCARD_HOSTS.has(hp.host)));
    if (other) problems.push({ path, message: `address ${text} is already used by ${other.owner}` });
    else claimed.push({ host: hp.host, port: hp.port, owner });
  };
  if (file.admin) claim(file.admin.address, 'admin', ['admin', 'address']);
  const listenerNames = new Set<string>();
  // Route metrics (breaker state, retries, timeouts, route bulkheads) name a route by its name alone.
  const routeListeners = new Map<string, string>();
  file.listeners.forEach((listener, li) => {
    if (listenerNames.has(listener.name)) {
      problems.push({ path: ['listeners', li, 'name'], message: `duplicate listener name "${listener.name}"` });
    }
    listenerNames.add(listener.name);
    claim(listener.address, `listener "${listener.name}"`, ['listeners', li, 'address']);
    problems.push(...limitsProblems(listener.limits, ['listeners', li, 'limits']));
    problems.push(...http2Problems(listener.http2, ['listeners', li, 'http2']));
    listener.routes.forEach((route, ri) => {
      const at = ['listeners', li, 'routes', ri];
      const owner = routeListeners.get(route.name);
      if (owner === listener.name) problems.push({ path: [...at, 'name'], message: `duplicate route name "${route.name}"` });
      else if (owner !== undefined) {
        problems.push({
          path: [...at, 'name'],
          message: `route name "${route.name}" is taken by listener "${owner}": route names are unique across listeners, as metrics label a route by its name`,
        });
      } else routeListeners.set(route.name, listener.name);
      if (!upstreams.has(route.upstream)) {
        problems.push({ path: [...at, 'upstream'], message: `no upstream named "${route.upstream}"` });
      }
      if (route.match?.path !== undefined && route.match.pathPrefix !== undefined) {
        problems.push({ path: [...at, 'match'], message: 'use either path or pathPrefix, not both' });
      }
      problems.push(...grpcMatchProblems(route.match, [...at, 'match']));
      const backoff = route.retry?.backoff;
      if (backoff?.base && backoff.max && parseDuration(backoff.base)! > parseDuration(backoff.max)!) {
        problems.push({ path: [...at, 'retry', 'backoff', 'base'], message: 'must not be longer than backoff.max' });
      }
      if (route.fallback?.json !== undefined && route.fallback.body !== undefined) {
        problems.push({ path: [...at, 'fallback'], message: 'use either json or body, not both' });
      }
      const fallbackStatus = route.fallback?.status;
      if (fallbackStatus !== undefined && hasNoContent(fallbackStatus) && (route.fallback!.json !== undefined || route.fallback!.body !== undefined)) {
        problems.push({ path: [...at, 'fallback', 'status'], message: `a ${fallbackStatus} answer has no content: drop json and body, or answer another status` });
      }
      route.match?.methods?.forEach((method, m) => {
        if (method.toUpperCase() === 'CONNECT') {
          problems.push({ path: [...at, 'match', 'methods', m], message: 'CONNECT never reaches a route: Breakwater is no forward proxy (a tunnel is an Upgrade, see upgrade)' });
        }
      });
      const hedgeDelayMs = route.hedge ? parseDuration(route.hedge.delay) : undefined;
      if (hedgeDelayMs === 0) problems.push({ path: [...at, 'hedge', 'delay'], message: 'must be longer than 0' });
      if (hedgeDelayMs !== undefined && hedgeDelayMs >= ms(route.timeout, D.listeners.routes.timeoutMs)) {
        problems.push({ path: [...at, 'hedge', 'delay'], message: 'must be shorter than the route timeout, or no hedge is ever sent' });
      }
      const upstreamProtocol = file.upstreams.find((u) => u.name === route.upstream)?.protocol ?? D.upstreams.protocol;
      if (route.upgrade?.length && upstreamProtocol !== 'http1') {
        problems.push({
          path: [...at, 'upgrade'],
          message: `needs an http1 upstream: HTTP/2 has no Upgrade, and upstream "${route.upstream}" speaks ${upstreamProtocol}`,
        });
      }
      if (route.fallback && !route.circuitBreaker) {
        problems.push({ path: [...at, 'fallback'], message: 'a fallback needs a circuitBreaker on the same route' });
      }
    });
  });
  return problems;
}

/** Addresses that listen on every address of the host. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::']);
/** llhttp counts the request line too: below this, ordinary requests with a few headers would be refused. */
const MIN_HEADER_SIZE = 1024;

function limitsProblems(limits: ListenerLimitsFile | undefined, at: (string | number)[]): Problem[] {
  const problems: Problem[] = [];
  const size = limits?.maxHeaderSize === undefined ? undefined : parseSize(limits.maxHeaderSize);
  if (size !== undefined && size < MIN_HEADER_SIZE) problems.push({ path: [...at, 'maxHeaderSize'], message: 'must be at least 1KiB' });
  return problems;
}

/** A gRPC call's path is /<service>/<method>: a path or prefix beside `grpc` would say where it goes a second time. */
function grpcMatchProblems(match: RouteFile['match'], at: (string | number)[]): Problem[] {
  const grpc = match?.grpc;
  if (grpc === undefined) return [];
  const problems: Problem[] = [];
  if (grpc.service === undefined && grpc.method === undefined) problems.push({ path: [...at, 'grpc'], message: 'needs service, method or both' });
  for (const key of ['path', 'pathPrefix'] as const) {
    if (match?.[key] !== undefined) {
      problems.push({ path: [...at, key], message: `cannot be combined with match.grpc: a gRPC call's path is /<service>/<method>, which grpc already names` });
    }
  }
  return problems;
}

function protocolProblems(u: UpstreamFile, at: (string | number)[]): Problem[] {
  const problems: Problem[] = [];
  const protocol = u.protocol ?? D.upstreams.protocol;
  if (protocol === 'h2' && !speaksTls(u)) {
    problems.push({ path: [...at, 'protocol'], message: 'h2 is HTTP/2 over TLS: add a tls block or use https:// endpoints (h2c is HTTP/2 without TLS)' });
  }
  if (protocol === 'h2c' && speaksTls(u)) {
    problems.push({ path: [...at, 'protocol'], message: 'h2c is HTTP/2 without TLS, but this upstream uses TLS: use h2' });
  }
  if (protocol === 'http1' && u.pool?.maxStreamsPerConnection !== undefined) {
    problems.push({ path: [...at, 'pool', 'maxStreamsPerConnection'], message: 'applies to HTTP/2 only: set protocol to h2c or h2, or remove it' });
  }
  return problems;
}

/**
 * HTTP/2's own limits (RFC 9113 section 6.5.2: a window is at most 2^31-1, settings fit 32 bits) and a floor below
 * which ordinary requests would be refused (headers) or crawl through window updates (window).
 */
const HTTP2_SIZE_BOUNDS: ReadonlyArray<{ key: 'maxHeaderListSize' | 'initialWindowSize'; max: number }> = [
  { key: 'maxHeaderListSize', max: 2 ** 32 - 1 },
  { key: 'initialWindowSize', max: 2 ** 31 - 1 },
];

function http2Problems(http2: ListenerHttp2File | undefined, at: (string | number)[]): Problem[] {
  const problems: Problem[] = [];
  for (const { key, max } of HTTP2_SIZE_BOUNDS) {
    const size = http2?.[key] === undefined ? undefined : parseSize(http2[key]);
    if (size !== undefined && (size < 1024 || size > max)) problems.push({ path: [...at, key], message: `must be between 1KiB and ${max} bytes` });
  }
  return problems;
}

const ms = (text: string | undefined, fallback: number): number => (text === undefined ? fallback : parseDuration(text)!);
const bytes = (size: string | number | undefined, fallback: number): number => (size === undefined ? fallback : parseSize(size)!);

function normalizeLimits(limits: ListenerLimitsFile | undefined): ListenerLimits {
  const d = D.listeners.limits;
  return {
    headersTimeoutMs: ms(limits?.headersTimeout, d.headersTimeoutMs),
    requestBodyTimeoutMs: ms(limits?.requestBodyTimeout, d.requestBodyTimeoutMs),
    idleTimeoutMs: ms(limits?.idleTimeout, d.idleTimeoutMs),
    maxConnections: limits?.maxConnections ?? d.maxConnections,
    maxHeaderSizeBytes: bytes(limits?.maxHeaderSize, d.maxHeaderSizeBytes),
  };
}

function normalizeHttp2(http2: ListenerHttp2File | undefined): ListenerHttp2 {
  const d = D.listeners.http2;
  return {
    enabled: http2?.enabled ?? d.enabled,
    maxConcurrentStreams: http2?.maxConcurrentStreams ?? d.maxConcurrentStreams,
    maxHeaderListSizeBytes: bytes(http2?.maxHeaderListSize, d.maxHeaderListSizeBytes),
    initialWindowSizeBytes: bytes(http2?.initialWindowSize, d.initialWindowSizeBytes),
  };
}

function normalize(file: PolicyFile, source: string, caFiles: CaFiles): Policy {
  return {
    source,
    document: file,
    admin: { address: parseHostPort(file.admin?.address ?? D.admin.address)! },
    listeners: file.listeners.map((l) => ({
      name: l.name,
      address: parseHostPort(l.address)!,
      limits: normalizeLimits(l.limits),
      http2: normalizeHttp2(l.http2),
      trustForwarded: l.trustForwarded ?? D.listeners.trustForwarded,
      routes: l.routes.map((r) => normalizeRoute(r, l.name)),
    })),
    upstreams: file.upstreams.map((u) => normalizeUpstream(u, caFiles)),
    drain: { delayMs: ms(file.drain?.delay, D.drain.delayMs), timeoutMs: ms(file.drain?.timeout, D.drain.timeoutMs) },
    log: { level: process.env.BREAKWATER_LOG_LEVEL ?? file.log?.level ?? D.log.level },
    memory: { replayBuffersBytes: bytes(file.memory?.replayBuffers, D.memory.replayBuffersBytes) },
  };
}

function normalizeRetry(retry: RouteFile['retry']): RetryPolicy {
  const d = D.listeners.routes.retry;
  const baseMs = ms(retry?.backoff?.base, d.backoff.baseMs);
  return {
    attempts: retry?.attempts ?? d.attempts,
    perTryTimeoutMs: retry?.perTryTimeout === undefined ? undefined : parseDuration(retry.perTryTimeout),
    on: retryConditions(retry?.on ?? d.on),
    backoff: {
      baseMs,
      maxMs: ms(retry?.backoff?.max, Math.max(d.backoff.maxMs, baseMs)),
      jitter: retry?.backoff?.jitter ?? d.backoff.jitter,
    },
    budget: {
      ratio: retry?.budget?.ratio ?? d.budget.ratio,
      minPerSecond: retry?.budget?.minPerSecond ?? d.budget.minPerSecond,
      windowMs: ms(retry?.budget?.window, d.budget.windowMs),
    },
    maxReplayBodyBytes: bytes(retry?.maxReplayBody, d.maxReplayBodyBytes),
  };
}

function normalizeBreaker(cb: NonNullable<RouteFile['circuitBreaker']>): BreakerPolicy {
  const d = D.listeners.routes.circuitBreaker;
  return {
    errorThresholdPercentage: cb.errorThresholdPercentage ?? d.errorThresholdPercentage,
    volumeThreshold: cb.volumeThreshold ?? d.volumeThreshold,
    windowMs: ms(cb.window, d.windowMs),
    resetTimeoutMs: ms(cb.resetTimeout, d.resetTimeoutMs),
    halfOpenRequests: cb.halfOpenRequests ?? d.halfOpenRequests,
    consecutiveFailures: cb.consecutiveFailures,
    failOn: failureConditions(cb.failOn ?? d.failOn),
  };
}

function normalizeFallback(fb: NonNullable<RouteFile['fallback']>): FallbackPolicy {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(fb.headers ?? {})) headers[k.toLowerCase()] = v;
  let body = Buffer.alloc(0);
  if (fb.json !== undefined) {
    body = Buffer.from(JSON.stringify(fb.json));
    headers['content-type'] ??= 'application/json';
  } else if (fb.body !== undefined) {
    body = Buffer.from(fb.body);
    headers['content-type'] ??= 'text/plain; charset=utf-8';
  }
  return { status: fb.status ?? D.listeners.routes.fallback.status, headers, body };
}

/** A hedge waits a fixed delay or the route's latency percentile: exactly one of the two is set. */
function normalizeHedge(hedge: HedgeFile): HedgePolicy {
  const percentile = parsePercentile(hedge.delay);
  return {
    ...(percentile === undefined ? { delayMs: parseDuration(hedge.delay)! } : { percentile }),
    maxAttempts: hedge.maxAttempts ?? D.listeners.routes.hedge.maxAttempts,
  };
}

function normalizeRoute(r: RouteFile, listener: string): RoutePolicy {
  const match = r.match ?? {};
  return {
    name: r.name,
    listener,
    match: {
      pathPrefix: match.path === undefined && match.grpc === undefined ? (match.pathPrefix ?? D.listeners.routes.match.pathPrefix) : undefined,
      path: match.path,
      grpc: match.grpc,
      methods: match.methods ? new Set(match.methods.map((m) => m.toUpperCase())) : undefined,
      headers: match.headers ? Object.entries(match.headers).map(([k, v]) => [k.toLowerCase(), v] as const) : undefined,
    },
    upstream: r.upstream,
    timeoutMs: ms(r.timeout, D.listeners.routes.timeoutMs),
    retry: normalizeRetry(r.retry),
    circuitBreaker: r.circuitBreaker ? normalizeBreaker(r.circuitBreaker) : undefined,
    fallback: r.fallback ? normalizeFallback(r.fallback) : undefined,
    maxConcurrent: r.maxConcurrent,
    fault: r.fault
      ? {
          delay: r.fault.delay ? { percent: r.fault.delay.percent, durationMs: parseDuration(r.fault.delay.duration)! } : undefined,
          abort: r.fault.abort,
        }
      : undefined,
    hedge: r.hedge ? normalizeHedge(r.hedge) : undefined,
    upgrade: new Set(r.upgrade ?? D.listeners.routes.upgrade),
    tunnelIdleTimeoutMs: ms(r.tunnelIdleTimeout, D.listeners.routes.tunnelIdleTimeoutMs),
  };
}

/** Envoy's defaults, but for maxEjectionPercent (Envoy: 10%). */
function normalizeOutlierDetection(od: UpstreamFile['outlierDetection']): UpstreamPolicy['outlierDetection'] {
  const d = D.upstreams.outlierDetection;
  const baseEjectionTimeMs = ms(od?.baseEjectionTime, d.baseEjectionTimeMs);
  return {
    consecutiveFailures: od?.consecutiveFailures ?? d.consecutiveFailures,
    baseEjectionTimeMs,
    // A base above the default cap, with no cap given, is taken as the cap (as Envoy does).
    maxEjectionTimeMs: Math.max(baseEjectionTimeMs, ms(od?.maxEjectionTime, d.maxEjectionTimeMs)),
    decayIntervalMs: ms(od?.decayInterval, d.decayIntervalMs),
    maxEjectionPercent: od?.maxEjectionPercent ?? d.maxEjectionPercent,
  };
}

/** What a client addressing the service by name would send as Host: the name, and the port unless it is the default. */
function serviceAuthority(name: string, port: number, tls: boolean): string {
  return port === (tls ? 443 : 80) ? name : `${name}:${port}`;
}

function normalizeUpstream(u: UpstreamFile, caFiles: CaFiles): UpstreamPolicy {
  const d = D.upstreams;
  const tls = upstreamTls(u, caFiles);
  return {
    name: u.name,
    endpoints: u.endpoints ?? [],
    dns: u.dns ? { name: u.dns.name, port: u.dns.port, refreshMs: ms(u.dns.refresh, d.dns.refreshMs), timeoutMs: ms(u.dns.timeout, d.dns.timeoutMs) } : undefined,
    host: u.host ?? (u.dns ? serviceAuthority(u.dns.name, u.dns.port, tls !== undefined) : undefined),
    tls,
    protocol: u.protocol ?? d.protocol,
    connectTimeoutMs: ms(u.connectTimeout, d.connectTimeoutMs),
    idleTimeoutMs: ms(u.idleTimeout, d.idleTimeoutMs),
    pool: {
      maxConnections: u.pool?.maxConnections ?? d.pool.maxConnections,
      maxConcurrent: u.pool?.maxConcurrent ?? d.pool.maxConcurrent,
      maxPending: u.pool?.maxPending ?? d.pool.maxPending,
      queueTimeoutMs: ms(u.pool?.queueTimeout, d.pool.queueTimeoutMs),
      maxStreamsPerConnection: u.pool?.maxStreamsPerConnection ?? d.pool.maxStreamsPerConnection,
    },
    loadBalancing: u.loadBalancing ?? d.loadBalancing,
    outlierDetection: normalizeOutlierDetection(u.outlierDetection),
    healthCheck: u.healthCheck
      ? {
          path: u.healthCheck.path,
          intervalMs: ms(u.healthCheck.interval, d.healthCheck.intervalMs),
          timeoutMs: ms(u.healthCheck.timeout, d.healthCheck.timeoutMs),
          unhealthyThreshold: u.healthCheck.unhealthyThreshold ?? d.healthCheck.unhealthyThreshold,
          healthyThreshold: u.healthCheck.healthyThreshold ?? d.healthCheck.healthyThreshold,
        }
      : undefined,
    // The CA's contents too: a reload after the file was replaced builds new pools that trust it.
    fingerprint: JSON.stringify({ file: u, ca: tls?.ca }),
  };
}
