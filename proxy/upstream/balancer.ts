import type { Endpoint } from './endpoint.js';

/**
 * Which endpoints a pick may return: available ones not tried yet by this request, any available one, or any at all
 * (panic mode). A value rather than a predicate, so a pick allocates no closure.
 */
export type Eligibility = 'untried' | 'available' | 'any';

export function isEligible(endpoint: Endpoint, eligibility: Eligibility, tried: readonly string[], now: number): boolean {
  if (eligibility === 'any') return true;
  if (!endpoint.available(now)) return false;
  return eligibility === 'available' || !tried.includes(endpoint.address);
}

/**
 * Chooses among the endpoints `eligibility` accepts; undefined when none does. `tried` lists the endpoints this
 * request has already tried: empty for a first attempt, which alone moves the order first attempts follow.
 */
export interface Balancer {
  pick(endpoints: readonly Endpoint[], eligibility: Eligibility, tried: readonly string[], now: number): Endpoint | undefined;
}

/**
 * First attempts take turns whatever retries do: retries follow a cursor of their own. With one endpoint of two
 * failing, a shared cursor sent every first attempt to the failing one, since each retry moved the cursor past it.
 */
export class RoundRobin implements Balancer {
  private nextFirst = 0;
  private nextRetry = 0;

  pick(endpoints: readonly Endpoint[], eligibility: Eligibility, tried: readonly string[], now: number): Endpoint | undefined {
    const n = endpoints.length;
    const retry = tried.length > 0;
    const start = retry ? this.nextRetry : this.nextFirst;
    for (let i = 0; i < n; i++) {
      const index = (start + i) % n;
      const endpoint = endpoints[index]!;
      if (isEligible(endpoint, eligibility, tried, now)) {
        if (retry) this.nextRetry = (index + 1) % n;
        else this.nextFirst = (index + 1) % n;
        return endpoint;
      }
    }
    return undefined;
  }
}

/** Power of two choices: two random eligible endpoints, the one with fewer attempts in flight wins. */
export class LeastRequest implements Balancer {
  constructor(private readonly random: () => number = Math.random) {}

  pick(endpoints: readonly Endpoint[], eligibility: Eligibility, tried: readonly string[], now: number): Endpoint | undefined {
    const first = this.randomEligible(endpoints, eligibility, tried, now, undefined);
    if (first === undefined || endpoints.length === 1) return first;
    const second = this.randomEligible(endpoints, eligibility, tried, now, first);
    return second !== undefined && second.inflight < first.inflight ? second : first;
  }

  private randomEligible(
    endpoints: readonly Endpoint[],
    eligibility: Eligibility,
    tried: readonly string[],
    now: number,
    except: Endpoint | undefined,
  ): Endpoint | undefined {
    const n = endpoints.length;
    const start = Math.floor(this.random() * n);
    for (let i = 0; i < n; i++) {
      const endpoint = endpoints[(start + i) % n]!;
      if (endpoint !== except && isEligible(endpoint, eligibility, tried, now)) return endpoint;
    }
    return undefined;
  }
}
