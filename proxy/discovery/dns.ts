import { lookup } from 'node:dns/promises';
import { isIPv6 } from 'node:net';

export interface DnsDiscoveryOptions {
  /** A name to resolve, typically a headless Service: one A/AAAA record per ready pod. */
  name: string;
  port: number;
  refreshMs: number;
  /** Returns the addresses the name resolves to; defaults to the system resolver (dns.lookup, all records). */
  resolve?: (name: string) => Promise<string[]>;
  /** Told about failed or empty refreshes; the last good endpoint set stays in use meanwhile. */
  onError?: (err: Error) => void;
}

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

  constructor(private readonly opts: DnsDiscoveryOptions) {
    if (!opts.name) throw new Error('dns discovery: name must be a non-empty host name');
    if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
      throw new Error(`dns discovery for ${opts.name}: port must be an integer 1-65535, got ${opts.port}`);
    }
    if (!Number.isFinite(opts.refreshMs) || opts.refreshMs <= 0) {
      throw new Error(`dns discovery for ${opts.name}: refreshMs must be a positive number, got ${opts.refreshMs}`);
    }
    this.resolve = opts.resolve ?? lookupAll;
  }

  /**
   * Resolves once now (rejects if that fails or finds no address), then every refreshMs on an unref'd timer.
   * onChange is called only when the sorted set of endpoints changes; failed or empty refreshes keep the last good set.
   */
  async start(onChange: (endpoints: string[]) => void): Promise<string[]> {
    if (this.running) throw new Error(`dns discovery for ${this.opts.name}: already started`);
    this.running = true;
    let first: string[];
    try {
      first = await this.resolveEndpoints();
      if (first.length === 0) throw new Error(`dns discovery: ${this.opts.name} resolved to no addresses`);
    } catch (err) {
      this.running = false;
      throw err;
    }
    this.endpoints = first;
    this.scheduleRefresh(onChange);
    return [...first];
  }

  stop(): void {
    this.running = false;
    this.generation += 1;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async resolveEndpoints(): Promise<string[]> {
    const addresses = await this.resolve(this.opts.name);
    const unique = new Set(addresses.map((address) => formatEndpoint(address, this.opts.port)));
    return [...unique].sort();
  }

  // A chained timeout rather than setInterval: a slow resolver never overlaps with the next refresh.
  private scheduleRefresh(onChange: (endpoints: string[]) => void): void {
    if (!this.running) return;
    const generation = this.generation;
    this.timer = setTimeout(() => void this.refresh(onChange, generation), this.opts.refreshMs);
    this.timer.unref();
  }

  private async refresh(onChange: (endpoints: string[]) => void, generation: number): Promise<void> {
    let next: string[] | undefined;
    let problem: string | undefined;
    try {
      next = await this.resolveEndpoints();
      if (next.length === 0) problem = 'resolved to no addresses';
    } catch (err) {
      problem = `refresh failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (generation !== this.generation) return;
    if (problem) this.reportKept(problem);
    this.scheduleRefresh(onChange);
    if (next && next.length > 0 && !sameEndpoints(next, this.endpoints)) {
      this.endpoints = next;
      onChange([...next]);
    }
  }

  private reportKept(problem: string): void {
    const kept = this.endpoints.length;
    this.opts.onError?.(new Error(`dns discovery: ${this.opts.name} ${problem}; keeping the last ${kept} known endpoint(s)`));
  }
}
