/** The JSON GET /admin/stats returns. */
export interface StatsSnapshot {
  name: string;
  requests: { total: number; byRoute: Record<string, number> };
  orders: { accepted: number; duplicates: number };
  inFlight: number;
}

/** Counts /api/* requests when they arrive (before any injected delay or hang) and those still open. */
export class RequestStats {
  #total = 0;
  #byRoute = new Map<string, number>();
  #inFlight = 0;

  /** `route` is "METHOD /template", e.g. "GET /api/data": bounded, never a raw URL. */
  arrived(route: string): void {
    this.#total += 1;
    this.#byRoute.set(route, (this.#byRoute.get(route) ?? 0) + 1);
    this.#inFlight += 1;
  }

  /** Called when the response closes, whether answered or abandoned by the client. */
  closed(): void {
    this.#inFlight -= 1;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get total(): number {
    return this.#total;
  }

  byRoute(): Record<string, number> {
    return Object.fromEntries(this.#byRoute);
  }

  /** Zeroes the counters; requests still open stay in flight. */
  reset(): void {
    this.#total = 0;
    this.#byRoute.clear();
  }
}
