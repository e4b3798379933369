import { Agent } from 'undici';
import { errorCode, headerValue, sendAttempt } from './http-attempt.js';
import type { Caller, CallOutcome } from './types.js';

export interface PlainCallerOptions {
  url: string;
  method: string;
  /** The only protection the baseline has: a generous socket (headers/body idle) timeout. */
  socketTimeoutMs: number;
}

/**
 * The `none` arm: a plain keep-alive undici call. Pointed at Breakwater it is also the `proxy` arm, so it reads the
 * sidecar's answer headers (attempts, short-circuit, bulkhead) without changing what it does.
 */
export class PlainCaller implements Caller {
  private readonly agent: Agent;

  constructor(private readonly options: PlainCallerOptions) {
    this.agent = new Agent({
      headersTimeout: options.socketTimeoutMs,
      bodyTimeout: options.socketTimeoutMs,
      keepAliveTimeout: 4_000,
    });
  }

  async call(signal?: AbortSignal): Promise<CallOutcome> {
    try {
      const { status, headers } = await sendAttempt(this.agent, this.options.url, this.options.method, signal);
      const attempts = Number(headerValue(headers, 'x-breakwater-attempts'));
      return {
        status,
        attempts: Number.isInteger(attempts) && attempts > 0 ? attempts : undefined,
        fastFail: headerValue(headers, 'x-breakwater-circuit') === 'open' || headerValue(headers, 'x-breakwater-bulkhead') === 'rejected',
      };
    } catch (err) {
      return { status: 0, error: errorCode(err), fastFail: false };
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
