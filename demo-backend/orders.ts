import { randomUUID } from 'node:crypto';

export interface Order {
  id: string;
  idempotencyKey?: string;
  /** Whatever JSON the client sent. */
  details: unknown;
  createdAt: string;
}

export interface PlaceResult {
  order: Order;
  /** True when the Idempotency-Key was seen before and the original order is returned. */
  duplicate: boolean;
}

/** A non-idempotent write: every call creates an order unless it carries an Idempotency-Key already seen. */
export class OrderBook {
  #byKey = new Map<string, Order>();
  #accepted = 0;
  #duplicates = 0;

  place(idempotencyKey: string | undefined, details: unknown): PlaceResult {
    const existing = idempotencyKey === undefined ? undefined : this.#byKey.get(idempotencyKey);
    if (existing) {
      this.#duplicates += 1;
      return { order: existing, duplicate: true };
    }
    const order: Order = { id: randomUUID(), details, createdAt: new Date().toISOString() };
    if (idempotencyKey !== undefined) {
      order.idempotencyKey = idempotencyKey;
      this.#byKey.set(idempotencyKey, order);
    }
    this.#accepted += 1;
    return { order, duplicate: false };
  }

  get accepted(): number {
    return this.#accepted;
  }

  get duplicates(): number {
    return this.#duplicates;
  }

  /** Forgets every order and key. */
  reset(): void {
    this.#byKey.clear();
    this.#accepted = 0;
    this.#duplicates = 0;
  }
}
