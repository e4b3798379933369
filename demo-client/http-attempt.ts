import { request, type Dispatcher } from 'undici';

export interface AttemptResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The demo backend's x-backend-replica: which replica answered (through Breakwater too, which relays it). */
  replica?: string;
}

/**
 * One HTTP exchange; the body is always consumed so the keep-alive connection goes back to the pool. It settles when
 * `signal` aborts even if the request cannot yet: undici holds a request waiting for a connection to an address that
 * drops packets until that connect itself gives up, and a timeout must read as the time the caller gave it.
 */
export function sendAttempt(dispatcher: Dispatcher, url: string, method: string, signal?: AbortSignal): Promise<AttemptResult> {
  const exchange = (async () => {
    const response = await request(url, { dispatcher, method: method as Dispatcher.HttpMethod, signal });
    try {
      await response.body.dump();
    } catch {
      // A body cut short still answered with a status; the caller judges the status.
    }
    const replica = headerValue(response.headers, 'x-backend-replica');
    return { status: response.statusCode, headers: response.headers, ...(replica ? { replica } : {}) };
  })();
  return signal ? settleOnAbort(exchange, signal) : exchange;
}

function settleOnAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined); // once the caller has its answer, a late failure of the abandoned request is not news
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A short stable name for a failed exchange: the system/undici code (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT) or the error name. */
export function errorCode(err: unknown): string {
  if (err && typeof err === 'object') {
    const { code, name } = err as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && code !== '') return code;
    if (typeof name === 'string' && name !== '') return name;
  }
  return 'error';
}

export function headerValue(headers: AttemptResult['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
