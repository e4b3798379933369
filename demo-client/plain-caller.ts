import { Agent } from 'undici';
import { errorCode, headerValue, sendAttempt } from './http-attempt.js';
import type { Caller, CallOutcome } from './types.js';

export interface PlainCallerOptions {
  url: string;
  method: string;
  /** A generous socket (headers/body idle) timeout. */
  socketTimeoutMs: number;
  /** The whole request's timeout, as a client library's request timeout; none when undefined. */
  requestTimeoutMs?: number;
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
    const { requestTimeoutMs } = this.options;
    const timeout = requestTimeoutMs === undefined ? undefined : AbortSignal.timeout(requestTimeoutMs);
    const callSignal = timeout && signal ? AbortSignal.any([signal, timeout]) : (timeout ?? signal);
    try {
      const { status, headers, replica } = await sendAttempt(this.agent, this.options.url, this.options.method, callSignal);
      const fastFail = headerValue(headers, 'x-breakwater-circuit') === 'open' || headerValue(headers, 'x-breakwater-bulkhead') === 'rejected';
      const attempts = Number(headerValue(headers, 'x-breakwater-attempts'));
      // A fast-fail reached no backend: 0 attempts, whether or not the sidecar said so.
      const reported = fastFail ? 0 : Number.isInteger(attempts) && attempts > 0 ? attempts : undefined;
      return { status, ...(reported !== undefined ? { attempts: reported } : {}), fastFail, ...(replica ? { replica } : {}) };
    } catch (err) {
      return { status: 0, error: timeout?.aborted ? 'timeout' : errorCode(err), fastFail: false };
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
