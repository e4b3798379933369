/**
 * The policy file's one source of truth: every key's shape, default and one-line description. `npm run generate`
 * (build/generate.ts) derives from it the validator (generated/policy-validator.js), the TypeScript types of the file and
 * of the normalized policy (generated/policy-types.ts), the defaults load.ts fills in (generated/policy-defaults.ts), the
 * README's policy reference, the published JSON Schema (schema/breakwater-policy.schema.json) and the Helm chart's
 * values.schema.json policy part; test/proxy/config/generated.test.ts fails while any of them is stale.
 *
 * Build time only: TypeBox is a dev dependency, so no runtime module imports this file (tsconfig.build.json leaves it
 * out of dist/).
 *
 * Each key's `x-normalized` annotation says how it appears in the normalized policy (see Normalized); durations become
 * `<key>Ms` numbers and sizes `<key>Bytes` without one. A `default` on a key that the file requires inside its block
 * (retry.attempts, admin.address) is the value used when the whole block is absent.
 */
import { Type, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';
import { GRPC_CODE_NAMES } from '../core/grpc.js';
import { MAX_SIZE_BYTES } from './size.js';

/** How a key appears in the normalized policy (proxy/config/policy.ts), where it differs from the file. */
export interface Normalized {
  /** The normalized key's name (default: the file's key, `Ms`/`Bytes` appended for durations and sizes). */
  name?: string;
  /** The normalized value's TypeScript type, where it is not the file's. */
  type?: string;
  /** The key has no normalized counterpart (another key carries what it says). */
  omit?: true;
  /** Always present after normalization, though optional in the file and without a default of its own. */
  present?: true;
  /** May be absent after normalization although the file's key has a default (the default applies only sometimes). */
  optional?: true;
  /** The normalized key's description, where the file key's does not fit. */
  description?: string;
  /** An object's normalized interface (its file interface is named after it: RoutePolicy → RouteFile). */
  interface?: string;
  /** A type alias for this value, exported from the generated types (a union's name such as Jitter). */
  alias?: string;
  /** Keys only the normalized object has. */
  extra?: Record<string, { type: string; description: string; optional?: true }>;
}

type Options = { default?: unknown; normalized?: Normalized };

const annotations = (description: string, options: Options = {}) => ({
  description,
  ...(options.default === undefined ? {} : { default: options.default }),
  ...(options.normalized ? { 'x-normalized': options.normalized } : {}),
});

/** Objects in the policy file reject unknown keys: a typo must fail loudly, not be ignored. */
const Section = <T extends TProperties>(description: string, properties: T, options: Options = {}): TObject<T> =>
  Type.Object(properties, { additionalProperties: false, ...annotations(description, options) });

/** A duration longer than 0, unless `zero` says 0 has a meaning there (no wait, no backoff). */
const Duration = (description: string, options: Options & { zero?: true } = {}) =>
  Type.String({ format: options.zero ? 'duration' : 'positiveDuration', 'x-unit': 'Ms', ...annotations(description, options) });
const Size = (description: string, options: Options = {}) =>
  Type.Union([Type.Integer({ minimum: 0, maximum: MAX_SIZE_BYTES }), Type.String({ format: 'size' })], { 'x-unit': 'Bytes', ...annotations(description, options) });
const Address = (description: string, options: Options = {}) =>
  Type.String({ format: 'address', ...annotations(description, { normalized: { type: 'HostPort' }, ...options }) });
const Name = (description: string) => Type.String({ title: 'name', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 63, description });
const HostName = (description: string) =>
  Type.String({ title: 'host name', pattern: '^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?$', maxLength: 253, description });
const Percent = (description: string, options: Options = {}) => Type.Number({ minimum: 0, maximum: 100, ...annotations(description, options) });
const Int = (minimum: number, description: string, options: Options & { maximum?: number } = {}) =>
  Type.Integer({ minimum, ...(options.maximum === undefined ? {} : { maximum: options.maximum }), ...annotations(description, options) });
const Status = (description: string, options: Options = {}) => Int(200, description, { maximum: 599, ...options });
/**
 * A path as requests carry it: what a route matches is the path without its query, so neither `?` nor `#` can be
 * in one (`query` lets a request path, such as a health check's, carry a query). No space or control character:
 * undici refuses to send one, and no request arrives with one.
 */
const Path = (description: string, options: Options & { query?: true } = {}) =>
  Type.String({
    title: options.query ? 'request path' : 'path',
    pattern: options.query ? '^/[^#\\s\\x00-\\x1f\\x7f]*$' : '^/[^?#\\s\\x00-\\x1f\\x7f]*$',
    ...annotations(description, options),
  });
/** RFC 9110 §5.6.2: the characters of a token, such as a header name or an Upgrade protocol. */
const TOKEN_SYMBOLS = "!#$%&'*+.^_`|~-";
/** {header name: value}: names are tokens, values hold no control character but tab (node:http would throw on one). */
const HeaderMap = (description: string, options: Options = {}) =>
  Type.Record(Type.String(), Type.String({ title: 'header value', pattern: '^[\\t\\x20-\\x7e\\x80-\\xff]*$' }), {
    propertyNames: { title: 'header name', pattern: `^[A-Za-z0-9${TOKEN_SYMBOLS}]+$` },
    ...annotations(description, options),
  });
const OneOf = (values: readonly string[], description: string, options: Options = {}) =>
  Type.Union(values.map((v) => Type.Literal(v)), annotations(description, options));
const Opt = <T extends TSchema>(schema: T) => Type.Optional(schema);

/** gRPC status names a condition list takes; `ok` is no failure, so neither retried nor counted against the breaker. */
const GRPC_FAILURE_NAMES = GRPC_CODE_NAMES.filter((name) => name !== 'ok');

/**
 * A condition, a status code or a gRPC status name; the named conditions are the ones retries and the breaker
 * understand, the gRPC names are matched against a trailers-only response's grpc-status.
 */
const ConditionOrStatus = (conditions: readonly string[], alias: string) =>
  Type.Union([...[...conditions, ...GRPC_FAILURE_NAMES].map((c) => Type.Literal(c)), Type.Integer({ minimum: 100, maximum: 599 })], {
    title: 'condition, status code or gRPC status',
    'x-normalized': { alias },
  });

/** The gRPC names as the descriptions list them. */
const GRPC_NAMES_TEXT = GRPC_FAILURE_NAMES.join(', ');

const Match = Section(
  'Which requests the route takes; the first matching route of the listener wins.',
  {
    pathPrefix: Opt(
      Path('Paths starting with this prefix.', { default: '/', normalized: { optional: true, description: 'Set when neither `path` nor `grpc` is; "/" when none of them is given.' } }),
    ),
    path: Opt(Path('This exact path instead of a prefix.')),
    methods: Opt(
      Type.Array(Type.String({ pattern: '^[A-Za-z]+$' }), {
        minItems: 1,
        description: 'Only these methods (any case); default: any method.',
        'x-normalized': { type: 'ReadonlySet<string>', description: 'Upper case.' },
      }),
    ),
    headers: Opt(
      HeaderMap('Headers that must have exactly these values ({name: value}).', {
        normalized: { type: 'ReadonlyArray<readonly [name: string, value: string]>', description: 'Names in lower case.' },
      }),
    ),
    grpc: Opt(
      Section(
        'gRPC calls (content-type application/grpc) to this service and/or method, i.e. the path /<service>/<method>; not with path or pathPrefix.',
        {
          service: Opt(
            Type.String({
              title: 'gRPC service',
              pattern: '^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$',
              description: 'The fully qualified service, such as breakwater.demo.Demo; alone: any method of it.',
            }),
          ),
          method: Opt(
            Type.String({ title: 'gRPC method', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'The method, such as Unary; alone: that method of any service.' }),
          ),
        },
        { normalized: { interface: 'GrpcMatch', description: 'Set for a gRPC route: service, method or both.' } },
      ),
    ),
  },
  { normalized: { interface: 'RouteMatch', present: true } },
);

const Retry = Section(
  'Retries of a failed attempt, within the route timeout and the retry budget.',
  {
    attempts: Int(1, 'Total attempts, the first one included (1 without a retry block).', { maximum: 10, default: 1 }),
    perTryTimeout: Opt(Duration('Time limit of one attempt, up to its response head; retried only when `on` lists timeout.')),
    on: Opt(
      Type.Array(ConditionOrStatus(['connect-failure', 'reset', 'timeout', '5xx', 'gateway-error'], 'RetryCondition'), {
        description:
          'What is retried: connect-failure, reset, timeout, 5xx, gateway-error (502, 503, 504) or a status code (idempotent requests only, but a connect failure), ' +
          `or a gRPC status (${GRPC_NAMES_TEXT}) in a trailers-only response, for any method: naming one says the call may be sent again. ` +
          'A gRPC status counts as its HTTP equivalent (unavailable as 503) for the status rules.',
        default: ['connect-failure', 'reset', 502, 503, 504],
        'x-normalized': { type: 'Conditions' },
      }),
    ),
    backoff: Opt(
      Section(
        'Exponential backoff with jitter between attempts, never past the deadline.',
        {
          base: Opt(Duration('The first backoff; 0: none.', { default: '25ms', zero: true })),
          max: Opt(Duration('The longest backoff (never below base).', { default: '250ms', zero: true })),
          jitter: Opt(OneOf(['full', 'equal', 'none'], 'How much of each backoff is randomized.', { default: 'full', normalized: { alias: 'Jitter' } })),
        },
        { normalized: { present: true } },
      ),
    ),
    budget: Opt(
      Section(
        "Retries (and hedges) may add at most `ratio` of the route's requests, plus `minPerSecond`, so retries cannot storm.",
        {
          ratio: Type.Number({ minimum: 0, maximum: 10, ...annotations('Retries allowed per request over the window.', { default: 0.2 }) }),
          minPerSecond: Opt(Type.Number({ minimum: 0, ...annotations('Retries allowed per second whatever the ratio.', { default: 10 }) })),
          window: Opt(Duration('The window over which requests and retries are counted.', { default: '10s' })),
        },
        { normalized: { present: true } },
      ),
    ),
    maxReplayBody: Opt(Size('Request bodies up to this size are kept so a retry can replay them; larger ones stream once and are not retried.', { default: '64KiB' })),
  },
  { normalized: { interface: 'RetryPolicy', present: true } },
);

const CircuitBreaker = Section(
  'A breaker per route, outside the retries: one request is one breaker call.',
  {
    errorThresholdPercentage: Opt(Percent('Opens when the failure percentage of the window is above this.', { default: 50 })),
    volumeThreshold: Opt(Int(0, 'Calls in the window before the percentage counts.', { default: 10 })),
    window: Opt(Duration('The rolling window of the failure percentage.', { default: '10s' })),
    resetTimeout: Opt(Duration('How long the breaker stays open before half-open probes.', { default: '5s' })),
    halfOpenRequests: Opt(Int(1, 'Probes let through while half-open.', { default: 1 })),
    consecutiveFailures: Opt(Int(1, 'Also opens after this many failures in a row.')),
    failOn: Opt(
      Type.Array(ConditionOrStatus(['5xx', '4xx', 'timeout', 'connect-failure', 'reset'], 'FailureKind'), {
        minItems: 1,
        description:
          `What counts as a failure: 5xx, 4xx, timeout, connect-failure, reset, a status code or a gRPC status (${GRPC_NAMES_TEXT}); ` +
          'a gRPC response counts by its HTTP equivalent too (unavailable as 503, so 5xx counts it).',
        default: ['5xx', 'timeout', 'connect-failure', 'reset'],
        'x-normalized': { type: 'Conditions', description: 'What counts as a failure; reset also when 5xx is listed.' },
      }),
    ),
  },
  { normalized: { interface: 'BreakerPolicy' } },
);

const Fallback = Section(
  "The answer while the route's breaker is open; needs a circuitBreaker.",
  {
    status: Opt(Status('Its status; a 204, 205 or 304 has no body.', { default: 503 })),
    json: Opt(Type.Unknown({ description: 'A JSON body (content-type application/json); or body.', 'x-normalized': { omit: true } })),
    body: Opt(Type.String({ description: 'A text body (content-type text/plain); or json.', 'x-normalized': { type: 'Buffer', present: true, description: 'From json or body; empty without either.' } })),
    headers: Opt(
      HeaderMap('Response headers.', {
        normalized: { present: true, description: 'Names in lower case; content-type set from json or body.' },
      }),
    ),
  },
  { normalized: { interface: 'FallbackPolicy' } },
);

const Fault = Section(
  'Faults injected into a share of requests, for testing: marked in the access log and counted.',
  {
    delay: Opt(
      Section('Delay a share of requests.', {
        percent: Percent('Share of requests delayed.'),
        duration: Duration('How long.', { zero: true }),
      }),
    ),
    abort: Opt(
      Section('Answer a share of requests at once, without the upstream.', {
        percent: Percent('Share of requests aborted.'),
        status: Status('The status they get.'),
      }),
    ),
  },
  { normalized: { interface: 'FaultPolicy' } },
);

const Hedge = Section(
  "Hedged requests for idempotent routes: after `delay` (or the route's own latency percentile) a second attempt goes to another endpoint; the first answer wins, the other is cancelled; hedges spend the retry budget.",
  {
    delay: Type.String({
      format: 'durationOrPercentile',
      description: "When to hedge: a duration such as 50ms, or a percentile of the route's latency such as p95 or p99.9.",
      'x-normalized': { omit: true },
    }),
    maxAttempts: Opt(Int(2, 'Attempts in flight at most, the first one included.', { maximum: 5, default: 2 })),
  },
  {
    normalized: {
      interface: 'HedgePolicy',
      extra: {
        delayMs: { type: 'number', optional: true, description: 'The delay when given as a duration (then percentile is absent).' },
        percentile: { type: 'number', optional: true, description: 'The latency percentile, such as 95 or 99.9, when given as one (then delayMs is absent).' },
      },
    },
  },
);

const Route = Section(
  "A route: which requests, which upstream, and the policies around the call.",
  {
    name: Name('Unique across all listeners (route metrics carry the route name, not the listener).'),
    match: Opt(Match),
    upstream: Type.String({ description: 'The upstream (by name) the route sends to.' }),
    timeout: Opt(Duration('The whole request from the arrival of its head: queueing, attempts, backoff and the response body.', { default: '15s' })),
    retry: Opt(Retry),
    circuitBreaker: Opt(CircuitBreaker),
    fallback: Opt(Fallback),
    maxConcurrent: Opt(Int(1, "The route's own bulkhead: requests in flight at once; more are answered 503.")),
    fault: Opt(Fault),
    hedge: Opt(Hedge),
    upgrade: Opt(
      Type.Array(Type.String({ pattern: `^[a-z0-9${TOKEN_SYMBOLS}]+$` }), {
        description: 'HTTP/1.1 Upgrade protocols tunnelled on this route, lower case, such as websocket; an upgrade to any other is answered 400.',
        default: [],
        'x-normalized': { type: 'ReadonlySet<string>' },
      }),
    ),
    tunnelIdleTimeout: Opt(Duration('An upgraded connection (tunnel) with no byte either way for this long is closed.', { default: '10m' })),
  },
  {
    normalized: {
      interface: 'RoutePolicy',
      extra: {
        listener: { type: 'string', description: 'The listener the route belongs to.' },
      },
    },
  },
);

const ListenerLimits = Section(
  'What one client connection may hold of the listener.',
  {
    headersTimeout: Opt(Duration('Until the request head is complete (from accept or the previous response); then 408 and close.', { default: '10s' })),
    requestBodyTimeout: Opt(
      Duration('The longest gap between two request body bytes; then 408. An HTTP/2 stream (a gRPC call too) is cut when idle both ways that long.', { default: '30s' }),
    ),
    idleTimeout: Opt(Duration('How long a keep-alive connection may sit idle between requests.', { default: '65s' })),
    maxConnections: Opt(Int(1, 'Open client connections; more are closed at once.', { default: 4096 })),
    maxHeaderSize: Opt(Size('Request line and headers together (at least 1KiB); a larger head is answered 431.', { default: '16KiB' })),
  },
  { normalized: { interface: 'ListenerLimits', present: true } },
);

const ListenerHttp2 = Section(
  'HTTP/2 cleartext with prior knowledge (what gRPC clients send), served on the same port as HTTP/1.1 and told apart by the connection preface.',
  {
    enabled: Opt(Type.Boolean({ description: 'Serve HTTP/2 beside HTTP/1.1; false: HTTP/1.1 only.', default: true })),
    maxConcurrentStreams: Opt(Int(1, 'Streams (requests) one client connection may have open at once.', { maximum: 2 ** 31 - 1, default: 100 })),
    maxHeaderListSize: Opt(Size('Request headers of one stream, uncompressed (at least 1KiB).', { default: '16KiB' })),
    initialWindowSize: Opt(Size("Each stream's flow-control window: request body bytes a client may send ahead (1KiB to 2147483647 bytes).", { default: '1MiB' })),
  },
  { normalized: { interface: 'ListenerHttp2', present: true } },
);

const Listener = Section(
  'A listener: an address the app calls, and its routes.',
  {
    name: Name('Unique among listeners.'),
    address: Address('Where it listens, such as 127.0.0.1:15001.'),
    trustForwarded: Opt(
      Type.Boolean({
        description: "Keep the client's x-forwarded-proto/-host and append to its x-forwarded-for: only behind a proxy that sets them.",
        default: false,
      }),
    ),
    limits: Opt(ListenerLimits),
    http2: Opt(ListenerHttp2),
    routes: Type.Array(Route, { description: 'Its routes, in order: the first match wins; no match is a 404.' }),
  },
  { normalized: { interface: 'ListenerPolicy' } },
);

const Pool = Section(
  "The upstream's connection pool and bulkhead.",
  {
    maxConnections: Opt(Int(1, 'Connections per endpoint.', { default: 64 })),
    maxConcurrent: Opt(Int(1, 'Requests in flight to the upstream at once.', { default: 1024 })),
    maxPending: Opt(Int(0, 'Requests waiting for a slot; more are answered 503.', { default: 1024 })),
    queueTimeout: Opt(Duration('How long a request may wait for a slot; 0: no wait, a full pool answers at once.', { default: '1s', zero: true })),
    maxStreamsPerConnection: Opt(
      Int(1, "HTTP/2 (h2, h2c) requests in flight on one connection; more open another connection, up to maxConnections. Keep it at or below the upstream's own SETTINGS_MAX_CONCURRENT_STREAMS: above it, requests wait on a full connection instead of opening another.", { maximum: 2 ** 31 - 1, default: 100 }),
    ),
  },
  { normalized: { interface: 'PoolPolicy', present: true } },
);

const Upstream = Section(
  'An upstream: its endpoints (static or from DNS) and how they are called.',
  {
    name: Name('Unique among upstreams; routes name it.'),
    endpoints: Opt(
      Type.Array(Type.String({ format: 'endpoint' }), {
        minItems: 1,
        description: 'Static endpoints, host:port or http(s)://host:port; or dns.',
        'x-normalized': { present: true, description: 'Static endpoints as written; empty when dns discovers them.' },
      }),
    ),
    dns: Opt(
      Section('Endpoints from DNS: every address of the name is an endpoint (a headless Service); or endpoints.', {
        name: HostName('The name resolved.'),
        port: Int(1, 'The port of every endpoint.', { maximum: 65535 }),
        refresh: Opt(Duration('How often the name is resolved again.', { default: '5s' })),
        timeout: Opt(Duration('How long one lookup may take.', { default: '5s' })),
      }),
    ),
    host: Opt(
      Type.String({
        format: 'authority',
        description: "The Host header sent upstream; default: a DNS upstream's name (and port unless the scheme's default), else each endpoint's host:port.",
      }),
    ),
    tls: Opt(
      Section(
        'TLS to every endpoint (as does one https:// endpoint), always verified.',
        {
          serverName: Opt(HostName('The name verified and sent as SNI; default: the DNS name, else each endpoint host.')),
          caFile: Opt(
            Type.String({
              minLength: 1,
              description: "PEM certificates trusted in place of the system's roots; must exist when the policy is checked.",
              'x-normalized': { name: 'ca', description: 'PEM certificates read from tls.caFile, trusted in place of the system roots.' },
            }),
          ),
        },
        { normalized: { description: 'Present when the upstream uses TLS: then to every endpoint, always verified.' } },
      ),
    ),
    protocol: Opt(
      OneOf(
        ['http1', 'h2c', 'h2'],
        'How requests go to the endpoints: http1 (HTTP/1.1, with TLS when the upstream has it), h2c (HTTP/2 over plain TCP, prior knowledge) or h2 (HTTP/2 over TLS, ALPN h2: needs the tls block or https:// endpoints, verified as always).',
        { default: 'http1', normalized: { alias: 'UpstreamProtocol' } },
      ),
    ),
    connectTimeout: Opt(Duration('Time limit of one connect.', { default: '1s' })),
    idleTimeout: Opt(Duration('Idle pooled connections are closed after this (keep it below the upstream’s own).', { default: '4s' })),
    pool: Opt(Pool),
    loadBalancing: Opt(OneOf(['round-robin', 'least-request'], 'How endpoints are chosen; least-request takes the better of two random choices.', { default: 'round-robin' })),
    outlierDetection: Opt(
      Section(
        'Passive endpoint health: failing endpoints are ejected for a while, as in Envoy.',
        {
          consecutiveFailures: Opt(
            Int(1, 'Failures in a row (connect failures, resets, timeouts, 5xx; a gRPC status by its HTTP equivalent, unavailable as 503) that eject an endpoint.', {
              default: 5,
            }),
          ),
          baseEjectionTime: Opt(Duration('Ejection time, times the ejection multiplier.', { default: '30s' })),
          maxEjectionTime: Opt(Duration('The longest ejection (never below baseEjectionTime).', { default: '300s' })),
          decayInterval: Opt(Duration('Each interval back in service lowers the multiplier by one.', { default: '10s' })),
          maxEjectionPercent: Opt(Percent('Endpoints ejected at once at most (but at least one, never the last).', { default: 50 })),
        },
        { normalized: { present: true } },
      ),
    ),
    healthCheck: Opt(
      Section('Active health checks: GET path on every endpoint.', {
        path: Path('The path checked (a query may follow); a 2xx answer is healthy.', { query: true }),
        interval: Opt(Duration('Time between checks.', { default: '5s' })),
        timeout: Opt(Duration('Time limit of one check.', { default: '1s' })),
        unhealthyThreshold: Opt(Int(1, 'Failed checks in a row that mark an endpoint unhealthy.', { default: 2 })),
        healthyThreshold: Opt(Int(1, 'Passed checks in a row that mark it healthy again.', { default: 1 })),
      }),
    ),
  },
  {
    normalized: {
      interface: 'UpstreamPolicy',
      extra: { fingerprint: { type: 'string', description: "Canonical text of the upstream's settings: equal fingerprints keep their pools across a reload." } },
    },
  },
);

export const PolicyFileSchema = Section(
  'A Breakwater policy: listeners and their routes, upstreams, and process-wide settings.',
  {
    admin: Opt(
      Section(
        'The admin endpoint: GET /metrics /healthz /readyz /config /breakers /endpoints; POST /reload (loopback only).',
        { address: Address('Where it listens.', { default: '127.0.0.1:9901' }) },
        { normalized: { present: true } },
      ),
    ),
    listeners: Type.Array(Listener, { minItems: 1, description: 'The addresses the app calls.' }),
    upstreams: Type.Array(Upstream, { minItems: 1, description: 'The services routes send to.' }),
    drain: Opt(
      Section(
        'Shutdown: keep serving for `delay` (endpoints leave load balancers), then finish requests in flight for up to `timeout`.',
        {
          delay: Opt(Duration('Time to keep accepting requests after SIGTERM.', { default: '5s', zero: true })),
          timeout: Opt(Duration('Time requests in flight get to finish; 0: cut at once.', { default: '30s', zero: true })),
        },
        { normalized: { present: true } },
      ),
    ),
    memory: Opt(
      Section(
        'Process-wide bounds on memory the request path may hold outside V8’s heap.',
        { replayBuffers: Opt(Size('All request bodies kept for replay together; past it, bodies stream once and are not retried.', { default: '64MiB' })) },
        { normalized: { present: true } },
      ),
    ),
    log: Opt(
      Section(
        'Logging.',
        {
          level: Opt(
            OneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'The log level; BREAKWATER_LOG_LEVEL overrides it.', {
              default: 'info',
              normalized: { type: 'string' },
            }),
          ),
        },
        { normalized: { present: true } },
      ),
    ),
  },
  {
    normalized: {
      interface: 'Policy',
      extra: {
        source: { type: 'string', description: 'Where it was read from, for messages.' },
        document: { type: 'unknown', description: 'The file as written (after YAML parsing), for GET /config.' },
      },
    },
  },
);
