/**
 * A fake `Send` for driving one policy layer in-process: it answers each attempt as the test scripts it (a status, a
 * response, or a ProxyError thrown), records the exchanges it was given, and hands out response bodies that count how
 * they were disposed of, so a test can tell a forwarded response from one a policy discarded.
 */
import type { Exchange, RequestBody, ResponseBody, Send, UpstreamResponse } from '../../proxy/core/exchange.js';
import { grpcStatusOf } from '../../proxy/core/grpc.js';
import { ProxyError } from '../../proxy/core/proxy-error.js';
import { RequestScope } from '../../proxy/core/request-scope.js';

/** A body that only counts what was done with it. */
export interface CountingBody extends ResponseBody {
  discarded: number;
  aborted: number;
  piped: number;
}

export interface FakeResponse extends UpstreamResponse {
  body: CountingBody;
}

/**
 * What one attempt gives: a status (empty headers), a response, or a thrown ProxyError. A response whose headers carry
 * grpc-status is a trailers-only gRPC answer: it gets its grpcStatus, as the upstream attempt sets it.
 */
export type Answer = number | { status: number; headers?: Record<string, string> } | ProxyError;

/** A fixed answer, one answer per attempt (the last repeats), or a function of the attempt (1-based). */
export type Script = Answer | readonly Answer[] | ((attempt: number, exchange: Exchange) => Answer | Promise<Answer>);

export interface FakeUpstream {
  send: Send;
  /** What the next attempts give; may be replaced between calls. */
  script: Script;
  /** Every exchange sent, in order. */
  readonly sent: Exchange[];
  /** Every response returned, in order. */
  readonly responses: FakeResponse[];
  readonly calls: number;
}

export function countingBody(): CountingBody {
  return {
    discarded: 0,
    aborted: 0,
    piped: 0,
    pipeTo() {
      this.piped++;
    },
    discard() {
      this.discarded++;
    },
    abort() {
      this.aborted++;
    },
  };
}

export function fakeUpstream(script: Script = 200): FakeUpstream {
  const upstream: FakeUpstream = {
    script,
    sent: [],
    responses: [],
    get calls() {
      return this.sent.length;
    },
    send: async (exchange) => {
      upstream.sent.push(exchange);
      const attempt = upstream.sent.length;
      const current = upstream.script;
      const answer =
        typeof current === 'function'
          ? await current(attempt, exchange)
          : Array.isArray(current)
            ? current[Math.min(attempt, current.length) - 1]!
            : (current as Answer);
      if (answer instanceof ProxyError) throw answer;
      const { status, headers = {} } = typeof answer === 'number' ? { status: answer } : answer;
      const response: FakeResponse = { status, headers: { ...headers }, body: countingBody() };
      const grpcStatus = grpcStatusOf(headers);
      if (grpcStatus !== undefined) response.grpcStatus = grpcStatus;
      upstream.responses.push(response);
      return response;
    },
  };
  return upstream;
}

/** An exchange as the listener builds it: an idempotent GET without a body, in a fresh scope. */
export function fakeExchange(overrides: { method?: string; idempotent?: boolean; body?: RequestBody; scope?: RequestScope; grpc?: boolean } = {}): Exchange & { scope: RequestScope } {
  return {
    ...(overrides.grpc ? { grpc: true } : {}),
    method: overrides.method ?? 'GET',
    path: '/',
    headers: {},
    body: overrides.body ?? { kind: 'none' },
    idempotent: overrides.idempotent ?? true,
    scope: overrides.scope ?? new RequestScope(),
    trace: { attempts: 0, endpoints: [] },
  };
}

/** The status a send settles with, or the kind of the ProxyError it throws. */
export async function settle(pending: Promise<UpstreamResponse>): Promise<number | string> {
  try {
    return (await pending).status;
  } catch (err) {
    if (err instanceof ProxyError) return err.kind;
    throw err;
  }
}

/**
 * Makes `scope.sleep` (backoff, injected delays) return at once, recording each wait asked for, so a test checks the
 * delays a policy chose without spending them. A scope already stopped still rejects with its reason.
 */
export function recordSleeps(scope: RequestScope): number[] {
  const asked: number[] = [];
  scope.sleep = async (ms: number) => {
    asked.push(ms);
    scope.throwIfAborted();
  };
  return asked;
}
