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
import { FORMAT_HINTS, parseHostPort } from './formats.js';
import { validatePolicyFile } from './policy-validator.js';
import type { ListenerLimitsFile, PolicyFile, RouteFile, UpstreamFile, RetryCondition } from './schema.js';
import type { Policy, RetryPolicy, RoutePolicy, UpstreamPolicy, BreakerPolicy, FallbackPolicy, ListenerLimits } from './policy.js';
import { upstreamTls, upstreamTlsProblems } from './upstream-tls.js';
import { documentValue, YamlValueError } from './yaml-value.js';

/** The schema check: ajv's standalone code, generated from schema.ts by generate-validator.ts. */
const validateSchema = validatePolicyFile as { (data: unknown): data is PolicyFile; errors?: ErrorObject[] | null };

/** Parses and validates policy text; throws PolicyError listing every problem. */
export function parsePolicy(text: string, source: string): Policy {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new PolicyError(
      source,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return `${pos ? `line ${pos.line}:${pos.col}: ` : ''}invalid YAML: ${e.message.split('\n')[0]}`;
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
    const path = error.instancePath
      .split('/')
      .slice(1)
      .map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~')));
    let message: string;
    if (error.keyword === 'additionalProperties') {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      path.push(key);
      message = 'unknown key';
    } else if (error.keyword === 'required') {
      path.push(String((error.params as { missingProperty: string }).missingProperty));
      message = 'is required';
    } else if (error.keyword === 'format') {
      message = FORMAT_HINTS[(error.params as { format: keyof typeof FORMAT_HINTS }).format] ?? error.message ?? 'bad format';
    } else if (unionPaths.has(error.instancePath) && error.keyword !== 'anyOf') {
      continue;
    } else if (error.keyword === 'anyOf') {
      message = unionHint(error) ?? 'is not one of the allowed values';
    } else if (error.keyword === 'pattern') {
      message = 'has characters that are not allowed here';
    } else {
      message = error.message ?? 'is invalid';
    }
    const line = `${locate(path)}${formatPath(path)}: ${message}`;
    if (!seen.has(line)) {
      seen.add(line);
      out.push(line);
    }
  }
  return out;
}

function unionHint(error: ErrorObject): string | undefined {
  const branches = (error.parentSchema as { anyOf?: Array<{ const?: unknown; type?: string }> } | undefined)?.anyOf;
  if (!branches) return undefined;
  const literals = branches.filter((b) => b.const !== undefined).map((b) => JSON.stringify(b.const));
  const others = branches.filter((b) => b.const === undefined).map((b) => (b.type === 'integer' ? 'a status code' : b.type));
  return `must be one of ${[...literals, ...others].join(', ')}`;
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
    problems.push(...upstreamTlsProblems(u, ['upstreams', i], caFiles));
    for (const key of ['refresh', 'timeout'] as const) {
      if (u.dns?.[key] !== undefined && parseDuration(u.dns[key]) === 0) {
        problems.push({ path: ['upstreams', i, 'dns', key], message: 'must be longer than 0' });
      }
    }
    const od = u.outlierDetection;
    for (const key of ['baseEjectionTime', 'decayInterval'] as const) {
      if (od?.[key] !== undefined && parseDuration(od[key]) === 0) {
        problems.push({ path: ['upstreams', i, 'outlierDetection', key], message: 'must be longer than 0' });
      }
    }
    if (od?.maxEjectionTime !== undefined && parseDuration(od.maxEjectionTime)! < ms(od.baseEjectionTime, DEFAULT_BASE_EJECTION_MS)) {
      problems.push({ path: ['upstreams', i, 'outlierDetection', 'maxEjectionTime'], message: 'must not be shorter than baseEjectionTime (default 30s)' });
    }
  });
  const addresses = new Map<string, string>();
  const claim = (text: string, owner: string, path: (string | number)[]) => {
    const hp = parseHostPort(text);
    if (!hp || hp.port === 0) return;
    const key = `${hp.host}:${hp.port}`;
    const other = addresses.get(key) ?? addresses.get(`0.0.0.0:${hp.port}`);
    if (other) problems.push({ path, message: `address ${text} is already used by ${other}` });
    else addresses.set(key, owner);
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
      const backoff = route.retry?.backoff;
      if (backoff?.base && backoff.max && parseDuration(backoff.base)! > parseDuration(backoff.max)!) {
        problems.push({ path: [...at, 'retry', 'backoff', 'base'], message: 'must not be longer than backoff.max' });
      }
      if (route.fallback?.json !== undefined && route.fallback.body !== undefined) {
        problems.push({ path: [...at, 'fallback'], message: 'use either json or body, not both' });
      }
      if (route.fallback && !route.circuitBreaker) {
        problems.push({ path: [...at, 'fallback'], message: 'a fallback needs a circuitBreaker on the same route' });
      }
    });
  });
  return problems;
}

/** A limit of 0 would switch Node's own check off, which is never what a limit in the policy file means. */
const LIMIT_DURATIONS = ['headersTimeout', 'requestBodyTimeout', 'idleTimeout'] as const;
/** llhttp counts the request line too: below this, ordinary requests with a few headers would be refused. */
const MIN_HEADER_SIZE = 1024;

function limitsProblems(limits: ListenerLimitsFile | undefined, at: (string | number)[]): Problem[] {
  const problems: Problem[] = [];
  for (const key of LIMIT_DURATIONS) {
    const text = limits?.[key];
    if (text !== undefined && parseDuration(text) === 0) problems.push({ path: [...at, key], message: 'must be longer than 0' });
  }
  const size = limits?.maxHeaderSize === undefined ? undefined : parseSize(limits.maxHeaderSize);
  if (size !== undefined && size < MIN_HEADER_SIZE) problems.push({ path: [...at, 'maxHeaderSize'], message: 'must be at least 1KiB' });
  return problems;
}

const ms = (text: string | undefined, fallback: number): number => (text === undefined ? fallback : parseDuration(text)!);

function normalizeLimits(limits: ListenerLimitsFile | undefined): ListenerLimits {
  return {
    headersTimeoutMs: ms(limits?.headersTimeout, 10_000),
    requestBodyTimeoutMs: ms(limits?.requestBodyTimeout, 30_000),
    idleTimeoutMs: ms(limits?.idleTimeout, 65_000),
    maxConnections: limits?.maxConnections ?? 4096,
    maxHeaderSizeBytes: limits?.maxHeaderSize === undefined ? 16 * 1024 : parseSize(limits.maxHeaderSize)!,
  };
}

function normalize(file: PolicyFile, source: string, caFiles: CaFiles): Policy {
  return {
    source,
    document: file,
    admin: { address: parseHostPort(file.admin?.address ?? '127.0.0.1:9901')! },
    listeners: file.listeners.map((l) => ({
      name: l.name,
      address: parseHostPort(l.address)!,
      limits: normalizeLimits(l.limits),
      trustForwarded: l.trustForwarded ?? false,
      routes: l.routes.map((r) => normalizeRoute(r, l.name)),
    })),
    upstreams: file.upstreams.map((u) => normalizeUpstream(u, caFiles)),
    drain: { delayMs: ms(file.drain?.delay, 5000), timeoutMs: ms(file.drain?.timeout, 30_000) },
    log: { level: process.env.BREAKWATER_LOG_LEVEL ?? file.log?.level ?? 'info' },
    memory: { replayBuffersBytes: file.memory?.replayBuffers === undefined ? 64 * 1024 * 1024 : parseSize(file.memory.replayBuffers)! },
  };
}

/** With no `retry` block a route makes one attempt; with one, these are the defaults (Envoy's and Linkerd's). */
const DEFAULT_RETRY_ON: RetryCondition[] = ['connect-failure', 'reset', 502, 503, 504];

function normalizeRetry(retry: RouteFile['retry']): RetryPolicy {
  const on = retry?.on ?? DEFAULT_RETRY_ON;
  const statuses = new Set<number>();
  for (const c of on) {
    if (typeof c === 'number') statuses.add(c);
    else if (c === '5xx') for (let s = 500; s < 600; s++) statuses.add(s);
    else if (c === 'gateway-error') [502, 503, 504].forEach((s) => statuses.add(s));
  }
  return {
    attempts: retry?.attempts ?? 1,
    perTryTimeoutMs: retry?.perTryTimeout === undefined ? undefined : parseDuration(retry.perTryTimeout),
    on: {
      statuses,
      connectFailure: on.includes('connect-failure'),
      reset: on.includes('reset'),
      timeout: on.includes('timeout'),
    },
    backoff: {
      baseMs: ms(retry?.backoff?.base, 25),
      maxMs: ms(retry?.backoff?.max, Math.max(250, ms(retry?.backoff?.base, 25))),
      jitter: retry?.backoff?.jitter ?? 'full',
    },
    budget: {
      ratio: retry?.budget?.ratio ?? 0.2,
      minPerSecond: retry?.budget?.minPerSecond ?? 10,
      windowMs: ms(retry?.budget?.window, 10_000),
    },
    maxReplayBodyBytes: retry?.maxReplayBody === undefined ? 64 * 1024 : parseSize(retry.maxReplayBody)!,
  };
}

function normalizeBreaker(cb: NonNullable<RouteFile['circuitBreaker']>): BreakerPolicy {
  return {
    errorThresholdPercentage: cb.errorThresholdPercentage ?? 50,
    volumeThreshold: cb.volumeThreshold ?? 10,
    windowMs: ms(cb.window, 10_000),
    resetTimeoutMs: ms(cb.resetTimeout, 5000),
    halfOpenRequests: cb.halfOpenRequests ?? 1,
    consecutiveFailures: cb.consecutiveFailures,
    failOn: cb.failOn ?? ['5xx', 'timeout', 'connect-failure', 'reset'],
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
  return { status: fb.status ?? 503, headers, body };
}

function normalizeRoute(r: RouteFile, listener: string): RoutePolicy {
  const match = r.match ?? {};
  return {
    name: r.name,
    listener,
    match: {
      pathPrefix: match.path === undefined ? (match.pathPrefix ?? '/') : undefined,
      path: match.path,
      methods: match.methods ? new Set(match.methods.map((m) => m.toUpperCase())) : undefined,
      headers: match.headers ? Object.entries(match.headers).map(([k, v]) => [k.toLowerCase(), v] as const) : undefined,
    },
    upstream: r.upstream,
    timeoutMs: ms(r.timeout, 15_000),
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
    hedge: r.hedge
      ? {
          ...(r.hedge.delay.startsWith('p') ? { percentile: Number(r.hedge.delay.slice(1)) } : { delayMs: parseDuration(r.hedge.delay)! }),
          maxAttempts: r.hedge.maxAttempts ?? 2,
        }
      : undefined,
    fingerprint: JSON.stringify(r),
  };
}

const DEFAULT_BASE_EJECTION_MS = 30_000;

/** Envoy's defaults, but for maxEjectionPercent (Envoy: 10%). */
function normalizeOutlierDetection(od: UpstreamFile['outlierDetection']): UpstreamPolicy['outlierDetection'] {
  const baseEjectionTimeMs = ms(od?.baseEjectionTime, DEFAULT_BASE_EJECTION_MS);
  return {
    consecutiveFailures: od?.consecutiveFailures ?? 5,
    baseEjectionTimeMs,
    // A base above the default cap, with no cap given, is taken as the cap (as Envoy does).
    maxEjectionTimeMs: Math.max(baseEjectionTimeMs, ms(od?.maxEjectionTime, 300_000)),
    decayIntervalMs: ms(od?.decayInterval, 10_000),
    maxEjectionPercent: od?.maxEjectionPercent ?? 50,
  };
}

/** What a client addressing the service by name would send as Host: the name, and the port unless it is the default. */
function serviceAuthority(name: string, port: number, tls: boolean): string {
  return port === (tls ? 443 : 80) ? name : `${name}:${port}`;
}

function normalizeUpstream(u: UpstreamFile, caFiles: CaFiles): UpstreamPolicy {
  const tls = upstreamTls(u, caFiles);
  return {
    name: u.name,
    endpoints: u.endpoints ?? [],
    dns: u.dns ? { name: u.dns.name, port: u.dns.port, refreshMs: ms(u.dns.refresh, 5000), timeoutMs: ms(u.dns.timeout, 5000) } : undefined,
    host: u.host ?? (u.dns ? serviceAuthority(u.dns.name, u.dns.port, tls !== undefined) : undefined),
    tls,
    connectTimeoutMs: ms(u.connectTimeout, 1000),
    idleTimeoutMs: ms(u.idleTimeout, 4000),
    pool: {
      maxConnections: u.pool?.maxConnections ?? 64,
      maxConcurrent: u.pool?.maxConcurrent ?? 1024,
      maxPending: u.pool?.maxPending ?? 1024,
      queueTimeoutMs: ms(u.pool?.queueTimeout, 1000),
    },
    loadBalancing: u.loadBalancing ?? 'round-robin',
    outlierDetection: normalizeOutlierDetection(u.outlierDetection),
    healthCheck: u.healthCheck
      ? {
          path: u.healthCheck.path,
          intervalMs: ms(u.healthCheck.interval, 5000),
          timeoutMs: ms(u.healthCheck.timeout, 1000),
          unhealthyThreshold: u.healthCheck.unhealthyThreshold ?? 2,
          healthyThreshold: u.healthCheck.healthyThreshold ?? 1,
        }
      : undefined,
    // The CA's contents too: a reload after the file was replaced builds new pools that trust it.
    fingerprint: JSON.stringify({ file: u, ca: tls?.ca }),
  };
}
