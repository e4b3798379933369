/**
 * Counts the requests a policy generation is serving, so a reload retires the old generation's upstream pools,
 * breakers and bulkheads only after its last request has finished (or a bound has passed), never under a request.
 */
export class GenerationUsers {
  count = 0;
  private waiters: Array<() => void> = [];

  /** One function for every request of the generation, registered with each request's scope. */
  readonly leave = (): void => {
    if (--this.count === 0 && this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    }
  };

  enter(): void {
    this.count++;
  }

  /** Resolves true when no request is left, or false once `boundMs` has passed with some still running. */
  idle(boundMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), boundMs);
      timer.unref();
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
