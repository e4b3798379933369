/** The worker side of checkPolicyFile(): reads and checks one policy file and answers once. */
import { parentPort, workerData } from 'node:worker_threads';
import { loadPolicyFile } from './load.js';
import { PolicyError } from './policy-error.js';
import type { PolicyCheckAnswer } from './policy-check.js';

const { file } = workerData as { file: string };
let answer: PolicyCheckAnswer;
try {
  answer = { policy: await loadPolicyFile(file) };
} catch (err) {
  answer = err instanceof PolicyError ? { problems: err.problems } : { failure: (err as Error).stack ?? String(err) };
}
parentPort!.postMessage(answer);
