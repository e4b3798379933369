// The open-loop client's achieved rate: answers that run late into the drain must lower it, or the soak would
// count a backlogged window as one that held its rate.
import t, { type Test } from 'tap';
import { nodeOpenLoop } from '../../../bench/load/node-load.js';
import { startBackend } from '../../helpers/demo-backend.js';

const RPS = 40;
const WINDOW_S = 0.5;

/** The demo backend's /api/data, every answer delayed by `slowDelay` ("0s": none). */
async function serve(t: Test, slowDelay: string): Promise<string> {
  const backend = await startBackend({ slowRate: 1, slowDelay });
  t.teardown(() => backend.stop());
  return `${backend.url}/api/data`;
}

t.test('answers that keep pace carry the asked rate', async (t) => {
  const result = await nodeOpenLoop({ url: await serve(t, '0s'), rps: RPS, durationS: WINDOW_S });
  t.equal(result.errors, 0, 'every request answered');
  // Room for a loaded machine sending the last few late; answers a window late (below) land near half.
  t.ok(result.achievedRps >= RPS * 0.7, `achieved ${result.achievedRps.toFixed(1)} rps of ${RPS}`);
});

t.test('answers a full window late halve the achieved rate', async (t) => {
  // Each answer takes one window length: the last arrives about two windows after the first send.
  const result = await nodeOpenLoop({ url: await serve(t, `${WINDOW_S * 1000}ms`), rps: RPS, durationS: WINDOW_S });
  t.equal(result.errors, 0, 'every request answered, within the drain');
  t.ok(result.achievedRps < RPS * 0.6, `achieved ${result.achievedRps.toFixed(1)} rps of ${RPS}: below the asked rate`);
});
