import t from 'tap';
import { Endpoint } from '../../../proxy/upstream/endpoint.js';
import { LeastRequest, RoundRobin } from '../../../proxy/upstream/balancer.js';

/** Endpoints with the health fields available() reads, but no connection pool. */
function endpoints(n: number): Endpoint[] {
  return Array.from({ length: n }, (_, i) =>
    Object.assign(Object.create(Endpoint.prototype) as Endpoint, {
      address: `10.0.0.${i + 1}:80`,
      inflight: 0,
      ejectedUntil: 0,
      checkHealthy: true,
    }),
  );
}

const NOW = 1000;

t.test('round robin: first attempts take turns', async (t) => {
  const all = endpoints(3);
  const rr = new RoundRobin();
  const picked = Array.from({ length: 6 }, () => rr.pick(all, 'untried', [], NOW)!.address);
  t.same(picked, ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80']);
});

t.test('round robin: a retry picks an endpoint not tried yet and leaves the first-attempt order alone', async (t) => {
  const all = endpoints(2);
  const rr = new RoundRobin();
  const firsts: string[] = [];
  for (let i = 0; i < 6; i++) {
    const first = rr.pick(all, 'untried', [], NOW)!;
    firsts.push(first.address);
    const retry = rr.pick(all, 'untried', [first.address], NOW)!;
    t.not(retry.address, first.address, 'the retry goes elsewhere');
  }
  t.same(firsts, ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.1:80', '10.0.0.2:80', '10.0.0.1:80', '10.0.0.2:80']);
});

t.test('round robin: retries take turns among the endpoints not tried', async (t) => {
  const all = endpoints(3);
  const rr = new RoundRobin();
  const retries = Array.from({ length: 4 }, () => rr.pick(all, 'untried', ['10.0.0.1:80'], NOW)!.address);
  t.same(retries, ['10.0.0.2:80', '10.0.0.3:80', '10.0.0.2:80', '10.0.0.3:80']);
});

t.test('eligibility: unavailable endpoints are skipped unless any will do; nothing eligible gives undefined', async (t) => {
  const all = endpoints(2);
  all[0]!.ejectedUntil = NOW + 1;
  const rr = new RoundRobin();
  t.equal(rr.pick(all, 'untried', [], NOW)!.address, '10.0.0.2:80');
  t.equal(rr.pick(all, 'untried', ['10.0.0.2:80'], NOW), undefined, 'the only available endpoint was tried');
  t.equal(rr.pick(all, 'available', ['10.0.0.2:80'], NOW)!.address, '10.0.0.2:80', 'a tried one will do');
  all[1]!.checkHealthy = false;
  t.equal(rr.pick(all, 'available', [], NOW), undefined);
  t.ok(rr.pick(all, 'any', [], NOW), 'panic mode takes any');
  t.equal(rr.pick([], 'any', [], NOW), undefined, 'no endpoints at all');
});

t.test('least request: the less busy of two random picks; a retry avoids what was tried', async (t) => {
  const all = endpoints(3);
  all[0]!.inflight = 5;
  all[1]!.inflight = 1;
  const draws = [0, 0.4]; // endpoint 1 first, then endpoint 2
  const lr = new LeastRequest(() => draws.shift() ?? 0);
  t.equal(lr.pick(all, 'untried', [], NOW)!.address, '10.0.0.2:80', 'fewer in flight wins');
  const retry = new LeastRequest(() => 0);
  t.equal(retry.pick(all, 'untried', ['10.0.0.1:80', '10.0.0.2:80'], NOW)!.address, '10.0.0.3:80');
  t.equal(retry.pick(all, 'untried', all.map((e) => e.address), NOW), undefined);
});

t.test('least request: one endpoint needs one draw; a tie keeps the first pick; the second pick is never the first', async (t) => {
  const draws: number[] = [];
  const lr = new LeastRequest(() => {
    const draw = draws.shift();
    if (draw === undefined) throw new Error('drew more random numbers than expected');
    return draw;
  });
  const single = endpoints(1);
  draws.push(0.9);
  t.equal(lr.pick(single, 'untried', [], NOW)!.address, '10.0.0.1:80');
  t.same(draws, [], 'one draw for one endpoint');

  const two = endpoints(2);
  draws.push(0, 0);
  t.equal(lr.pick(two, 'untried', [], NOW)!.address, '10.0.0.1:80', 'equal load: the first pick stays');
  two[0]!.inflight = 2;
  draws.push(0, 0);
  t.equal(lr.pick(two, 'untried', [], NOW)!.address, '10.0.0.2:80', 'the same draw twice still compares two endpoints');
});

t.test('least request: unavailable endpoints are skipped unless any will do', async (t) => {
  const all = endpoints(3);
  all[0]!.ejectedUntil = NOW + 1;
  all[1]!.checkHealthy = false;
  const lr = new LeastRequest(() => 0);
  t.equal(lr.pick(all, 'untried', [], NOW)!.address, '10.0.0.3:80', 'the only available endpoint');
  all[2]!.ejectedUntil = NOW + 1;
  t.equal(lr.pick(all, 'available', [], NOW), undefined);
  t.equal(lr.pick(all, 'any', [], NOW)!.address, '10.0.0.1:80', 'panic mode takes any');
  t.equal(lr.pick(all, 'untried', [], NOW + 1)!.address, '10.0.0.1:80', 'an ejection ends at its time');
});
