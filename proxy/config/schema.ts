/**
 * The policy file's shape: one TypeBox schema gives both the JSON Schema that ajv checks (every problem, by path) and
 * the TypeScript types of the raw file. Durations stay strings here; load.ts turns them into milliseconds.
 */
import { Type, type Static, type TSchema, type TObject, type TProperties } from '@sinclair/typebox';

/** Objects in the policy file reject unknown keys: a typo must fail loudly, not be ignored. */
const Strict = <T extends TProperties>(properties: T): TObject<T> => Type.Object(properties, { additionalProperties: false });

const Duration = Type.String({ format: 'duration' });
const Size = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ format: 'size' })]);
const Address = Type.String({ format: 'address' });
const Name = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 63 });
const HostName = Type.String({ pattern: '^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?$', maxLength: 253 });
const Percent = Type.Number({ minimum: 0, maximum: 100 });
const Opt = <T extends TSchema>(schema: T) => Type.Optional(schema);

export const RETRY_CONDITIONS = ['connect-failure', 'reset', 'timeout', '5xx', 'gateway-error'] as const;
const RetryCondition = Type.Union([
  ...RETRY_CONDITIONS.map((c) => Type.Literal(c)),
  Type.Integer({ minimum: 100, maximum: 599 }),
]);
export const FAILURE_KINDS = ['5xx', '4xx', 'timeout', 'connect-failure', 'reset'] as const;
const FailureKind = Type.Union([
  ...FAILURE_KINDS.map((c) => Type.Literal(c)),
  Type.Integer({ minimum: 100, maximum: 599 }),
]);

const Match = Strict({
  pathPrefix: Opt(Type.String({ pattern: '^/' })),
  path: Opt(Type.String({ pattern: '^/' })),
  methods: Opt(Type.Array(Type.String({ pattern: '^[A-Za-z]+$' }), { minItems: 1 })),
  headers: Opt(Type.Record(Type.String({ pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$' }), Type.String())),
});

const Retry = Strict({
  attempts: Type.Integer({ minimum: 1, maximum: 10 }),
  perTryTimeout: Opt(Duration),
  on: Opt(Type.Array(RetryCondition)),
  backoff: Opt(
    Strict({
      base: Opt(Duration),
      max: Opt(Duration),
      jitter: Opt(Type.Union([Type.Literal('full'), Type.Literal('equal'), Type.Literal('none')])),
    }),
  ),
  budget: Opt(
    Strict({
      ratio: Type.Number({ minimum: 0, maximum: 10 }),
      minPerSecond: Opt(Type.Number({ minimum: 0 })),
      window: Opt(Duration),
    }),
  ),
  /** Request bodies up to this size are buffered so a retry can replay them; larger ones stream and are not retried. */
  maxReplayBody: Opt(Size),
});

const CircuitBreaker = Strict({
  errorThresholdPercentage: Opt(Percent),
  volumeThreshold: Opt(Type.Integer({ minimum: 0 })),
  window: Opt(Duration),
  resetTimeout: Opt(Duration),
  halfOpenRequests: Opt(Type.Integer({ minimum: 1 })),
  consecutiveFailures: Opt(Type.Integer({ minimum: 1 })),
  failOn: Opt(Type.Array(FailureKind, { minItems: 1 })),
});

const Fallback = Strict({
  status: Opt(Type.Integer({ minimum: 200, maximum: 599 })),
  json: Opt(Type.Unknown()),
  body: Opt(Type.String()),
  headers: Opt(Type.Record(Type.String(), Type.String())),
});

const Hedge = Strict({
  delay: Type.Union([Duration, Type.String({ pattern: '^p(50|[5-9][0-9](\\.[0-9]+)?)$' })]),
  maxAttempts: Opt(Type.Integer({ minimum: 2, maximum: 5 })),
});

const Fault = Strict({
  delay: Opt(Strict({ percent: Percent, duration: Duration })),
  abort: Opt(Strict({ percent: Percent, status: Type.Integer({ minimum: 200, maximum: 599 }) })),
});

const Route = Strict({
  name: Name,
  match: Opt(Match),
  upstream: Type.String(),
  timeout: Opt(Duration),
  retry: Opt(Retry),
  circuitBreaker: Opt(CircuitBreaker),
  fallback: Opt(Fallback),
  maxConcurrent: Opt(Type.Integer({ minimum: 1 })),
  fault: Opt(Fault),
  hedge: Opt(Hedge),
});

const ListenerLimits = Strict({
  headersTimeout: Opt(Duration),
  requestBodyTimeout: Opt(Duration),
  idleTimeout: Opt(Duration),
  maxConnections: Opt(Type.Integer({ minimum: 1 })),
  maxHeaderSize: Opt(Size),
});

const Listener = Strict({
  name: Name,
  address: Address,
  /** Keep the client's x-forwarded-proto/-host and append to its x-forwarded-for: only behind a proxy that sets them. */
  trustForwarded: Opt(Type.Boolean()),
  limits: Opt(ListenerLimits),
  routes: Type.Array(Route),
});

const Pool = Strict({
  maxConnections: Opt(Type.Integer({ minimum: 1 })),
  maxConcurrent: Opt(Type.Integer({ minimum: 1 })),
  maxPending: Opt(Type.Integer({ minimum: 0 })),
  queueTimeout: Opt(Duration),
});

const Upstream = Strict({
  name: Name,
  endpoints: Opt(Type.Array(Type.String({ format: 'endpoint' }), { minItems: 1 })),
  dns: Opt(Strict({ name: HostName, port: Type.Integer({ minimum: 1, maximum: 65535 }), refresh: Opt(Duration), timeout: Opt(Duration) })),
  /** The Host header sent upstream. */
  host: Opt(Type.String({ format: 'authority' })),
  /** TLS to every endpoint; an https:// endpoint implies it too. */
  tls: Opt(Strict({ serverName: Opt(HostName), caFile: Opt(Type.String({ minLength: 1 })) })),
  connectTimeout: Opt(Duration),
  idleTimeout: Opt(Duration),
  pool: Opt(Pool),
  loadBalancing: Opt(Type.Union([Type.Literal('round-robin'), Type.Literal('least-request')])),
  outlierDetection: Opt(
    Strict({
      consecutiveFailures: Opt(Type.Integer({ minimum: 1 })),
      baseEjectionTime: Opt(Duration),
      maxEjectionTime: Opt(Duration),
      decayInterval: Opt(Duration),
      maxEjectionPercent: Opt(Percent),
    }),
  ),
  healthCheck: Opt(
    Strict({
      path: Type.String({ pattern: '^/' }),
      interval: Opt(Duration),
      timeout: Opt(Duration),
      unhealthyThreshold: Opt(Type.Integer({ minimum: 1 })),
      healthyThreshold: Opt(Type.Integer({ minimum: 1 })),
    }),
  ),
});

export const PolicyFileSchema = Strict({
  admin: Opt(Strict({ address: Address })),
  listeners: Type.Array(Listener, { minItems: 1 }),
  upstreams: Type.Array(Upstream, { minItems: 1 }),
  drain: Opt(Strict({ delay: Opt(Duration), timeout: Opt(Duration) })),
  /** replayBuffers: all request bodies kept for replay together; past it, bodies stream once and are not retried. */
  memory: Opt(Strict({ replayBuffers: Opt(Size) })),
  log: Opt(Strict({ level: Opt(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)))) })),
});

export type PolicyFile = Static<typeof PolicyFileSchema>;
export type RouteFile = Static<typeof Route>;
export type ListenerLimitsFile = Static<typeof ListenerLimits>;
export type UpstreamFile = Static<typeof Upstream>;
export type RetryCondition = Static<typeof RetryCondition>;
export type FailureKind = Static<typeof FailureKind>;
