/**
 * Validates rendered objects: core kinds against the Kubernetes OpenAPI schemas (kubernetes-models), and the
 * prometheus-operator kinds, which have no model, by their required shape.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Service } from 'kubernetes-models/v1/Service';
import type { Manifest } from './helm.js';

type Model = new (data: never) => { validate(): void };

/** Every kind the chart may render. All are namespaced: the chart creates nothing cluster-scoped. */
const MODELS: Record<string, Model> = {
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Pod': Pod,
  'v1/Service': Service,
};

const PROM_DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

function isStringMap(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string');
}

function checkMetricsEndpoints(endpoints: unknown, where: string): string[] {
  if (!Array.isArray(endpoints) || endpoints.length === 0) return [`${where} must be a non-empty list`];
  return endpoints.flatMap((endpoint: Record<string, unknown>, i) => [
    ...(typeof endpoint.port === 'string' && endpoint.port ? [] : [`${where}[${i}].port must be a port name`]),
    ...(typeof endpoint.path === 'string' && endpoint.path.startsWith('/') ? [] : [`${where}[${i}].path must start with /`]),
    ...(endpoint.interval === undefined || PROM_DURATION.test(String(endpoint.interval))
      ? [] : [`${where}[${i}].interval ${String(endpoint.interval)} is not a Prometheus duration`]),
  ]);
}

function checkSelector(spec: Record<string, unknown>): string[] {
  const selector = spec.selector as { matchLabels?: unknown } | undefined;
  return selector && isStringMap(selector.matchLabels) ? [] : ['spec.selector.matchLabels must map label names to strings'];
}

function checkRules(spec: Record<string, unknown>): string[] {
  const groups = spec.groups;
  if (!Array.isArray(groups) || groups.length === 0) return ['spec.groups must be a non-empty list'];
  return groups.flatMap((group: Record<string, unknown>, g) => {
    const rules = group.rules;
    const where = `spec.groups[${g}]`;
    if (typeof group.name !== 'string' || !group.name) return [`${where}.name is required`];
    if (!Array.isArray(rules) || rules.length === 0) return [`${where}.rules must be a non-empty list`];
    return rules.flatMap((rule: Record<string, unknown>, r) => {
      const at = `${where}.rules[${r}]`;
      return [
        ...(typeof rule.alert === 'string' || typeof rule.record === 'string' ? [] : [`${at} needs alert or record`]),
        ...(typeof rule.expr === 'string' && rule.expr.trim() ? [] : [`${at}.expr must be a non-empty string`]),
        ...(rule.for === undefined || PROM_DURATION.test(String(rule.for)) ? [] : [`${at}.for is not a Prometheus duration`]),
        ...(rule.labels === undefined || isStringMap(rule.labels) ? [] : [`${at}.labels must map to strings`]),
        ...(rule.annotations === undefined || isStringMap(rule.annotations) ? [] : [`${at}.annotations must map to strings`]),
      ];
    });
  });
}

/** Hand-written shape checks for monitoring.coreos.com/v1 kinds; returns the problems found. */
const MONITORING_CHECKS: Record<string, (spec: Record<string, unknown>) => string[]> = {
  PodMonitor: (spec) => [...checkSelector(spec), ...checkMetricsEndpoints(spec.podMetricsEndpoints, 'spec.podMetricsEndpoints')],
  ServiceMonitor: (spec) => [...checkSelector(spec), ...checkMetricsEndpoints(spec.endpoints, 'spec.endpoints')],
  PrometheusRule: checkRules,
};

/** Throws naming the object and the problem when the manifest does not validate. */
export function validateManifest(manifest: Manifest): void {
  const id = `${manifest.kind}/${manifest.metadata?.name}`;
  if (manifest.apiVersion === 'monitoring.coreos.com/v1') {
    const check = MONITORING_CHECKS[manifest.kind];
    if (!check) throw new Error(`${id}: no shape check for monitoring.coreos.com/v1 ${manifest.kind}`);
    if (!manifest.metadata?.name) throw new Error(`${id}: metadata.name is required`);
    const problems = check((manifest.spec ?? {}) as Record<string, unknown>);
    if (problems.length > 0) throw new Error(`${id}: ${problems.join('; ')}`);
    return;
  }
  const Model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
  if (!Model) throw new Error(`${id}: ${manifest.apiVersion} ${manifest.kind} is not a kind this chart is expected to render`);
  try {
    new Model(manifest as never).validate();
  } catch (err) {
    throw new Error(`${id} does not match the Kubernetes schema: ${(err as Error).message}`);
  }
}
