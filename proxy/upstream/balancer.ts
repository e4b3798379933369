import type { Endpoint } from './endpoint.js';

/** Chooses among endpoints that `eligible` accepts; undefined when none does. */
export interface Balancer {
  pick(endpoints: readonly Endpoint[], eligible: (e: Endpoint) => boolean): Endpoint | undefined;
}

export class RoundRobin implements Balancer {
  private next = 0;

  pick(endpoints: readonly Endpoint[], eligible: (e: Endpoint) => boolean): Endpoint | undefined {
    const n = endpoints.length;
    for (let i = 0; i < n; i++) {
      const endpoint = endpoints[(this.next + i) % n]!;
      if (eligible(endpoint)) {
        this.next = (this.next + i + 1) % n;
        return endpoint;
      }
    }
    return undefined;
  }
}

/** Power of two choices: two random eligible endpoints, the one with fewer attempts in flight wins. */
export class LeastRequest implements Balancer {
  constructor(private readonly random: () => number = Math.random) {}

  pick(endpoints: readonly Endpoint[], eligible: (e: Endpoint) => boolean): Endpoint | undefined {
    const n = endpoints.length;
    const first = this.randomEligible(endpoints, eligible);
    if (first === undefined || n === 1) return first;
    const second = this.randomEligible(endpoints, (e) => e !== first && eligible(e));
    return second !== undefined && second.inflight < first.inflight ? second : first;
  }

  private randomEligible(endpoints: readonly Endpoint[], eligible: (e: Endpoint) => boolean): Endpoint | undefined {
    const n = endpoints.length;
    const start = Math.floor(this.random() * n);
    for (let i = 0; i < n; i++) {
      const endpoint = endpoints[(start + i) % n]!;
      if (eligible(endpoint)) return endpoint;
    }
    return undefined;
  }
}
