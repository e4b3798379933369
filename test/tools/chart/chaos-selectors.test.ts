// The Kubernetes chaos experiments (chaos/k8s) must hit the pods this chart creates: every label selector they use
// selects a rendered pod template, in the namespace the docs install into.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { NAMESPACE, render, repoRoot } from './helm.js';
import { podTemplate, workloads } from './manifests.js';

const chaosDir = join(repoRoot, 'chaos', 'k8s');

function experimentFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return experimentFiles(path);
    return /\.(ya?ml|json)$/.test(entry.name) ? [path] : [];
  });
}

/** Label selectors in an experiment: Chaos Mesh `labelSelectors` maps and "k=v,k=v" selector strings (Chaos Toolkit). */
function selectorsIn(value: unknown, found: Array<Record<string, string>> = []): Array<Record<string, string>> {
  if (typeof value === 'string' && /^[\w./-]+=[\w.-]+(,[\w./-]+=[\w.-]+)*$/.test(value) && value.includes('app.kubernetes.io/')) {
    found.push(Object.fromEntries(value.split(',').map((pair) => pair.split('=') as [string, string])));
  } else if (Array.isArray(value)) {
    for (const item of value) selectorsIn(item, found);
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'labelSelectors') found.push(item as Record<string, string>);
      else selectorsIn(item, found);
    }
  }
  return found;
}

const files = experimentFiles(chaosDir);
const podLabels = workloads(render()).map((w) => ({ name: w.metadata.name, labels: podTemplate(w).metadata.labels }));

t.ok(files.length > 0, `chaos/k8s holds experiments: ${files.length}`);
for (const file of files) {
  t.test(file.slice(repoRoot.length), async (t) => {
    const document = parse(readFileSync(file, 'utf8')) as unknown;
    const selectors = selectorsIn(document);
    t.ok(selectors.length > 0, 'names the pods it disturbs by label selector');
    for (const selector of selectors) {
      const selected = podLabels.filter((pod) => Object.entries(selector).every(([k, v]) => pod.labels[k] === v));
      t.ok(selected.length > 0, `${JSON.stringify(selector)} selects: ${selected.map((p) => p.name).join(', ') || 'nothing'}`);
      t.ok(selected.every((pod) => pod.labels['app.kubernetes.io/component'] !== 'test'), 'never the helm test pod');
    }
    const text = readFileSync(file, 'utf8');
    if (/namespace/.test(text)) t.match(text, NAMESPACE, `targets namespace ${NAMESPACE}`);
  });
}
