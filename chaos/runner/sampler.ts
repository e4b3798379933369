// Samples what the client cannot see while an arm runs: requests ARRIVING at the backends (from each replica's
// /admin/stats, counted on arrival, so hung requests count too) and Breakwater's breaker state, retries and ejections.
import type { BreakerState } from '../results.js';
import { parsePrometheusText, sumOf } from '../prometheus-text.js';

export interface ArrivalSample {
  t: number;
  count: number; // arrivals since the previous sample, all replicas
}

export interface ProxySample {
  t: number;
  breakerState: BreakerState;
  retriesTotal: number;
  ejectionsTotal: number;
}

export interface SamplerTargets {
  /** Current replica addresses (they stay stable across restarts). */
  replicas: () => Array<{ id: string; address: string }>;
  proxyAdminUrl?: string;
}

const STATE_SEVERITY: BreakerState[] = ['closed', 'half_open', 'open'];

export class Sampler {
  readonly arrivals: ArrivalSample[] = [];
  readonly proxy: ProxySample[] = [];
  private readonly lastTotals = new Map<string, number>();
  private arrivalTimer?: NodeJS.Timeout;
  private proxyTimer?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<void>>();
  private startedAt = 0;
  private stopped = false;

  constructor(
    private readonly targets: SamplerTargets,
    private readonly arrivalPeriodMs: number,
  ) {}

  /** Takes the baseline counters, then samples until stop(). `t` is measured from `startedAt` (performance.now()). */
  async start(startedAt: number): Promise<void> {
    this.startedAt = startedAt;
    await this.sampleArrivals(false);
    this.arrivalTimer = setInterval(() => this.once('arrivals', () => this.sampleArrivals(true)), this.arrivalPeriodMs);
    if (this.targets.proxyAdminUrl) this.proxyTimer = setInterval(() => this.once('proxy', () => this.sampleProxy()), 1000);
  }

  private readonly busy = new Set<string>();

  /** At most one sample of each kind in flight: a slow scrape is skipped, not piled up. */
  private once(kind: string, sample: () => Promise<void>): void {
    if (this.busy.has(kind)) return;
    this.busy.add(kind);
    const done = sample().finally(() => {
      this.busy.delete(kind);
      this.inFlight.delete(done);
    });
    this.inFlight.add(done);
  }

  private async sampleArrivals(record: boolean): Promise<void> {
    const t = performance.now() - this.startedAt;
    let count = 0;
    await Promise.all(
      this.targets.replicas().map(async (replica) => {
        const total = await fetchArrivals(replica.address, Math.min(this.arrivalPeriodMs, 500));
        if (total === undefined) return; // down or frozen: its arrivals show up once it answers again
        const last = this.lastTotals.get(replica.id) ?? 0;
        count += total >= last ? total - last : total; // a restarted replica counts from zero again
        this.lastTotals.set(replica.id, total);
      }),
    );
    if (record) this.arrivals.push({ t, count });
  }

  private async sampleProxy(): Promise<void> {
    const t = performance.now() - this.startedAt;
    try {
      const response = await fetch(`${this.targets.proxyAdminUrl}/metrics`, { signal: AbortSignal.timeout(800) });
      const samples = parsePrometheusText(await response.text());
      const openStates = samples.filter((s) => s.name === 'breakwater_circuit_state' && s.value === 1);
      const breakerState = openStates
        .map((s) => s.labels.state as BreakerState)
        .reduce<BreakerState>((worst, s) => (STATE_SEVERITY.indexOf(s) > STATE_SEVERITY.indexOf(worst) ? s : worst), 'closed');
      this.proxy.push({
        t,
        breakerState,
        retriesTotal: sumOf(samples, 'breakwater_retries_total'),
        ejectionsTotal: sumOf(samples, 'breakwater_endpoint_ejections_total'),
      });
    } catch {
      // A missed scrape leaves a gap; the next one carries the counters forward.
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.arrivalTimer);
    clearInterval(this.proxyTimer);
    await Promise.all(this.inFlight);
    await this.sampleArrivals(true); // arrivals of requests still in flight at the end
  }
}

/** Requests that reached a replica's /api routes (the backend counts only those, on arrival). */
async function fetchArrivals(address: string, timeoutMs: number): Promise<number | undefined> {
  try {
    const response = await fetch(`http://${address}/admin/stats`, { signal: AbortSignal.timeout(timeoutMs) });
    const stats = (await response.json()) as { requests: { total: number } };
    return stats.requests.total;
  } catch {
    return undefined;
  }
}
