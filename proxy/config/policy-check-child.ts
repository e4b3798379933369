/** The child-process side of checkPolicyFile(): reads and checks one policy file, answers once and exits. */
import { loadPolicyFile } from './load.js';
import { PolicyError } from './policy-error.js';
import type { PolicyCheckAnswer } from './policy-check.js';

const file = process.argv[2]!;
let answer: PolicyCheckAnswer;
try {
  answer = { policy: await loadPolicyFile(file) };
} catch (err) {
  answer = err instanceof PolicyError ? { problems: err.problems } : { failure: (err as Error).stack ?? String(err) };
}
process.send!(answer, () => process.disconnect());
