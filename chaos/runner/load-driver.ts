// Where an arm's client runs. In this process by default; the mini-cluster runs the same code inside its client pod
// (chaos/environments/cluster/client-pod-load.ts), so the client reaches Breakwater on the pod's loopback as a container would.
import { warmUpGrpc } from '../../demo-client/grpc/grpc-caller.js';
import { runLoad, type LoadOptions, type LoadProtocol, type RequestRecord } from '../../demo-client/load.js';

export interface LoadDriver {
  /** Unrecorded requests that warm the freshly started processes up (JIT, first connections). */
  warmUp(url: string, method: string, protocol: LoadProtocol): Promise<void>;
  run(options: LoadOptions): Promise<{ records: RequestRecord[] }>;
}

const WARM_UP_REQUESTS = 20;
const WARM_UP_MS = 2000;

export const inProcessLoad: LoadDriver = {
  /** Up to 20 sequential requests, for at most 2 s (a slow route gets fewer). */
  async warmUp(url, method, protocol) {
    if (protocol === 'grpc') return warmUpGrpc(url);
    const deadline = AbortSignal.timeout(WARM_UP_MS);
    for (let i = 0; i < WARM_UP_REQUESTS && !deadline.aborted; i++) {
      await fetch(url, { method, signal: deadline }).then((r) => r.arrayBuffer(), () => undefined);
    }
  },
  run: runLoad,
};
