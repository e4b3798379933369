/**
 * Checks a policy file in a short-lived child process. The yaml parse is slow (about half a second for a 1000-route
 * file) and holds its thread throughout, so on the proxy's own thread every request in flight during a reload waited
 * for it. Its garbage (tens of MB for such a file) also landed in the proxy's heap, and under the Helm chart's
 * old-generation cap a file of some thousands of routes ran the proxy out of memory and killed it mid-reload.
 *
 * The child's old generation may use only what the proxy's heap has left under its ceiling, so both together stay
 * within what the operator set (NODE_OPTIONS=--max-old-space-size): a file too large to check is refused like any bad
 * file, and the running proxy keeps serving. A process, not a worker thread: V8 applies --max-old-space-size to every
 * isolate of a process and ignores a worker's resourceLimits then (nodejs/node#43991), and a process that runs out of
 * heap aborts as a whole. A small file is checked in-process instead: starting a child costs far more CPU than
 * parsing 16 KiB, which holds the loop for only milliseconds and leaves little garbage.
 */
import { fork } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { checkerExecArgv, checkerNodeOptions } from './checker-options.js';
import type { Policy } from './policy.js';
import { PolicyError } from './policy-error.js';

export type PolicyCheckAnswer = { policy: Policy } | { problems: string[] } | { failure: string };

const CHILD = fileURLToPath(new URL('./policy-check-child.js', import.meta.url));
const MiB = 1024 * 1024;
/** Below this the check cannot even load its libraries; a proxy this close to its ceiling is in trouble anyway. */
const MIN_HEAP_MB = 32;
/** A check that runs this long is stuck (1000 routes take about half a second): reloads must not wait for it forever. */
const CHECK_TIMEOUT_MS = 30_000;
const STDERR_KEPT = 4096;
/** Files up to this size are checked on the proxy's thread (see above). */
const IN_PROCESS_BYTES = 16 * 1024;

export interface PolicyCheckOptions {
  timeoutMs?: number;
  inProcessBytes?: number;
}

/** What the proxy's heap can still grow by: the check's own old-generation limit. */
function spareHeapMb(): number {
  const heap = getHeapStatistics();
  return Math.max(MIN_HEAP_MB, Math.floor((heap.heap_size_limit - heap.used_heap_size) / MiB));
}

/** Reads and checks `file` (off the event loop unless it is small); rejects with PolicyError when it cannot be used. */
export async function checkPolicyFile(file: string, options: PolicyCheckOptions = {}): Promise<Policy> {
  // A file that cannot be stat'ed is read in-process too, which reports why it cannot be read.
  const size = await stat(file).then((s) => s.size, () => 0);
  if (size <= (options.inProcessBytes ?? IN_PROCESS_BYTES)) return (await import('./load.js')).loadPolicyFile(file);
  return checkInChild(file, options.timeoutMs ?? CHECK_TIMEOUT_MS);
}

function checkInChild(file: string, timeoutMs: number): Promise<Policy> {
  const heapMb = spareHeapMb();
  return new Promise((resolve, reject) => {
    const nodeOptions = checkerNodeOptions(process.env.NODE_OPTIONS);
    const child = fork(CHILD, [file], {
      execArgv: checkerExecArgv(process.execArgv, heapMb),
      env: nodeOptions === undefined ? process.env : { ...process.env, NODE_OPTIONS: nodeOptions },
      serialization: 'advanced', // keeps Sets (and Buffers, as Uint8Arrays) across
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    let outOfMemory = false;
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEPT);
      outOfMemory ||= /heap out of memory/.test(stderr);
    });
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        outcome();
      } catch (err) {
        reject(err);
      }
    };
    const timer = setTimeout(() => {
      settle(() => reject(new PolicyError(file, [`checking the policy took longer than ${timeoutMs} ms; it was stopped`])));
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('message', (answer: PolicyCheckAnswer) =>
      settle(() => {
        if ('policy' in answer) resolve(revive(answer.policy));
        else if ('problems' in answer) reject(new PolicyError(file, answer.problems));
        else reject(new Error(`policy check failed: ${answer.failure}`));
      }),
    );
    child.once('error', (err) => settle(() => reject(new Error(`policy check could not run: ${err.message}`))));
    // 'close' comes after stderr has ended, so an abort's last words are in `stderr` by then.
    child.once('close', (code, signal) =>
      settle(() => {
        if (outOfMemory) {
          reject(
            new PolicyError(file, [
              `checking the policy needs more memory than the proxy's heap has left (${heapMb} MiB); the file is too large: split it, or raise --max-old-space-size in NODE_OPTIONS`,
            ]),
          );
        } else {
          reject(new Error(`policy check ended (exit code ${code}, signal ${signal}) without an answer${stderr ? `: ${stderr.trim()}` : ''}`));
        }
      }),
    );
  });
}

/** The serializer turns a Buffer into a plain Uint8Array; the proxy tells a fallback's body by Buffer.isBuffer. */
function revive(policy: Policy): Policy {
  for (const listener of policy.listeners) {
    for (const route of listener.routes) {
      const body = route.fallback?.body;
      if (body) route.fallback!.body = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    }
  }
  return policy;
}
