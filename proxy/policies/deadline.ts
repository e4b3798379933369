import { clock } from '../runtime/clock.js';
import type { Layer } from './exchange.js';

/**
 * The route's overall deadline, covering every attempt, backoff and queue wait. Setting it is all this layer does:
 * the attempt layer aborts whatever runs when it passes, and the retry layer never sleeps past it.
 */
export function deadlineLayer(timeoutMs: number): Layer {
  return (next) => (exchange) => {
    exchange.deadline = Math.min(exchange.deadline, clock.time() + timeoutMs);
    return next(exchange);
  };
}
