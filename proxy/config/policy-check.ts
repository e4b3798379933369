/**
 * Checks a policy file in a worker thread. The yaml parse is slow (about half a second for a 1000-route file) and
 * holds its thread throughout, so on the proxy's own thread every request in flight during a reload would wait for
 * it. Its garbage (tens of MB for such a file) also stays in that thread's heap, and under the Helm chart's
 * old-generation cap a file of some thousands of routes ran the proxy out of memory and killed it mid-reload.
 *
 * The worker's heap is bounded by what the proxy's heap has left, so both together stay within the ceiling the
 * operator set (NODE_OPTIONS=--max-old-space-size): a file too large to check is rejected like any bad file, and the
 * running proxy keeps serving. The worker is gone once it answers, and the proxy's thread never loads yaml or ajv.
 */
import { getHeapStatistics } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Policy } from './policy.js';
import { PolicyError } from './policy-error.js';

export type PolicyCheckAnswer = { policy: Policy } | { problems: string[] } | { failure: string };

const WORKER = new URL('./policy-check-worker.js', import.meta.url);
const MiB = 1024 * 1024;
/** Below this the check cannot even load its libraries; a proxy this close to its ceiling is in trouble anyway. */
const MIN_HEAP_MB = 32;
/** A check that runs this long is stuck (1000 routes take about half a second): reloads must not wait for it forever. */
const CHECK_TIMEOUT_MS = 30_000;

/** What the proxy's heap can still grow by: the check's own heap limit. */
function spareHeapMb(): number {
  const heap = getHeapStatistics();
  return Math.max(MIN_HEAP_MB, Math.floor((heap.heap_size_limit - heap.used_heap_size) / MiB));
}

/** Reads and checks `file` off the event loop; rejects with PolicyError when the file cannot be used. */
export function checkPolicyFile(file: string, timeoutMs = CHECK_TIMEOUT_MS): Promise<Policy> {
  const heapMb = spareHeapMb();
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: { file }, resourceLimits: { maxOldGenerationSizeMb: heapMb } });
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const timer = setTimeout(() => {
      settle(() => reject(new PolicyError(file, [`checking the policy took longer than ${timeoutMs} ms; it was stopped`])));
      void worker.terminate();
    }, timeoutMs);
    worker.once('message', (answer: PolicyCheckAnswer) =>
      settle(() => {
        if ('policy' in answer) resolve(revive(answer.policy));
        else if ('problems' in answer) reject(new PolicyError(file, answer.problems));
        else reject(new Error(`policy check failed: ${answer.failure}`));
      }),
    );
    worker.once('error', (err: Error & { code?: string }) =>
      settle(() => {
        if (err.code !== 'ERR_WORKER_OUT_OF_MEMORY') return reject(err);
        reject(new PolicyError(file, [`checking the policy needs more memory than the proxy's heap has left (${heapMb} MiB); the file is too large: split it, or raise --max-old-space-size in NODE_OPTIONS`]));
      }),
    );
    worker.once('exit', (code) => settle(() => reject(new Error(`policy check ended (exit code ${code}) without an answer`))));
  });
}

/** A structured clone turns a Buffer into a plain Uint8Array; the proxy tells a fallback's body by Buffer.isBuffer. */
function revive(policy: Policy): Policy {
  for (const listener of policy.listeners) {
    for (const route of listener.routes) {
      const body = route.fallback?.body;
      if (body) route.fallback!.body = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    }
  }
  return policy;
}
