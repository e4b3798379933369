// A scrape renders the registry a slice at a time (exposition.ts) and scrapes share renders (shared-render.ts): the
// text must be what prom-client's registry.metrics() gives, and every scrape must show the counts made before it.
import t from 'tap';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { renderExposition } from '../../../proxy/telemetry/exposition.js';
import { HotCounter } from '../../../proxy/telemetry/hot-counter.js';
import { HotGauge } from '../../../proxy/telemetry/hot-gauge.js';
import { HotHistogram } from '../../../proxy/telemetry/hot-histogram.js';
import { ScrapedGauge } from '../../../proxy/telemetry/scraped-gauge.js';
import { SharedRender } from '../../../proxy/telemetry/shared-render.js';

const text = async (registry: Registry) => Buffer.concat((await renderExposition(registry)).chunks).toString();

/** A registry with every kind of metric the proxy registers, `routes` series deep, with labels that need escaping. */
function populated(routes: number) {
  const registry = new Registry();
  const requests = new HotCounter({ name: 'x_requests_total', help: 'Requests, "quoted" and \\ escaped\nhelp.', labelNames: ['route', 'outcome'] as const, registers: [registry] });
  const duration = new HotHistogram({ name: 'x_duration_seconds', help: 'Durations.', labelNames: ['route'] as const, buckets: [0.01, 0.1, 1], registers: [registry] });
  const state = new HotGauge({ name: 'x_state', help: 'State.', labelNames: ['route', 'state'] as const, registers: [registry] });
  new ScrapedGauge({ name: 'x_active', help: 'Active.', labelNames: ['route'] as const, registers: [registry], read: () => [[{ route: 'a' }, 2]] });
  const timeouts = new Counter({ name: 'x_timeouts_total', help: 'Timeouts.', labelNames: ['route'] as const, registers: [registry] });
  new Gauge({ name: 'x_generation', help: 'Generation.', registers: [registry] }).set(3);
  new Histogram({ name: 'x_gc_seconds', help: 'GC.', labelNames: ['kind'] as const, buckets: [0.001, 0.01], registers: [registry] }).observe({ kind: 'minor' }, 0.002);
  const names = ['plain', 'with "quotes"', 'back\\slash', 'new\nline', ...Array.from({ length: routes }, (_, i) => `r${i}`)];
  for (const [i, route] of names.entries()) {
    requests.cell({ route, outcome: 'ok' }).value = i;
    duration.cell({ route }).observe(i / 100);
    state.set({ route, state: 'closed' }, 1);
    timeouts.inc({ route }, i % 3);
  }
  return { registry, requests: requests.cell({ route: 'plain', outcome: 'ok' }) };
}

t.test('the text is prom-client\'s, family by family, without the blank lines between families', async (t) => {
  const { registry } = populated(20);
  const expected = (await registry.metrics()).replace(/\n\n/g, '\n');
  t.equal(await text(registry), expected);
  t.match(expected, /x_requests_total\{route="with \\"quotes\\"",outcome="ok"\} 1\n/, 'label values are escaped');
  t.match(expected, /x_duration_seconds_bucket\{le="\+Inf",route="new\\nline"\} 1\n/);
});

t.test('a large registry is rendered in slices, letting other callbacks run between them', async (t) => {
  const { registry } = populated(20_000);
  let turnsDuringRender = 0;
  let rendering = true;
  const countTurn = () => {
    turnsDuringRender++;
    if (rendering) setImmediate(countTurn);
  };
  setImmediate(countTurn);
  const exposition = await renderExposition(registry);
  rendering = false;
  t.ok(exposition.chunks.length > 1, `rendered in ${exposition.chunks.length} chunks`);
  t.ok(turnsDuringRender > 1, `other callbacks ran ${turnsDuringRender} times during the render`);
  t.equal(exposition.bytes, exposition.chunks.reduce((n, c) => n + c.length, 0), 'bytes is the length of the text');
  t.equal(Buffer.concat(exposition.chunks).toString(), (await registry.metrics()).replace(/\n\n/g, '\n'));
});

t.test('concurrent scrapes share renders, and each shows the counts made before it arrived', async (t) => {
  const { registry, requests } = populated(5000);
  const shared = new SharedRender(registry);
  const line = (exposition: { chunks: readonly Buffer[] }) =>
    /x_requests_total\{route="plain",outcome="ok"\} (\d+)/.exec(Buffer.concat(exposition.chunks).toString())?.[1];
  requests.value = 1;
  const first = shared.render();
  await new Promise((resolve) => setImmediate(resolve)); // the first render has done a slice, "plain" (listed first) in it
  requests.value = 2; // counted during the first render, before the other scrapes arrived
  const others = Array.from({ length: 5 }, () => shared.render());
  t.equal(new Set(others).size, 1, 'the scrapes that arrived during a render share the next one');
  const [firstText, ...otherTexts] = await Promise.all([first, ...others]);
  t.equal(line(firstText!), '1');
  for (const other of otherTexts) t.equal(line(other), '2', 'a scrape shows the count made before it arrived');
  const expected = (await registry.metrics()).replace(/\n\n/g, '\n');
  t.equal(Buffer.concat(otherTexts[0]!.chunks).toString(), expected, 'the shared text is complete');
  t.not(await shared.render(), others[0], 'a scrape after the renders end starts a fresh one');
});
