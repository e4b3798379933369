// The Grafana dashboard and the alert rules query metrics the proxy really exports, with labels it really sets.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Metric } from 'prom-client';
import { Metrics } from '../../../proxy/telemetry/metrics.js';
import { chartDir, RELEASE, render } from './helm.js';
import { find } from './manifests.js';

/** Labels Prometheus adds from the scrape target, not the exporter. */
const TARGET_LABELS = new Set(['namespace', 'pod', 'job', 'instance']);
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

const exported = new Metrics().registry;

function metricLabels(series: string): { base: string; labels: Set<string> } | undefined {
  const suffix = HISTOGRAM_SUFFIXES.find((s) => series.endsWith(s) && exported.getSingleMetric(series.slice(0, -s.length)));
  const base = suffix ? series.slice(0, -suffix.length) : series;
  const metric = exported.getSingleMetric(base) as (Metric & { labelNames?: string[] }) | undefined;
  if (!metric) return undefined;
  return { base, labels: new Set([...(metric.labelNames ?? []), ...(suffix === '_bucket' ? ['le'] : [])]) };
}

/** Problems with one PromQL expression: unknown metrics, and labels (matchers, by/without) no metric in it has. */
function queryProblems(expr: string): string[] {
  const problems: string[] = [];
  const series = [...new Set(expr.match(/\bbreakwater_\w+/g) ?? [])];
  if (series.length === 0) problems.push(`no breakwater metric in: ${expr}`);
  const known = series.map((name) => ({ name, info: metricLabels(name) }));
  for (const { name, info } of known) if (!info) problems.push(`${name} is not exported`);
  const available = new Set([...TARGET_LABELS, ...known.flatMap(({ info }) => [...(info?.labels ?? [])])]);
  const used = [
    ...[...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) => [...m[1]!.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]!)),
    ...[...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim()).filter(Boolean)),
  ];
  for (const label of used) if (!available.has(label)) problems.push(`label ${label} is not on ${series.join(', ')}`);
  return problems;
}

t.test('the query checker itself flags unknown metrics and labels', async (t) => {
  t.same(queryProblems('sum by (route) (rate(breakwater_requests_total{status_class="2xx"}[5m]))'), []);
  t.match(queryProblems('rate(breakwater_nonexistent_total[5m])'), [/breakwater_nonexistent_total is not exported/]);
  t.match(queryProblems('sum by (colour) (breakwater_circuit_state)'), [/label colour is not on breakwater_circuit_state/]);
});

interface Panel { type: string; id: number; title: string; datasource?: { uid: string }; targets?: Array<{ expr: string; datasource?: { uid: string } }> }

t.test('Grafana dashboard: stable uid, datasource variable, real metrics', async (t) => {
  const manifests = render();
  const configMap = find(manifests, 'ConfigMap', `${RELEASE}-dashboard`);
  t.equal(configMap.metadata.labels?.grafana_dashboard, '1', 'labelled for the Grafana dashboard sidecar');
  const files = configMap.data as Record<string, string>;
  t.same(Object.keys(files), ['breakwater.json'], 'one dashboard per ConfigMap');
  const dashboard = JSON.parse(files['breakwater.json']!) as { uid: string; panels: Panel[]; templating: { list: Array<{ name: string; type: string; query: unknown }> } };
  t.same(dashboard, JSON.parse(readFileSync(join(chartDir, 'dashboards', 'breakwater.json'), 'utf8')), 'shipped verbatim');
  t.equal(dashboard.uid, 'breakwater-overview');
  t.match(dashboard.templating.list.find((v) => v.name === 'datasource'), { type: 'datasource', query: 'prometheus' });

  const panels = dashboard.panels.filter((p) => p.type !== 'row');
  t.equal(new Set(dashboard.panels.map((p) => p.id)).size, dashboard.panels.length, 'panel ids are unique');
  const queried = new Set<string>();
  for (const panel of panels) {
    t.equal(panel.datasource?.uid, '${datasource}', `${panel.title}: datasource is the variable`);
    for (const target of panel.targets ?? []) {
      t.equal(target.datasource?.uid, '${datasource}', `${panel.title}: target datasource is the variable`);
      t.same(queryProblems(target.expr), [], `${panel.title}: ${target.expr}`);
      for (const name of target.expr.match(/\bbreakwater_\w+/g) ?? []) queried.add(name);
    }
  }
  for (const needed of [
    'breakwater_requests_total', 'breakwater_request_duration_seconds_bucket', 'breakwater_retries_total',
    'breakwater_circuit_state', 'breakwater_bulkhead_queued', 'breakwater_bulkhead_rejected_total',
    'breakwater_endpoint_ejections_total',
  ]) t.ok(queried.has(needed), `a panel shows ${needed}`);
});

t.test('alert rules query real metrics and labels', async (t) => {
  const manifests = render({ set: ['metrics.prometheusRule.enabled=true'] });
  const spec = find(manifests, 'PrometheusRule', RELEASE).spec as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  for (const rule of spec.groups.flatMap((g) => g.rules)) {
    t.same(queryProblems(rule.expr), [], `${rule.alert}: ${rule.expr}`);
  }
});

/** A closed circuit (state="open" at 0) next to one open for 10 minutes; counters growing 1/s and 10/s. */
const ALERT_SCENARIO = {
  evaluation_interval: '1m',
  tests: [{
    interval: '1m',
    input_series: [
      { series: 'breakwater_circuit_state{namespace="breakwater-demo",pod="c1",route="api",state="open"}', values: '1x10' },
      { series: 'breakwater_circuit_state{namespace="breakwater-demo",pod="c1",route="orders",state="open"}', values: '0x10' },
      { series: 'breakwater_retry_budget_exhausted_total{namespace="breakwater-demo",pod="c1",route="api"}', values: '0+60x15' },
      { series: 'breakwater_bulkhead_rejected_total{namespace="breakwater-demo",pod="c1",scope="upstream",name="backend",reason="full"}', values: '0+600x15' },
      // Two requests failed by Breakwater itself at 3m; none of another route's, which only ever succeed.
      { series: 'breakwater_requests_total{namespace="breakwater-demo",pod="c1",route="api",status_class="5xx",outcome="internal-error"}', values: '0 0 0 2 2 2 2 2 2 2 2 2 2 2 2' },
      { series: 'breakwater_requests_total{namespace="breakwater-demo",pod="c1",route="orders",status_class="2xx",outcome="ok"}', values: '0+100x15' },
    ],
    alert_rule_test: [
      { eval_time: '1m', alertname: 'BreakwaterCircuitOpenTooLong', exp_alerts: [] },
      {
        eval_time: '5m', alertname: 'BreakwaterCircuitOpenTooLong',
        exp_alerts: [{
          exp_labels: { namespace: 'breakwater-demo', pod: 'c1', route: 'api', severity: 'warning' },
          exp_annotations: {
            summary: 'Circuit of route api open for over 2m',
            description: 'Breakwater in pod c1 has short-circuited route api (answering with its fallback) for over 2m: its upstream keeps failing.',
          },
        }],
      },
      {
        eval_time: '12m', alertname: 'BreakwaterRetryBudgetExhausted',
        exp_alerts: [{
          exp_labels: { namespace: 'breakwater-demo', pod: 'c1', route: 'api', severity: 'warning' },
          exp_annotations: {
            summary: 'Retry budget of route api exhausted',
            description: 'Route api in pod c1 wants more retries than its budget allows (1/s refused): failures are not transient, retries would only add load.',
          },
        }],
      },
      {
        eval_time: '12m', alertname: 'BreakwaterBulkheadRejections',
        exp_alerts: [{
          exp_labels: { namespace: 'breakwater-demo', pod: 'c1', scope: 'upstream', name: 'backend', severity: 'warning' },
          exp_annotations: {
            summary: 'Bulkhead upstream/backend rejects requests',
            description: 'Breakwater in pod c1 rejects 10/s at bulkhead upstream/backend: the upstream is slower than the load, or the limits are too low.',
          },
        }],
      },
      { eval_time: '2m', alertname: 'BreakwaterInternalErrors', exp_alerts: [] },
      {
        eval_time: '4m', alertname: 'BreakwaterInternalErrors',
        exp_alerts: [{
          exp_labels: { namespace: 'breakwater-demo', pod: 'c1', route: 'api', severity: 'critical' },
          exp_annotations: {
            summary: 'Breakwater failed requests of route api by a fault of its own',
            description: 'Breakwater in pod c1 answered 2 requests of route api with 500 in 5m for an error of its own (outcome internal-error), not the upstream\'s: its log has each as "unexpected error while serving a request". Please report it.',
          },
        }],
      },
      { eval_time: '12m', alertname: 'BreakwaterInternalErrors', exp_alerts: [] },
    ],
  }],
};

t.test('alerts fire when they should and not before (promtool test rules)', async (t) => {
  if (spawnSync('promtool', ['--version']).error) {
    if (process.env.CI) t.fail('promtool is missing; .ci/run installs it (Debian package prometheus)');
    else t.comment('promtool not installed here; CI installs it');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'breakwater-alerts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rule = find(render({ set: ['metrics.prometheusRule.enabled=true'] }), 'PrometheusRule', RELEASE);
  writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: (rule.spec as { groups: unknown }).groups }));
  writeFileSync(join(dir, 'tests.yaml'), stringify({ rule_files: ['rules.yaml'], ...ALERT_SCENARIO }));
  const checked = spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yaml')], { encoding: 'utf8', timeout: 30_000 });
  t.equal(checked.status, 0, `promtool check rules:\n${checked.stdout}${checked.stderr}`);
  const tested = spawnSync('promtool', ['test', 'rules', 'tests.yaml'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  t.equal(tested.status, 0, `promtool test rules:\n${tested.stdout}${tested.stderr}`);
});
