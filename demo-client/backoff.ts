import type { AppPolicy } from './types.js';

/** Delay before retry number `retry` (1 = the first retry): capped exponential backoff with the policy's jitter. */
export function backoffDelayMs(retry: number, policy: AppPolicy['retry'], random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** (retry - 1));
  switch (policy.jitter) {
    case 'full':
      return random() * ceiling;
    case 'equal':
      return ceiling / 2 + random() * (ceiling / 2);
    case 'none':
      return ceiling;
  }
}
