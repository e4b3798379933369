// HotHistogram replaces prom-client's Histogram on the request path, so a scrape must read exactly what prom-client's
// own Histogram would export for the same observations.
import t from 'tap';
import { Histogram, Registry } from 'prom-client';
import { HotHistogram } from '../../../proxy/telemetry/hot-histogram.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVATIONS: Array<[string, number]> = [
  ['a', 0.0005],
  ['a', 0.001], // on a bound: counted in that bucket (le is "less than or equal")
  ['a', 0.05],
  ['b', 3], // above every bound: only +Inf
  ['a', 0.2],
  ['b', 0.01],
];

function registries() {
  const reference = new Registry();
  const hot = new Registry();
  const config = { name: 'x_duration_seconds', help: 'Durations.', labelNames: ['route'] as const, buckets: BUCKETS };
  const histogram = new Histogram({ ...config, registers: [reference] });
  const hotHistogram = new HotHistogram({ ...config, registers: [hot] });
  const cells = new Map(['a', 'b'].map((route) => [route, hotHistogram.cell({ route })]));
  return {
    reference,
    hot,
    observe(route: string, value: number) {
      histogram.labels({ route }).observe(value);
      cells.get(route)!.observe(value);
    },
  };
}

t.test('the text exposition equals prom-client Histogram for the same observations', async (t) => {
  const { reference, hot, observe } = registries();
  for (const [route, value] of OBSERVATIONS) observe(route, value);
  t.equal(await hot.metrics(), await reference.metrics());
  t.match(await hot.metrics(), /x_duration_seconds_bucket\{le="0.001",route="a"\} 2\n/, 'le is inclusive');
  t.match(await hot.metrics(), /x_duration_seconds_bucket\{le="\+Inf",route="b"\} 2\n/);
  t.match(await hot.metrics(), /x_duration_seconds_count\{route="a"\} 4\n/);
});

t.test('the JSON form carries the same series and values', async (t) => {
  const { reference, hot, observe } = registries();
  for (const [route, value] of OBSERVATIONS) observe(route, value);
  const series = async (registry: Registry) =>
    (await registry.getMetricsAsJSON()).map(({ name, type, values }) => ({
      name,
      type,
      values: values.map((value) => ({ ...value, exemplar: undefined })),
    }));
  t.same(await series(hot), await series(reference));
});

t.test('the registered metric names its labels, as prom-client metrics do', async (t) => {
  const { hot } = registries();
  t.same((hot.getSingleMetric('x_duration_seconds') as unknown as { labelNames: string[] }).labelNames, ['route']);
});

t.test('resetMetrics() zeroes every series', async (t) => {
  const { hot, observe } = registries();
  for (const [route, value] of OBSERVATIONS) observe(route, value);
  hot.resetMetrics();
  const text = await hot.metrics();
  t.match(text, /x_duration_seconds_count\{route="a"\} 0\n/);
  t.notMatch(text, /_bucket\{[^}]*\} [1-9]/, 'no bucket keeps a count');
  observe('a', 0.05);
  t.match(await hot.metrics(), /x_duration_seconds_count\{route="a"\} 1\n/, 'counting goes on after a reset');
});
