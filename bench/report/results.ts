// The shape of bench/results/compare.json (also read by the markdown renderer and the CI smoke test).

export interface Percentiles {
  p50Us: number;
  p99Us: number;
}

export interface ThroughputFigures extends Percentiles {
  rps: number;
  /** Proxy process CPU time (user + system) over the window, divided by requests; null for "direct". */
  cpuUsPerRequest: number | null;
}

export interface TargetFigures {
  cpuUsPerRequest: number | null;
  closedLoopRps: number;
  /** The closed-loop (c=32) windows one by one, in round order: ratios between targets are taken round by round. */
  closedLoopRounds: Array<{ cpuUsPerRequest: number | null; rps: number }>;
  c1: Percentiles;
  c16: Percentiles;
  openLoop: Percentiles & { targetRps: number; achievedRps: number; maxUs: number; errors: number };
  rssIdleMB: number | null;
  rssLoadMB: number | null;
  /** With no load, once settled after start: CPU (all threads) and main-thread wakeups per second; null for "direct". */
  idle: IdleFigures | null;
  /** Non-2xx responses and socket errors over all windows: anything but 0 makes the figures suspect. */
  failures: number;
  streaming: { get1MiB: ThroughputFigures; post64KiB: ThroughputFigures };
}

export interface IdleFigures {
  cpuMsPerSecond: number;
  wakeupsPerSecond: number;
}

/** CPU and throughput ratios are medians of per-round ratios; the latency ones compare the targets' medians. */
export interface TargetComparisons {
  cpuVsHaproxy: number | null;
  cpuVsFastify: number | null;
  rpsVsDirect: number | null;
  rpsVsHaproxy: number | null;
  rpsVsFastify: number | null;
  c1AddedP50Us: number | null;
  c1AddedP99Us: number | null;
  c16P99VsHaproxy: number | null;
}

export interface TargetResult {
  name: string;
  label: string;
  skipped?: string;
  figures?: TargetFigures;
  comparisons?: TargetComparisons;
}

export interface ScenarioResult {
  name: string;
  label: string;
  skipped?: string;
  figures?: Percentiles & { requests: number; non2xx: number; note: string };
}

export interface ScaleResult {
  name: string;
  routes: number;
  endpoints: number;
  breakers: number;
  skipped?: string;
  figures?: { cpuUsPerRequest: number; rps: number; rssIdleMB: number; rssLoadMB: number };
}

export interface GoalResult {
  goal: string;
  value: string;
  /** null when a target needed for the comparison was skipped. */
  met: boolean | null;
}

export interface BenchReport {
  date: string;
  smoke: boolean;
  /** Load averages (1 min) before and after: other work on the machine skews every figure. */
  machine: {
    cpus: number;
    node: string;
    platform: string;
    /** NODE_OPTIONS of every Breakwater process: the Helm chart's (the Node references run with Node's defaults). */
    breakwaterNodeOptions: string;
    loadAverageBefore: number;
    loadAverageAfter: number;
    /** Percent of CPU time the hypervisor took for other guests during the run: load average does not show it. */
    stealPercent: number;
  };
  settings: {
    generator: 'wrk' | 'node';
    windowS: number;
    rounds: number;
    openLoopRps: number;
    upstream: string;
    pinning: string;
  };
  notes: string[];
  targets: TargetResult[];
  scenarios: ScenarioResult[];
  scale: ScaleResult[];
  goals: GoalResult[];
}

export interface SoakWindow {
  /** Seconds since the soak began, at the end of the window. */
  endS: number;
  achievedRps: number;
  p50Us: number;
  p99Us: number;
  /** Non-2xx answers plus requests that failed or went unanswered. */
  failed: number;
  cpuUsPerRequest: number | null;
  /** CPU the load generator itself used, % of one core: near 100, the latencies measure the client. */
  clientCpuPercent: number;
  /** Median of the RSS samples (every 100 ms): the level memory sits at. */
  rssMedianMB: number;
  rssPeakMB: number;
  /** Lowest heap used that Breakwater's /metrics reported in the window; null if no scrape answered. */
  heapFloorMB: number | null;
  /** Before the steady state: left out of the growth comparison. */
  warmup: boolean;
}

export interface SoakFigures {
  /** Median closed-loop maximum the rate was derived from; null when the rate was given. */
  maxRps: number | null;
  /** What one core of the proxy carries open loop, from the CPU per request of a probe; null when the rate was given. */
  openLoopMaxRps: number | null;
  rps: number;
  durationS: number;
  windowS: number;
  warmupS: number;
  windows: SoakWindow[];
  /** Median window RSS (each window's median) of the steady state's second half over its first half's. */
  rssGrowth: number | null;
  /** Median live-heap floor of the second half over the first half's. */
  heapGrowth: number | null;
}

/** bench/results/soak.json: `npm run bench -- --soak`. */
export interface SoakReport {
  date: string;
  smoke: boolean;
  machine: BenchReport['machine'];
  settings: Pick<BenchReport['settings'], 'generator' | 'upstream' | 'pinning'>;
  notes: string[];
  soak: SoakFigures;
  goals: GoalResult[];
}

/** What one kind of misbehaving client saw (bench/hostile/clients.ts). */
export interface AttackerFigures {
  /** Connections established (each worker opens the next once one ends). */
  connections: number;
  connectFailed: number;
  /** Status lines the proxy sent, by status (408, 431, 400, 504, ...); the connection may have stayed open after. */
  answered: Record<string, number>;
  /** Closed by the proxy (FIN) without a status line. */
  closedWithoutAnswer: number;
  /** Ended by an error (reset) without a status line. */
  reset: number;
  /** Aborting clients only: connections the client itself abandoned, by stage. */
  abandoned: Record<string, number>;
  /** Still open when the hostile load stopped: the proxy never closed them. */
  heldToEnd: number;
  /** The longest a connection stayed open before the proxy ended it or the run did (abandoned ones not counted). */
  longestOpenS: number;
}

/** Normal traffic beside the hostile load: open loop at a steady rate, every answer counted. */
export interface NormalTrafficFigures {
  rps: number;
  sent: number;
  /** Answers by status; requests that got none are `unanswered`. */
  statuses: Record<string, number>;
  /** Answers by request path, then status. */
  statusesByPath: Record<string, Record<string, number>>;
  unanswered: number;
  /** 2xx answers over requests sent. */
  successRate: number;
  /** Of the answered requests, from each request's scheduled send time. */
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

/** One reading, every few seconds: the proxy's RSS and open files, and every bulkhead gauge. */
export interface HostileSample {
  /** Seconds since the hostile load began (negative: before it, the baseline). */
  atS: number;
  phase: 'baseline' | 'load' | 'settle';
  rssMB: number;
  openFiles: number;
  /** Since the sample before, % of one core: the proxy's, and the harness's (every client): near 100, a figure measures its own saturation. */
  proxyCpuPercent: number;
  clientCpuPercent: number;
  /** Normal traffic's answers other than 2xx since the sample before. */
  normalFailed: number;
  /** Every bulkhead series the proxy exported; null when the scrape failed. */
  bulkheads: BulkheadGauge[] | null;
}

export interface BulkheadGauge {
  scope: string;
  name: string;
  active: number;
  queued: number;
}

export interface RouteProbe {
  path: string;
  /** null: no answer within the probe's timeout. */
  status: number | null;
  ms: number;
}

export interface HostileFigures {
  durationS: number;
  normal: NormalTrafficFigures;
  slowloris: AttackerFigures;
  stalledBodies: AttackerFigures;
  aborting: AttackerFigures;
  reloads: { written: number; succeeded: number | null; failed: number | null };
  samples: HostileSample[];
  rss: { baselineMB: number; peakMB: number; endMB: number };
  /** After the settle period, one request down every route: a leaked slot shows as a route that no longer answers. */
  afterLoad: RouteProbe[];
  /** Every bulkhead series after the settle period; settledAfterS is null if some stayed above 0 throughout. */
  bulkheadsAfterSettle: BulkheadGauge[];
  settledAfterS: number | null;
  /** breakwater_listener_rejected_total by "listener/reason"; null when the proxy does not export it. */
  listenerRejected: Record<string, number> | null;
}

/** bench/results/hostile.json: `npm run bench -- --hostile`. */
export interface HostileReport {
  date: string;
  smoke: boolean;
  machine: BenchReport['machine'];
  settings: {
    upstream: string;
    pinning: string;
    normalRps: number;
    slowlorisConnections: number;
    stalledBodyConnections: number;
    abortingClients: number;
    reloadEveryS: number;
    sampleEveryS: number;
    settleLimitS: number;
    /** The proxy's soft limit on open files, which bounds how many slowloris connections are sent. */
    proxyOpenFileLimit: number | null;
  };
  notes: string[];
  hostile: HostileFigures;
  goals: GoalResult[];
}

/** One target of the HTTP/2 or gRPC comparison: the closed-loop figures of the HTTP/1.1 one, without open loop, streaming and idle. */
export type H2TargetFigures = Pick<
  TargetFigures,
  'cpuUsPerRequest' | 'closedLoopRps' | 'closedLoopRounds' | 'c1' | 'c16' | 'rssIdleMB' | 'rssLoadMB' | 'failures'
>;

/** As TargetComparisons: CPU and throughput ratios are medians of per-round ratios, the latency ones compare medians. */
export interface H2Comparisons {
  cpuVsHaproxy: number | null;
  cpuVsNginx: number | null;
  rpsVsDirect: number | null;
  rpsVsHaproxy: number | null;
  rpsVsNginx: number | null;
  c1AddedP50Us: number | null;
  c1AddedP99Us: number | null;
  c16P99VsHaproxy: number | null;
  c16P99VsNginx: number | null;
}

export interface H2TargetResult {
  name: string;
  label: string;
  skipped?: string;
  figures?: H2TargetFigures;
  comparisons?: H2Comparisons;
}

/** Requests in flight in one kind of window: `connections` connections with `streams` on each. */
export interface H2Concurrency {
  connections: number;
  streams: number;
}

export interface H2ProtocolResult {
  name: 'h2c' | 'grpc';
  label: string;
  /** The load generator and what it sends. */
  load: string;
  upstream: string;
  targets: H2TargetResult[];
}

/** bench/results/h2.json: `npm run bench -- --h2`. */
export interface H2Report {
  date: string;
  smoke: boolean;
  machine: BenchReport['machine'];
  settings: {
    windowS: number;
    warmupS: number;
    rounds: number;
    throughput: H2Concurrency;
    c1: H2Concurrency;
    c16: H2Concurrency;
    pinning: string;
  };
  notes: string[];
  protocols: H2ProtocolResult[];
}
