import { lookup } from 'node:dns/promises';
import { isIPv6 } from 'node:net';

/** Why a resolution failed: a small fixed set, as it labels a metric. */
export type DnsFailureReason = 'not-found' | 'timeout' | 'error';

export interface DnsDiscoveryOptions {
  /** A name to resolve, typically a headless Service: one A/AAAA record per ready pod. */
  name: string;
  port: number;
  refreshMs: number;
  /** Bound on each lookup: a resolver that hangs is reported as a timeout instead of stalling refreshes. */
  timeoutMs: number;
  /** Returns the addresses the name resolves to; defaults to the system resolver (dns.lookup, all records). */
  resolve?: (name: string) => Promise<string[]>;
  /** Told about each failed or empty resolution; the last good endpoint set stays in use meanwhile. */
  onError?: (err: Error, reason: DnsFailureReason) => void;
}

/** Retries while no address is known yet start this soon and double up to refreshMs. */
const FIRST_RETRY_MS = 250;

async function lookupAll(name: string): Promise<string[]> {
  const records = await lookup(name, { all: true });
  return records.map((record) => record.address);
}

/** "ip:port", with IPv6 addresses in brackets so the port stays unambiguous. */
function formatEndpoint(address: string, port: number): string {
  return isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

function sameEndpoints(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((endpoint, i) => endpoint === b[i]);
}

class DnsFailure extends Error {
  constructor(
    message: string,
    readonly reason: DnsFailureReason,
  ) {
    super(message);
  }
}

/** ENOTFOUND/ENODATA: the name has no address; EAI_AGAIN: the resolver gave up waiting for an answer. */
function failureOf(err: unknown): DnsFailure {
  if (err instanceof DnsFailure) return err;
  const code = (err as { code?: string }).code;
  const reason = code === 'ENOTFOUND' || code === 'ENODATA' ? 'not-found' : code === 'EAI_AGAIN' || code === 'ETIMEOUT' ? 'timeout' : 'error';
  return new DnsFailure(`lookup failed: ${err instanceof Error ? err.message : String(err)}`, reason);
}

/**
 * Keeps an upstream's endpoint list in step with DNS, like Envoy's STRICT_DNS: every ready pod behind a headless
 * Service becomes its own endpoint, so per-endpoint health, retries to another pod and ejection can work.
 */
export class DnsDiscovery {
  private readonly resolve: (name: string) => Promise<string[]>;
  private endpoints: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Bumped by stop(): a refresh still in flight from before a stop/start cycle must not start a second timer chain. */
  private generation = 0;
  /** Failed resolutions in a row while no address is known yet: the retry backoff. */
  private misses = 0;
  /**
   * A lookup still running, perhaps past its timeout. dns.lookup holds one of libuv's four threads until the system
   * resolver answers and cannot be cancelled, so the next resolution waits on it rather than taking another thread.
   */
  private pendingLookup: Promise<string[]> | undefined;

  constructor(private readonly opts: DnsDiscoveryOptions) {
    if (!opts.name) throw new Error('dns discovery: name must be a non-empty host name');
    if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
      throw new Error(`dns discovery for ${opts.name}: port must be an integer 1-65535, got ${opts.port}`);
    }
    for (const key of ['refreshMs', 'timeoutMs'] as const) {
      if (!Number.isFinite(opts[key]) || opts[key] <= 0) {
        throw new Error(`dns discovery for ${opts.name}: ${key} must be a positive number, got ${opts[key]}`);
      }
    }
    this.resolve = opts.resolve ?? lookupAll;
  }

  /**
   * Resolves once now and returns the sorted endpoints found, none if that failed (reported through onError). Then
   * keeps going on an unref'd timer: every refreshMs, or with backoff while no address is known yet. onChange is
   * called only when the set of endpoints changes; failed or empty refreshes keep the last good set.
   */
  async start(onChange: (endpoints: string[]) => void): Promise<string[]> {
    if (this.running) throw new Error(`dns discovery for ${this.opts.name}: already started`);
    this.running = true;
    const generation = this.generation;
    const first = await this.attempt(generation);
    if (generation !== this.generation) return [];
    if (first) this.endpoints = first;
    this.scheduleRefresh(onChange);
    return [...this.endpoints];
  }

  stop(): void {
    this.running = false;
    this.generation += 1;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pendingLookup = undefined;
  }

  /** One resolution: the sorted endpoints, or undefined after reporting (unless stopped since) why there are none. */
  private async attempt(generation: number): Promise<string[] | undefined> {
    try {
      const endpoints = await this.resolveEndpoints();
      if (endpoints.length === 0) throw new DnsFailure('resolved to no addresses', 'not-found');
      this.misses = 0;
      return endpoints;
    } catch (err) {
      this.misses += 1;
      if (generation === this.generation) this.report(failureOf(err));
      return undefined;
    }
  }

  private async resolveEndpoints(): Promise<string[]> {
    if (this.pendingLookup === undefined) {
      const lookup: Promise<string[]> = this.resolve(this.opts.name).finally(() => {
        if (this.pendingLookup === lookup) this.pendingLookup = undefined;
      });
      this.pendingLookup = lookup;
    }
    const addresses = await this.withinTimeout(this.pendingLookup);
    const unique = new Set(addresses.map((address) => formatEndpoint(address, this.opts.port)));
    return [...unique].sort();
  }

  private withinTimeout(lookup: Promise<string[]>): Promise<string[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DnsFailure(`lookup timed out after ${this.opts.timeoutMs} ms`, 'timeout')), this.opts.timeoutMs);
      timer.unref();
    });
    return Promise.race([lookup, timeout]).finally(() => clearTimeout(timer));
  }

  // A chained timeout rather than setInterval: a slow resolver never overlaps with the next refresh.
  private scheduleRefresh(onChange: (endpoints: string[]) => void): void {
    if (!this.running) return;
    const generation = this.generation;
    const delay = this.endpoints.length > 0 ? this.opts.refreshMs : Math.min(this.opts.refreshMs, FIRST_RETRY_MS * 2 ** (this.misses - 1));
    this.timer = setTimeout(() => void this.refresh(onChange, generation), delay);
    this.timer.unref();
  }

  private async refresh(onChange: (endpoints: string[]) => void, generation: number): Promise<void> {
    const next = await this.attempt(generation);
    if (generation !== this.generation) return;
    const changed = next !== undefined && !sameEndpoints(next, this.endpoints);
    if (changed) this.endpoints = next;
    this.scheduleRefresh(onChange);
    if (changed) onChange([...next]);
  }

  private report(failure: DnsFailure): void {
    const kept = this.endpoints.length;
    const outcome = kept > 0 ? `keeping the last ${kept} known endpoint(s)` : 'no endpoints yet, retrying';
    const err = new Error(`dns discovery: ${this.opts.name} ${failure.message}; ${outcome}`);
    this.opts.onError?.(err, failure.reason);
  }
}
