/**
 * Fault injection per route, as service meshes offer it: delay or abort a share of requests without touching the
 * application. Injected faults are marked on the exchange so logs and metrics never mistake them for real ones.
 */
import type { FaultPolicy } from '../config/policy.js';
import type { Layer } from '../core/exchange.js';
import { localResponse } from '../core/local-response.js';
import type { PolicyPart } from './part.js';

export function faultLayer(fault: FaultPolicy, injected: (kind: 'delay' | 'abort') => void, random: () => number = Math.random): Layer {
  return (next) => async (exchange) => {
    if (fault.delay && random() * 100 < fault.delay.percent) {
      exchange.trace.injected = 'delay';
      injected('delay');
      await exchange.scope.sleep(fault.delay.durationMs); // the client leaving ends the wait: nothing is sent
    }
    if (fault.abort && random() * 100 < fault.abort.percent) {
      exchange.trace.injected = 'abort';
      exchange.trace.local = 'fault-abort';
      injected('abort');
      const body = Buffer.from(JSON.stringify({ error: 'fault injected by breakwater', status: fault.abort.status }));
      return localResponse(fault.abort.status, { 'content-type': 'application/json', 'x-breakwater-fault': 'abort' }, body);
    }
    return next(exchange);
  };
}

export const faultPart: PolicyPart = {
  name: 'fault',
  build: ({ policy, metrics }) => policy.fault && faultLayer(policy.fault, (kind) => metrics.faultsInjected.inc({ route: policy.name, kind })),
};
