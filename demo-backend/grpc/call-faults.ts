// The demo backend's fault knobs (hang, failNext, failureRate, slowRate/slowDelay) applied to a gRPC call: the same
// FaultInjector decides, only the answer is gRPC's. An injected failure is UNAVAILABLE, what a gRPC client or proxy
// retries, whatever HTTP status the knobs name.
import type { Metadata } from '@grpc/grpc-js';

/** What this code uses of a grpc-js server call, of any of the four kinds. */
export interface ServerSurfaceCall {
  readonly cancelled: boolean;
  once(event: 'cancelled', listener: () => void): unknown;
  off(event: 'cancelled', listener: () => void): unknown;
  sendMetadata(metadata: Metadata): void;
}
import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultInjector } from '../fault-injector.js';

export type CallVerdict = 'answer' | 'fail' | 'hang' | 'caller-gone';

export async function callVerdict(faults: FaultInjector, call: ServerSurfaceCall): Promise<CallVerdict> {
  const forced = faults.forced();
  const outcome = forced.kind === 'answer' ? faults.forData() : forced;
  switch (outcome.kind) {
    case 'answer':
      return 'answer';
    case 'hang':
      return 'hang';
    case 'fail':
    case 'throttle':
      return 'fail';
    case 'delay':
      return (await pause(outcome.ms, call)) ? 'answer' : 'caller-gone';
  }
}

/** Waits `ms`, cut short when the caller cancels (or its deadline passes); false when it did. */
async function pause(ms: number, call: ServerSurfaceCall): Promise<boolean> {
  if (call.cancelled) return false;
  const gone = new AbortController();
  const onCancel = () => gone.abort();
  call.once('cancelled', onCancel);
  try {
    await sleep(ms, undefined, { signal: gone.signal });
    return true;
  } catch {
    return false;
  } finally {
    call.off('cancelled', onCancel);
  }
}
