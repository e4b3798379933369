/**
 * Outlier detection as Envoy users expect it, through a real Breakwater: in a pool of four at 10%, the one failing
 * endpoint is still ejected (at least one may go), and however often it is ejected again, no ejection outlasts
 * `maxEjectionTime`. The failing endpoint is a loopback port nobody listens on.
 */
import { createServer, type AddressInfo } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { http, startBreakwater } from '../helpers/breakwater.js';
import { startScriptedUpstream } from '../helpers/scripted-upstream.js';

/** A loopback port that refuses connections: bound by the OS, then closed. */
async function refusingAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

interface EndpointView {
  address: string;
  available: boolean;
  ejections: number;
  ejectedForMs: number;
}

t.test('one failing endpoint of four at maxEjectionPercent 10 is ejected, each time for at most maxEjectionTime', async (t) => {
  const healthy = await Promise.all([1, 2, 3].map(() => startScriptedUpstream()));
  t.teardown(() => Promise.all(healthy.map((u) => u.close())));
  const refusing = await refusingAddress();
  const bw = await startBreakwater({
    listeners: [{ name: 'egress', address: '127.0.0.1:0', routes: [{ name: 'api', upstream: 'pool', retry: { attempts: 2, on: ['connect-failure'] } }] }],
    upstreams: [
      {
        name: 'pool',
        endpoints: [refusing, ...healthy.map((u) => u.address)],
        outlierDetection: { consecutiveFailures: 1, baseEjectionTime: '100ms', maxEjectionTime: '250ms', maxEjectionPercent: 10 },
      },
    ],
  });
  t.teardown(() => bw.stop());

  const endpoint = async (): Promise<EndpointView> => {
    const res = await request(`${bw.admin}/endpoints`);
    const view = (await res.body.json()) as { upstreams: Array<{ endpoints: EndpointView[] }> };
    return view.upstreams[0]!.endpoints.find((e) => e.address === refusing)!;
  };
  // Bounded: until it has been ejected five times (the multiplier would reach 500 ms uncapped), at most 600 requests.
  let longest = 0;
  let failed = 0;
  let seen: EndpointView | undefined;
  for (let i = 0; i < 600; i++) {
    if ((await http(`${bw.url}/api/${i}`)).status !== 200) failed++;
    seen = await endpoint();
    longest = Math.max(longest, seen.ejectedForMs);
    if (seen.ejections >= 5) break;
  }
  t.equal(failed, 0, 'every request answered 200, retried onto a healthy endpoint when needed');
  t.ok(seen && seen.ejections >= 5, `the failing endpoint was ejected again and again (${seen?.ejections} times), though 10% of 4 rounds down to 0`);
  t.ok(longest > 0 && longest <= 250, `no ejection outlasted maxEjectionTime (longest seen ${longest} ms)`);
});
