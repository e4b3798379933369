/**
 * The chart's values.schema.json checks the policy with the policy schema itself (generated into it by npm run
 * generate), so `helm install` refuses a typo or a wrong type anywhere in the policy, not only at its top level.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse, stringify } from 'yaml';
import { chartDir, render, renderError } from './helm.js';

const dir = mkdtempSync(join(tmpdir(), 'breakwater-chart-schema-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

type Route = Record<string, unknown>;
const defaults = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as { breakwater: { policy: { listeners: Array<{ routes: Route[] }> } } };

/** A values file whose policy is the chart's default with its first route changed. */
function valuesWithRoute(change: (route: Route) => void): string {
  const policy = structuredClone(defaults.breakwater.policy);
  change(policy.listeners[0]!.routes[0]!);
  const file = join(dir, `values-${Math.random().toString(36).slice(2)}.yaml`);
  // YAML 1.1, as Helm reads it: the `on` key comes out quoted rather than as the boolean true.
  writeFileSync(file, stringify({ breakwater: { policy } }, { version: '1.1' }));
  return file;
}

t.test('a typo inside a route fails the install, naming its path', async (t) => {
  const error = renderError({ valuesFiles: [valuesWithRoute((route) => (route.retyr = route.retry))] });
  t.match(error, /breakwater\/policy\/listeners\/0\/routes\/0/);
  t.match(error, /retyr/);
});

t.test('a duration given as a number fails; a hedge as the schema describes it renders', async (t) => {
  t.match(renderError({ valuesFiles: [valuesWithRoute((route) => (route.timeout = 3))] }), /routes\/0\/timeout/);
  t.ok(render({ valuesFiles: [valuesWithRoute((route) => (route.hedge = { delay: 'p99', maxAttempts: 2 }))] }).length > 0);
});
