import t from 'tap';
import { Registry } from 'prom-client';
import { HotCounter } from '../../../proxy/telemetry/hot-counter.js';

function counter() {
  const registry = new Registry();
  const requests = new HotCounter({ name: 'x_requests_total', help: 'Requests.', labelNames: ['route', 'outcome'] as const, registers: [registry] });
  return { registry, requests };
}

t.test('one cell per label set, exported at 0 from the moment it is looked up', async (t) => {
  const { registry, requests } = counter();
  const ok = requests.cell({ route: 'api', outcome: 'ok' });
  t.equal(requests.cell({ route: 'api', outcome: 'ok' }), ok, 'the same labels give the same cell');
  t.not(requests.cell({ route: 'api', outcome: 'reset' }), ok);
  t.match(await registry.metrics(), /^x_requests_total\{route="api",outcome="ok"\} 0$/m, 'a series at 0 before any count');
  ok.inc();
  ok.inc();
  t.match(await registry.metrics(), /^x_requests_total\{route="api",outcome="ok"\} 2$/m);
  t.match(await registry.metrics(), /^# TYPE x_requests_total counter$/m);
});

t.test('sample lines carry each cell\'s labels, escaped, and its count', async (t) => {
  const { requests } = counter();
  requests.cell({ route: 'say "hi"\\\n', outcome: 'ok' }).inc();
  requests.cell({ route: 'b', outcome: 'reset' });
  t.same([...requests.sampleLines()], ['x_requests_total{route="say \\"hi\\"\\\\\\n",outcome="ok"} 1\n', 'x_requests_total{route="b",outcome="reset"} 0\n']);
});

t.test('cellsBy finds the cells differing in one label, sharing them with cell()', async (t) => {
  const { requests } = counter();
  const byOutcome = requests.cellsBy({ route: 'api' }, 'outcome');
  const reset = byOutcome('reset');
  t.equal(byOutcome('reset'), reset);
  t.equal(requests.cell({ route: 'api', outcome: 'reset' }), reset, 'one series, whichever way it is reached');
  t.same(reset.labels, { route: 'api', outcome: 'reset' });
});

t.test('reset (Registry.resetMetrics) sets every series back to 0 and keeps it exported', async (t) => {
  const { registry, requests } = counter();
  const cell = requests.cell({ route: 'api', outcome: 'ok' });
  cell.inc();
  registry.resetMetrics();
  t.equal(cell.value, 0);
  const json = await registry.getMetricsAsJSON();
  t.same(json.map((m) => [m.name, m.type, m.values]), [['x_requests_total', 'counter', [{ labels: { route: 'api', outcome: 'ok' }, value: 0 }]]]);
});
